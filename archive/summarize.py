"""Extractive summaries with sumy, over sentences from archive.segment."""

from __future__ import annotations

import functools
import json
import math
import pathlib
import re
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from itertools import chain

import numpy as np
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
WEIGHTS_PATH = pathlib.Path(__file__).parent / "data" / "summary_weights.json"
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
# A sentence is tokenised when its candidacy is checked and again for its features.
_words = functools.lru_cache(maxsize=1024)(SentenceTokenizer.to_words)
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


# Openers that lean on an earlier sentence: a pronoun, a connective, or "She added:".
_DEPENDENT_RE = re.compile(
    r"^[\"“‘']?(?:(?:he|she|they|it|this|these|those|that|his|her|their|its|but|however|also|"
    r"and|yet|so|meanwhile|moreover|furthermore|nevertheless|instead|still|besides|likewise|"
    r"otherwise|such|then|even so)\b(?!-)|(?:[\w'’-]+\s+){0,3}(?:said|added|says|adds)\s*:)",
    re.IGNORECASE,
)
FEATURES = (
    "position",
    "first",
    "inverse_position",
    "log_length",
    "textrank",
    "textrank_rank",
    "lexrank",
    "lexrank_rank",
    "reduction",
    "reduction_rank",
    "centroid",
    "title_overlap",
    "dependent",
    "open_quote",
    "relative_length",
    "log_sentences",
    "length_share",
    "shared_weight",
    "shared_words",
    "shared_words_scaled",
    "digits",
    "reported_speech",
    "capitals",
    "word_cosine",
    "word_cosine_mean",
    "article_cosine",
    "word_spread",
    *(
        f"{name}_percentile"
        for name in (
            "textrank",
            "lexrank",
            "reduction",
            "centroid",
            "shared_weight",
            "log_length",
            "word_cosine",
            "article_cosine",
            "word_spread",
        )
    ),
)


def is_dependent(sentence: str) -> bool:
    """True when a sentence opens with a word that needs the sentence before it."""
    return bool(_DEPENDENT_RE.match(sentence))


def has_open_quote(sentence: str) -> bool:
    """True when a sentence opens or closes a quotation that it does not finish."""
    return sentence.count('"') % 2 == 1 or sentence.count("“") != sentence.count("”")


