"""Extractive summaries with sumy, over sentences from archive.segment."""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass

from numpy.linalg import LinAlgError
from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
from sumy.nlp.stemmers import Stemmer
from sumy.summarizers.edmundson import EdmundsonSummarizer
from sumy.summarizers.kl import KLSummarizer
from sumy.summarizers.lex_rank import LexRankSummarizer
from sumy.summarizers.lsa import LsaSummarizer
from sumy.summarizers.luhn import LuhnSummarizer
from sumy.summarizers.reduction import ReductionSummarizer
from sumy.summarizers.sum_basic import SumBasicSummarizer
from sumy.summarizers.text_rank import TextRankSummarizer
from sumy.utils import get_stop_words

from archive.choices import DEFAULT_SENTENCES, DEFAULT_SUMMARIZER, SUMMARIZERS
from archive.errors import SummaryError
from archive.segment import Segmenter, default_segmenter

LANGUAGE = "english"
# Summarisers that need nothing but a stemmer and stop words.
_PLAIN_SUMMARIZERS = {
    "lexrank": LexRankSummarizer,
    "textrank": TextRankSummarizer,
    "lsa": LsaSummarizer,
    "luhn": LuhnSummarizer,
    "sumbasic": SumBasicSummarizer,
    "kl": KLSummarizer,
    "reduction": ReductionSummarizer,
}
# The graph and reduction summarisers compare every pair of sentences; past this
# many candidates the summary of a long article would take seconds.
MAX_CANDIDATES = 120
_MIN_WORDS = 4
_MAX_WORDS = 80

_TOKEN_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_STOP_WORDS = get_stop_words(LANGUAGE)
# Phrases that mark page furniture rather than reporting; Edmundson's stigma words.
_STIGMA_WORDS = (
    "click subscribe newsletter cookie cookies advertisement sponsored comments comment "
    "share tweet follow copyright reserved"
).split()


class SentenceTokenizer:
    """A sumy tokenizer that needs no downloaded NLTK data."""

    language = LANGUAGE

    def __init__(self, segmenter: Segmenter | None = None) -> None:
        self._segmenter = segmenter

    def to_sentences(self, paragraph: str) -> tuple[str, ...]:
        """Sentences of a paragraph, via the archive segmenter."""
        seg = self._segmenter or default_segmenter()
        return tuple(seg.segment(paragraph).sentences)

    @staticmethod
    def to_words(sentence: str) -> tuple[str, ...]:
        """Word tokens of a sentence (letters and digits, inner apostrophes kept)."""
        return tuple(_TOKEN_RE.findall(sentence))


_TOKENIZER = SentenceTokenizer()
# Snowball stemming is most of a summary's cost and news vocabulary repeats heavily, so the
# stems are cached per process.
_STEMMER = functools.lru_cache(maxsize=200_000)(Stemmer(LANGUAGE))


@dataclass(frozen=True)
class Summary:
    """An extractive summary and how the text was segmented."""

    sentences: list[str]
    summary: str
    segmented: str  # "punkt" | "restored" | "empty"
    note: str | None = None


def _keywords(sentences: list[str], n: int = 10) -> list[str]:
    counts = Counter(
        w.lower()
        for s in sentences
        for w in _TOKEN_RE.findall(s)
        if len(w) > 2 and w.lower() not in _STOP_WORDS and not w.isdigit()
    )
    return [w for w, _ in counts.most_common(n)]


def _build(name: str, sentences: list[str], title: str):
    """A configured sumy summariser for this document."""
    if name == "edmundson":
        title_words = [w for w in _TOKEN_RE.findall(title) if w.lower() not in _STOP_WORDS]
        # Without a title the cue words come from the article's own frequent terms.
        s = EdmundsonSummarizer(_STEMMER, title_weight=1.0 if title_words else 0.0)
        s.bonus_words = (title_words + _keywords(sentences, 5)) or ["news"]
        s.stigma_words = _STIGMA_WORDS
        s.null_words = _STOP_WORDS
        return s
    if name not in _PLAIN_SUMMARIZERS:
        raise SummaryError(f"unknown summariser {name!r}; choose one of {', '.join(SUMMARIZERS)}")
    s = _PLAIN_SUMMARIZERS[name](_STEMMER)
    s.stop_words = _STOP_WORDS
    return s


def _candidates(sentences: list[str]) -> tuple[list[int], str | None]:
    """Indices of sentences worth ranking: de-duplicated, sane length, capped in number."""
    seen: set[str] = set()
    idx = []
    for i, s in enumerate(sentences):
        n = len(_TOKEN_RE.findall(s))
        key = s.lower()
        if key in seen or n == 0:
            continue
        seen.add(key)
        idx.append((i, n))
    good = [i for i, n in idx if _MIN_WORDS <= n <= _MAX_WORDS]
    if not good:
        good = [i for i, _ in idx]
    note = None
    if len(good) > MAX_CANDIDATES:
        # News puts what matters first; keep the opening of very long articles.
        good = good[:MAX_CANDIDATES]
        note = f"only the first {MAX_CANDIDATES} sentences considered"
    return good, note


def summary_length(n_sentences: int, requested: int = DEFAULT_SENTENCES) -> int:
    """How many sentences to extract: at most a third of the text, at least one."""
    if n_sentences <= 0 or requested <= 0:
        return 0
    return max(1, min(requested, n_sentences // 3))


def summarize(
    text: str,
    *,
    summarizer: str = DEFAULT_SUMMARIZER,
    sentences: int = DEFAULT_SENTENCES,
    segmenter: Segmenter | None = None,
    title: str = "",
) -> Summary:
    """Summarise text with the named sumy summariser; never raises on bad text."""
    if summarizer not in SUMMARIZERS:
        raise SummaryError(
            f"unknown summariser {summarizer!r}; choose one of {', '.join(SUMMARIZERS)}"
        )
    if not isinstance(sentences, int) or isinstance(sentences, bool) or sentences < 0:
        raise SummaryError(f"sentence count must be a non-negative integer, not {sentences!r}")
    seg = segmenter or default_segmenter()
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    result = seg.segment(text)
    notes = [result.note] if result.note else []
    if not result.sentences:
        return Summary([], "", result.method, "; ".join(notes) or "no sentences found")
    idx, cap_note = _candidates(result.sentences)
    if cap_note:
        notes.append(cap_note)
    cands = [result.sentences[i] for i in idx]
    count = summary_length(len(cands), sentences)
    if count == 0:
        notes.append("no sentence contains words")
        return Summary([], "", result.method, "; ".join(notes))
    if count >= len(cands):
        chosen = cands
    else:
        tok = SentenceTokenizer(seg)
        doc_sentences = [Sentence(s, tok) for s in cands]
        paragraphs = [Paragraph(doc_sentences)]
        if title.strip():
            paragraphs.insert(0, Paragraph([Sentence(title.strip(), tok, is_heading=True)]))
        doc = ObjectDocumentModel(paragraphs)
        try:
            picked = _build(summarizer, cands, title)(doc, count)
        except (ValueError, ArithmeticError, LinAlgError) as exc:
            # sumy's numeric code can fail on degenerate input; fall back to the lead.
            notes.append(f"{summarizer} failed ({type(exc).__name__}); lead sentences used")
            picked = doc_sentences[:count]
        order = {s: i for i, s in enumerate(doc_sentences)}
        chosen = [str(s) for s in sorted(picked, key=lambda s: order.get(s, 0))]
    if len(chosen) < sentences:
        notes.append(f"short text: {len(chosen)} sentence(s)")
    return Summary(chosen, " ".join(chosen), result.method, "; ".join(notes) or None)
