"""What a user chooses between (input formats, summarisers) and the defaults, without imports.

The command line declares its options with these; importing the modules that implement them
(sumy, numpy, NLTK, the readers) took most of a second on every command, even on those that
only read the index.
"""

#: Input formats ``archive.readers`` reads; ``auto`` goes by the file's extension.
FORMATS = ("auto", "txt", "csv", "jsonl")

#: Every summariser ``archive.summarize.summarize`` knows (a test keeps the two in step).
SUMMARIZERS: tuple[str, ...] = (
    "lexrank",
    "textrank",
    "lsa",
    "luhn",
    "sumbasic",
    "kl",
    "reduction",
    "edmundson",
)
# Luhn: the fastest, and of the summarisers that need only the text, the one whose summaries
# of stripped text agree best with those of the original (see the README's figures).
DEFAULT_SUMMARIZER = "luhn"
DEFAULT_SENTENCES = 3