def _scaled(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scores over their maximum, and 1/(1+rank) so both scale and order reach the scorer."""
    v = np.asarray(values, dtype=float)
    if not np.isfinite(v).all():  # rare; nan_to_num costs more than the rest together
        v = np.nan_to_num(v)
    top = v.max() if v.size and v.max() > 0 else 1.0
    rank = np.empty(len(v))
    rank[np.argsort(-v, kind="stable")] = np.arange(len(v))
    return v / top, 1.0 / (1.0 + rank)


@functools.lru_cache(maxsize=200_000)
def _content_stem(word: str) -> str | None:
    """A word's stem as sumy's TextRank, LexRank and Reduction see it; None for a stop word."""
    lowered = word.lower()
    return None if lowered in _STOP_WORDS else _STEMMER(lowered)


@functools.lru_cache(maxsize=200_000)
def _content_word(word: str) -> str | None:
    """A word in lower case; None for a stop word."""
    lowered = word.lower()
    return None if lowered in _STOP_WORDS else lowered


def _stems(sentence: str) -> list[str]:
    """A sentence's content-word stems, as sumy's TextRank, LexRank and Reduction see it."""
    return [s for s in map(_content_stem, _TOKEN_RE.findall(sentence)) if s is not None]


def _count_matrix(stems: list[list[str]]) -> tuple[np.ndarray, dict[str, int]]:
    """Stem counts per sentence (one row each) and the column of each stem."""
    flat_stems = list(chain.from_iterable(stems))
    # Columns in order of first appearance; numbering the distinct stems, not every word.
    vocab = dict.fromkeys(flat_stems, 0)
    for i, stem in enumerate(vocab):
        vocab[stem] = i
    cols = np.array(list(map(vocab.__getitem__, flat_stems)), dtype=np.intp)
    rows = np.repeat(np.arange(len(stems), dtype=np.intp), list(map(len, stems)))
    width = len(vocab) or 1
    flat = np.bincount(rows * width + cols, minlength=len(stems) * width)
    return flat.reshape(len(stems), width).astype(float), vocab


def _gram(rows: np.ndarray) -> np.ndarray:
    """Dot products of every pair of rows.

    einsum's own loop rather than BLAS: on matrices this small a threaded BLAS spends more
    CPU time waking its threads than multiplying (the three rankings took 2.5x the CPU time).
    """
    return np.einsum("ik,jk->ij", rows, rows)


def _edges(overlap: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """sumy's TextRank/Reduction edge: shared word pairs over the sum of log lengths."""
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(lengths)
        edge = overlap / (logs[:, None] + logs[None, :])
    return np.where(overlap > 0, edge, 0.0)


def sumy_rankings(stems: list[list[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """TextRank, LexRank and Reduction scores exactly as sumy rates them, from one count matrix.

    sumy compares every pair of sentences word by word in Python, three times; its three
    formulas all start from the sentences' shared stem counts, computed here once.
    """
    return _rankings(_count_matrix(stems)[0])


def _rankings(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """sumy_rankings from the sentences' stem-count matrix."""
    n = len(counts)
    lengths = counts.sum(axis=1)
    overlap = _gram(counts)
    edge = _edges(overlap, lengths)
    # Sentences of one word each: TextRank takes the count, Reduction nothing.
    single = (lengths[:, None] == 1) & (lengths[None, :] == 1)
    weights = np.where(single, overlap, edge)
    weights /= weights.sum(axis=1)[:, None] + TextRankSummarizer._ZERO_DIVISION_PREVENTION
    damping = TextRankSummarizer.damping
    textrank = _power_method(
        np.full((n, n), (1.0 - damping) / n) + damping * weights,
        TextRankSummarizer.epsilon,
        normalise=False,
    )
    reduction = np.where(single, 0.0, edge)
    np.fill_diagonal(reduction, 0.0)
    # LexRank: idf-modified cosine over tf scaled by the sentence's most frequent stem.
    tf = counts / np.maximum(counts.max(axis=1), 1.0)[:, None]
    weighted = tf * np.log(n / (1.0 + (counts > 0).sum(axis=0)))
    norms = np.sqrt((weighted**2).sum(axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        cosine = _gram(weighted) / (norms[:, None] * norms[None, :])
    # A sentence without stems has NaN cosines, which compare as unlinked.
    linked = (cosine > LexRankSummarizer.threshold).astype(float)
    linked /= np.maximum(linked.sum(axis=1), 1.0)[:, None]
    lexrank = _power_method(linked, LexRankSummarizer.epsilon, normalise=True)
    return textrank, lexrank, reduction.sum(axis=1)


def _power_method(matrix: np.ndarray, epsilon: float, normalise: bool) -> np.ndarray:
    """sumy's TextRank (``normalise=False``) and LexRank ``power_method``, step for step.

    The same products in the same order, so the same scores to the last bit; the norm is
    taken as ``numpy.linalg.norm`` takes it of a real vector (the square root of its dot
    product with itself), without that function's checks at every step.
    """
    transposed = matrix.T
    n = len(matrix)
    p_vector = np.array([1.0 / n] * n)
    change = 1.0
    while change > epsilon:
        next_p = np.dot(transposed, p_vector)
        if normalise:
            next_p /= math.sqrt(next_p.dot(next_p))
        step = np.subtract(next_p, p_vector)
        change = math.sqrt(step.dot(step))
        p_vector = next_p
    return p_vector


_DIGIT_RE = re.compile(r"\d")
_QUOTE_OR_SAID_RE = re.compile(r'["“]|\b(?:said|says|told)\b', re.IGNORECASE)
# Each percentile feature's column and the column of the score it ranks.
_PERCENTILE_COLUMNS = [j for j, name in enumerate(FEATURES) if name.endswith("_percentile")]
_PERCENTILE_OF = [
    FEATURES.index(FEATURES[j].removesuffix("_percentile")) for j in _PERCENTILE_COLUMNS
]


def sentence_features(sentences: list[str], title: str = "") -> np.ndarray:
    """One row of FEATURES per sentence: position, length, sumy scores, centrality, title."""
    n = len(sentences)
    tokens = [_words(s) for s in sentences]
    stems = [[s for s in map(_content_stem, ws) if s is not None] for ws in tokens]
    counts, vocab = _count_matrix(stems)
    columns = [_scaled(scores) for scores in _rankings(counts)]
    # Which sentences hold each stem: centrality counts sentences, not repeats.
    present = (counts > 0).astype(float)
    tf = present.sum(axis=0)
    norm = math.sqrt(float(tf @ tf)) or 1.0
    distinct = present.sum(axis=1)
    tf_sum = present @ tf
    title_cols = {vocab[w] for w in _stems(title) if w in vocab}
    title_size = len(set(_stems(title)))
    lengths = np.array([len(ws) for ws in tokens], dtype=float)
    log_lengths = np.log1p(lengths)
    # Stems that other sentences repeat: what the article keeps coming back to.
    shared = present @ (tf > 1).astype(float)
    position = np.arange(n, dtype=float)
    features = np.empty((n, len(FEATURES)))
    features[:, 0] = position / max(1, n - 1)
    features[:, 1] = position == 0
    features[:, 2] = 1.0 / (position + 1)
    features[:, 3] = log_lengths
    for j, (scaled, rank) in enumerate(columns):
        features[:, 4 + 2 * j] = scaled
        features[:, 5 + 2 * j] = rank
    with np.errstate(divide="ignore", invalid="ignore"):
        features[:, 10] = np.where(distinct > 0, tf_sum / (norm * np.sqrt(distinct)), 0.0)
    features[:, 11] = present[:, sorted(title_cols)].sum(axis=1) / title_size if title_size else 0.0
    features[:, 12] = [is_dependent(s) for s in sentences]
    features[:, 13] = [has_open_quote(s) for s in sentences]
    features[:, 14] = log_lengths - log_lengths.mean()
    features[:, 15] = math.log(n)
    features[:, 16] = lengths / (lengths.sum() or 1.0)
    features[:, 17] = np.log1p(tf_sum)
    features[:, 18] = np.log1p(shared)
    features[:, 19] = shared / (shared.max() or 1.0)
    features[:, 20] = [_DIGIT_RE.search(s) is not None for s in sentences]
    features[:, 21] = [_quotes_or_reports(s) for s in sentences]
    features[:, 22] = [_capitals(s) for s in sentences]
    features[:, 23:27] = _word_similarities(tokens)
    # Where each score stands within its own article: the choice is made within one article.
    order = np.argsort(-features[:, _PERCENTILE_OF], axis=0, kind="stable")
    percentiles = np.empty((n, len(_PERCENTILE_OF)))
    np.put_along_axis(percentiles, order, (np.arange(n) / max(1, n - 1))[:, None], axis=0)
    features[:, _PERCENTILE_COLUMNS] = percentiles
    return features


def _zero_nan(values: np.ndarray) -> np.ndarray:
    """The array with NaN (0/0 for a sentence without words) set to 0, in place."""
    values[np.isnan(values)] = 0.0
    return values


def _word_similarities(tokens: list[tuple[str, ...]]) -> np.ndarray:
    """Cosine similarity over whole words (not stems) with the other sentences and the article.

    Columns: summed cosine with the other sentences over the article's largest, the same
    over the number of other sentences, cosine with the whole article's word counts, and
    the mean number of sentences that share each of its words over the article's largest.
    """
    words = [[w for w in map(_content_word, ws) if w is not None] for ws in tokens]
    counts, _ = _count_matrix(words)
    norms = np.sqrt((counts**2).sum(axis=1))
    article = counts.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        cosine = _zero_nan(_gram(counts) / (norms[:, None] * norms[None, :]))
        np.fill_diagonal(cosine, 0.0)
        summed = cosine.sum(axis=1)
        to_article = _zero_nan((counts @ article) / (norms * math.sqrt(article @ article)))
        spread = _zero_nan((counts @ (counts > 0).sum(axis=0)) / counts.sum(axis=1))
    return np.column_stack(
        [
            summed / max(summed.max(), 1e-9),
            summed / max(1, len(words) - 1),
            to_article,
            spread / max(spread.max(), 1e-9),
        ]
    )


def _quotes_or_reports(sentence: str) -> bool:
    """True when a sentence has a double quote or says, said or told (any case)."""
    # The pattern scans slowly; most sentences lack all three words, which in ASCII text
    # (where ignoring case is lower-casing) a substring test rules out first.
    if sentence.isascii() and '"' not in sentence:
        lowered = sentence.lower()
        if "said" not in lowered and "says" not in lowered and "told" not in lowered:
            return False
    return _QUOTE_OR_SAID_RE.search(sentence) is not None


def _capitals(sentence: str) -> float:
    """Share of a sentence's words after the first that start with a capital (names)."""
    words = sentence.split()
    return sum(map(str.isupper, [w[0] for w in words[1:]])) / max(1, len(words))


@functools.cache
def _weights() -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    """The shipped scorer: mean, scale, weights, intercept and the power of length in value."""
    try:
        data = json.loads(WEIGHTS_PATH.read_text(encoding="utf-8"))
        if tuple(data["features"]) != FEATURES:
            raise ValueError("feature list differs from this code's")
        return (
            np.asarray(data["mean"], dtype=float),
            np.asarray(data["scale"], dtype=float),
            np.asarray(data["weights"], dtype=float),
            float(data["bias"]),
            float(data["length_power"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SummaryError(f"cannot load the summary scorer {WEIGHTS_PATH}: {exc}") from exc


def sentence_probabilities(features: np.ndarray) -> np.ndarray:
    """The learned scorer's probability that each sentence belongs in a summary."""
    mean, scale, weights, bias, _ = _weights()
    z = ((features - mean) / scale) @ weights + bias
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


def select_sentences(
    values: np.ndarray, sentences: list[str], count: int, doubtful: Collection[int] = ()
) -> list[int]:
    """The count sentences of greatest total value, in document order, opening coherently.

    The summary's first sentence is the article's first or one that does not lean on the
    sentence before it; doubtful sentences (restored text, whose start may be mid-clause)
    do not open either.  Only the opener is constrained, so the best set is exact: for each
    allowed opener, it plus the count-1 most valuable sentences after it.
    """
    values = np.asarray(values, dtype=float)
    n = len(values)
    count = min(count, n)
    if count <= 0:
        return []
    best_total, best_first = -math.inf, 0
    for first in range(n - count + 1):
        text = sentences[first]
        if first and (is_dependent(text) or has_open_quote(text) or first in doubtful):
            continue
        rest = np.sort(values[first + 1 :])[::-1][: count - 1]
        total = float(values[first] + rest.sum())
        if total > best_total:
            best_total, best_first = total, first
    first = best_first
    after = np.argsort(-values[first + 1 :], kind="stable")[: count - 1] + first + 1
    return sorted([first, *(int(i) for i in after)])


def _learned(
    sentences: list[str], count: int, title: str, doubtful: Collection[int] = ()
) -> list[int]:
    """Indices picked by the learned scorer, weighing each sentence by its expected words."""
    features = sentence_features(sentences, title)
    lengths = np.expm1(features[:, FEATURES.index("log_length")])
    # References are long, so at a few sentences recall rules F1: expected words in common,
    # with length damped (power under 1) because long sentences also cost precision.
    values = sentence_probabilities(features) * lengths ** _weights()[4]
    return select_sentences(values, sentences, count, doubtful)


def _candidates(sentences: list[str], title: str = "") -> tuple[list[int], str | None]:
    """Indices of sentences worth ranking: de-duplicated, sane length, not the title, capped."""
    # A title that the segmenter ran into the body is a heading, never a summary sentence.
    seen: set[str] = {" ".join(_TOKEN_RE.findall(title)).lower()}
    idx = []
    for i, s in enumerate(sentences):
        words = _words(s)
        n = len(words)
        key = " ".join(words).lower()
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


def split_heading(text: str) -> tuple[str, str]:
    """A title line standing alone above the body (as in the corpus files), and the body."""
    head, sep, body = text.lstrip().partition("\n")
    if sep and body.strip() and len(head.split()) <= 25 and not head.rstrip().endswith("."):
        return head.strip(), body
    return "", text


def summary_length(n_sentences: int, requested: int | None = None) -> int:
    """Sentences to extract: as many as asked, else the default up to a third of the text."""
    if requested is not None:
        return max(0, min(requested, n_sentences))
    if n_sentences <= 0:
        return 0
    return max(1, min(DEFAULT_SENTENCES, n_sentences // 3))


def summarize(
    text: str,
    *,
    summarizer: str = DEFAULT_SUMMARIZER,
    sentences: int | None = None,
    segmenter: Segmenter | None = None,
    title: str = "",
) -> Summary:
    """Summarise text with the named summariser; never raises on bad text.

    sentences=None gives the default length, capped at a third of the text; a number is honoured
    up to the text's length.
    """
    if summarizer not in SUMMARIZERS:
        raise SummaryError(
            f"unknown summariser {summarizer!r}; choose one of {', '.join(SUMMARIZERS)}"
        )
    if sentences is not None and (
        not isinstance(sentences, int) or isinstance(sentences, bool) or sentences < 0
    ):
        raise SummaryError(f"sentence count must be a non-negative integer, not {sentences!r}")
    seg = segmenter or default_segmenter()
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    result = seg.segment(text)
    notes = [result.note] if result.note else []
    if not result.sentences:
        return Summary([], "", result.method, "; ".join(notes) or "no sentences found")
    idx, cap_note = _candidates(result.sentences, title)
    if cap_note:
        notes.append(cap_note)
    cands = [result.sentences[i] for i in idx]
    count = summary_length(len(cands), sentences)
    if count == 0:
        notes.append("no sentence contains words")
        return Summary([], "", result.method, "; ".join(notes))
    if count >= len(cands):
        chosen = cands
    elif summarizer == "learned":
        try:
            doubtful = [j for j, i in enumerate(idx) if i in result.doubtful]
            chosen = [cands[i] for i in _learned(cands, count, title, doubtful)]
        except (ValueError, ArithmeticError, LinAlgError) as exc:
            notes.append(f"{summarizer} failed ({type(exc).__name__}); lead sentences used")
            chosen = cands[:count]
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
    if len(chosen) < (DEFAULT_SENTENCES if sentences is None else sentences):
        notes.append(f"short text: {len(chosen)} sentence(s)")
    return Summary(chosen, " ".join(chosen), result.method, "; ".join(notes) or None)
