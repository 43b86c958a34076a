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
    "learned",
)
# "learned": sumy's TextRank, LexRank and Reduction scores fused by a sentence scorer learned
# from reference summaries; it beats each of them alone (see the README's figures).
DEFAULT_SUMMARIZER = "learned"
DEFAULT_SENTENCES = 3

#: Bytes of text kept per article unless configured; the rest is dropped with a warning.
MAX_ARTICLE_BYTES = 5_000_000
