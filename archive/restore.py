"""Sentence-boundary restoration for text whose punctuation has been deleted.

The model looks at each gap between two words and scores how likely a sentence
ends there; a small dynamic programme then picks boundaries that respect a
minimum and maximum sentence length.  It is learned from punctuated text by
deleting the punctuation and remembering where the sentences ended.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

# Deleting (not spacing) punctuation mirrors how scrapers lose it: "13-state"
# becomes "13state" and "can't" becomes "cant", as in the shipped raqqa sample.
_PUNCT_RE = re.compile(r"[^\w\s]+")

N_FEATURES = 2**20
# v1 was scikit-learn's FeatureHasher (murmurhash); v2 is the crc32/splitmix hashing below;
# v3 adds the casing lexicon; v4 its sentence-final bit and the document's repeats.
FEATURE_VERSION = 4
# Decoding offset for learned models; with the length prior, 0 gave the best F1 on
# held-out BBC articles (the default 0.5 suits the capitalisation heuristic).
TRAINED_BIAS = 0.0
MIN_WORDS = 3
MAX_WORDS = 40
# Learned models decode with a sentence-length prior, which lets the limits be looser.
TRAINED_MIN_WORDS = 2
TRAINED_MAX_WORDS = 60
# Added to each sentence's length log-probability: with it, the prior favours news-length
# sentences without adding or removing boundaries overall (tuned on held-out BBC articles).
LENGTH_OFFSET = 3.0
# Gaps scoring below this never end a restored sentence (one in a thousand does).
_CANDIDATE_FLOOR = -6.0

# A fixed list keeps the features meaningful when the training set is tiny:
# word-identity weights only cover words seen in training, these cover all text.
FUNCTION_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves also said says say told according""".split()
)
# English sentences (almost) never end on these; a small training set may not
# have seen enough of them to learn it, so the decoder is told outright.
NEVER_FINAL = frozenset(
    """the a an of our their my your its and or nor but with from for by at into onto than
    very whose""".split()
)
NEVER_FINAL_PENALTY = 4.0
# Words that, capitalised after a non-function word, usually open a new sentence.
STARTERS = frozenset(
    """the a an in on at it he she they we i but and however this that these those there
    his her their its our my if when while after before as for since although though so
    yet according meanwhile last earlier later some many most one two three what why how
    mr mrs ms dr its no not all both each other another such""".split()
)


def strip_punctuation(text: str) -> str:
    """Delete punctuation the way lossy scrapers do (no space inserted)."""
    return _PUNCT_RE.sub("", text)


def words_of(text: str) -> list[str]:
    """Split text into the word tokens the restorer works on (punctuation deleted)."""
    return strip_punctuation(text).split()


# Shape codes; the two sentinels pad the text so every gap has two words each side.
_SHAPES = {"d": 1, "dx": 2, "X": 3, "X1": 4, "Xx": 5, "x": 6, "o": 7}
_XX, _BOS, _EOS = 5, 8, 9

_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_C1 = np.uint64(0xFF51AFD7ED558CCD)
_C2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)


_DIGIT_RE = re.compile(r"\d")


def _shape(word: str) -> int:
    if word.isdigit():
        return _SHAPES["d"]
    if _DIGIT_RE.search(word):
        return _SHAPES["dx"]
    if word.isupper():
        return _SHAPES["X"] if len(word) > 1 else _SHAPES["X1"]
    if word[:1].isupper():
        return _SHAPES["Xx"]
    if word.islower():
        return _SHAPES["x"]
    return _SHAPES["o"]


def _crc(s: str) -> int:
    # crc32, not hash(): str hashes are salted per process and pickled weights must
    # mean the same thing in every worker.
    return zlib.crc32(s.encode("utf-8", "surrogatepass"))


# Columns of the per-word table built by _word_row.
_LOW, _SHP, _FW, _ST, _SUF, _LEN, _ISLOW, _CAP = range(8)
_BOS_ROW = (_crc("<s>"), _BOS, 0, 0, 0, 0, 0, 0)
_EOS_ROW = (_crc("</s>"), _EOS, 0, 0, 0, 0, 0, 0)


def _word_row(word: str) -> tuple[int, ...]:
    lw = word.lower()
    return (
        _crc(lw),
        _shape(word),
        lw in FUNCTION_WORDS,
        lw in STARTERS,
        _crc(lw[-2:]),
        min(len(lw), 6),
        word.islower(),
        word[:1].isupper(),
    )


def _mix(h: np.ndarray) -> np.ndarray:
    # splitmix64/murmur finaliser: spreads combined values over all 64 bits so the
    # low bits used as a feature index do not collide systematically.
    h = h ^ (h >> _S33)
    h = h * _C1
    h = h ^ (h >> _S33)
    h = h * _C2
    return h ^ (h >> _S33)


def _combine(template: int, *parts: np.ndarray) -> np.ndarray:
    h = _mix(np.full(parts[0].shape, template * 0x9E3779B97F4A7C15 & 0xFFFFFFFFFFFFFFFF, np.uint64))
    for p in parts:
        h = _mix(h ^ p.astype(np.uint64))
    return h


def _token_table(docs: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
    """Per-token attribute columns of all docs, each padded by sentinels; and the gaps.

    Gap i of a document (between its words i and i+1) is the row ``g`` of its left
    word, with the right word at ``g + 1`` and the outer context at ``g - 1`` and
    ``g + 2``; the sentinels make those rows exist at the edges.
    """
    # Attributes are computed once per distinct word, then gathered per token.
    vocab: dict[str, int] = {}
    seq: list[int] = []
    sizes = []
    for words in docs:
        seq.append(0)
        seq.extend([vocab.setdefault(w, len(vocab) + 2) for w in words])
        seq.append(1)
        sizes.append(len(words))
    rows = [_BOS_ROW, _EOS_ROW, *map(_word_row, vocab)]
    ids = np.array(seq, dtype=np.int64)
    col = np.array(rows, dtype=np.int64)[ids].T
    is_word = ids >= 2
    gaps = np.flatnonzero(is_word[:-1] & is_word[1:])
    lens = np.array(sizes, dtype=np.int64)
    # Per-document properties of a word, keyed by (document, lowercase form).
    key = np.repeat(np.arange(len(docs), dtype=np.int64), lens + 2) << 32 | col[_LOW]
    # Capitalised here but lowercase elsewhere in the same document: the capital is
    # probably there because a sentence starts, not because it is a name.
    capvar = np.isin(key, key[col[_ISLOW] == 1])
    # "in Raqqa", "to Raqqa": a capitalised word the document also uses right after a
    # lowercase function word is probably a name wherever it appears, which word
    # identities from a small training set cannot tell.
    after_fw = np.zeros(key.size, dtype=bool)
    after_fw[1:] = (col[_FW][:-1] == 1) & (col[_ISLOW][:-1] == 1)
    mid = np.isin(key, key[after_fw & (col[_CAP] == 1) & (col[_ST] == 0)])
    # How often the document writes the word capitalised: a name recurs, a capital that
    # only starts a sentence rarely does.
    cap_keys, cap_counts = np.unique(key[col[_CAP] == 1], return_counts=True)
    capn = np.zeros(key.size, dtype=np.int64)
    if cap_keys.size:
        at = np.minimum(np.searchsorted(cap_keys, key), cap_keys.size - 1)
        capn = np.where(cap_keys[at] == key, np.minimum(cap_counts[at], 3), 0)
    return np.vstack([col, capvar, mid, capn]), gaps


N_TEMPLATES = 31


def _lexicon_codes(col: np.ndarray, keys: np.ndarray, vals: np.ndarray) -> np.ndarray:
    """Each token's casing code from a lexicon of (lowercase-form hash, code) pairs."""
    if keys.size == 0:
        return np.zeros(col.shape[1], dtype=np.int64)
    low = col[_LOW]
    at = np.minimum(np.searchsorted(keys, low), keys.size - 1)
    return np.where(keys[at] == low, vals[at], 0).astype(np.int64)


def _casing(col: np.ndarray, gaps: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    """How each word was written in training: the lexicon, and each token's code without
    its own document (so training sees the lexicon as unseen text will)."""
    start = np.zeros(col.shape[1], dtype=bool)
    start[1:] = col[_SHP][:-1] == _BOS
    start[gaps[y == 1] + 1] = True
    is_word = (col[_SHP] != _BOS) & (col[_SHP] != _EOS)
    cap = (col[_CAP] == 1) & is_word
    end = np.zeros(col.shape[1], dtype=bool)
    end[gaps[y == 1]] = True
    end[:-1] |= col[_SHP][1:] == _EOS
    flags = np.stack(
        [(col[_ISLOW] == 1) & is_word, cap & ~start, cap & start, end & is_word]
    ).astype(np.int64)
    doc = np.cumsum(col[_SHP] == _BOS) - 1
    keys, inv = np.unique(col[_LOW], return_inverse=True)
    total = np.stack([np.bincount(inv, weights=f, minlength=keys.size) for f in flags])
    pair_keys, pair_inv = np.unique(doc << 32 | col[_LOW], return_inverse=True)
    own = np.stack([np.bincount(pair_inv, weights=f, minlength=pair_keys.size) for f in flags])
    others = total[:, inv] - own[:, pair_inv]
    bits = np.array([[1], [2], [4], [8]])
    codes = ((others > 0) * bits).sum(axis=0)
    vals = ((total > 0) * bits).sum(axis=0)
    keep = (vals > 0) & np.isin(keys, col[_LOW][is_word])
    return keys[keep], vals[keep].astype(np.int8), codes * is_word


def _gap_indices(
    docs: Sequence[Sequence[str]],
    lexicon: tuple[np.ndarray, np.ndarray] | None = None,
    labels: np.ndarray | None = None,
) -> list[np.ndarray]:
    """Hashed feature indices, one (gaps x N_TEMPLATES) array per document."""
    col, g = _token_table(docs)
    if g.size == 0:
        return [np.zeros((0, N_TEMPLATES), dtype=np.int32) for _ in docs]
    if labels is not None:
        ortho = _casing(col, g, labels)[2]
    elif lexicon is not None:
        ortho = _lexicon_codes(col, *lexicon)
    else:
        ortho = np.zeros(col.shape[1], dtype=np.int64)
    word, shape, fw, st, suf, ln, _islow, _cap, capv, midn, capn = col
    # Whether training text ended a sentence on the word: "ago", "said", "year" do, "rival",
    # "maker", "giant" (before a name) do not; the lexicon knows more such words than the
    # word-pair weights learned from the same small text.
    fin = ortho >> 3
    ortho = ortho & 7
    a, b, pp, nn = g, g + 1, g - 1, g + 2
    sa, sb = shape[a], shape[b]
    wa, wb = word[a], word[b]
    fa, fb = fw[a], fw[b]
    stb = st[b]
    cv = (sb == _XX) & (capv[b] == 1)
    mn = ((sb == _SHAPES["X"]) | (sb == _SHAPES["X1"]) | (sb == _XX)) & (midn[b] == 1)
    small = fa + 2 * fb + 4 * sb  # flags packed so one hash covers the conjunction
    # A word pair the document repeats ("Mittal Steel", "Formula One") is a phrase, not
    # two sentences meeting twice; only the input itself can tell, whatever the training.
    doc = np.cumsum(shape == _BOS)[a]
    pair = _combine(7, doc, wa, wb)
    _, pair_inv, pair_n = np.unique(pair, return_inverse=True, return_counts=True)
    rep = np.minimum(pair_n[pair_inv], 3)
    feats = [
        np.zeros_like(wa),
        wa,
        wb,
        word[pp],
        word[nn],
        _combine(1, wa, wb),
        _combine(2, word[pp], wa),
        _combine(3, wb, word[nn]),
        sa,
        sb,
        sa * 16 + sb,
        shape[pp] * 256 + sa * 16 + sb,
        sa * 256 + sb * 16 + shape[nn],
        small,
        stb + 2 * fa + 4 * sb,
        cv + 2 * fa,
        mn + 2 * fa,
        cv + 2 * stb,
        suf[a],
        ln[a],
        _combine(4, wb, sb),
        _combine(5, wa, sb),
        ortho[b] + 8 * sb + 128 * fa,
        ortho[b] + 8 * stb + 16 * ortho[nn] + 128 * (sa == _SHAPES["x"]),
        _combine(6, wa, ortho[b]),
        fin[a] + 2 * ortho[b] + 16 * sb,
        fin[a] + 2 * fa + 4 * sa + 64 * stb,
        fin[a] + 2 * ortho[a] + 16 * sa,
        capn[b] + 4 * capv[b] + 8 * stb + 16 * fa + 32 * sb,
        rep + 4 * sa + 64 * sb,
        rep + 4 * stb + 8 * fa,
    ]
    out = np.empty((g.size, N_TEMPLATES), dtype=np.int32)
    mask = np.uint64(N_FEATURES - 1)
    for t, f in enumerate(feats):
        out[:, t] = (_combine(100 + t, f) & mask).astype(np.int32)
    sizes = [max(len(w) - 1, 0) for w in docs]
    return np.split(out, np.cumsum(sizes)[:-1])


@dataclass
class BoundaryModel:
    """A linear model over hashed gap features plus a length-constrained decoder."""

    indices: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    weights: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    intercept: float = 0.0
    min_words: int = MIN_WORDS
    max_words: int = MAX_WORDS
    # Casing lexicon learned from the training text: lowercase-form hashes (sorted) and
    # how the word was written there (1 lowercase, 2 capitalised mid-sentence, 4 at a start,
    # 8 ending a sentence).
    lex_keys: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    lex_vals: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    # Log-probability of each sentence length (index = words) plus LENGTH_OFFSET.
    length_prior: np.ndarray | None = None
    bias: float = 0.5  # added to each gap's log-odds; tuned so decoding is not too eager
    # Multiplies the learned log-odds before the bias: under 1 for a model learned from
    # little text, which is overconfident on text unlike its own.
    scale: float = 1.0
    # A restored start is doubted (it may begin mid-clause, so a summary does not open on
    # it) when a sentence ends before it in less than this share of the segmentations the
    # decoder weighs (cut_posteriors).
    sure_start: float = 0.7
    # Bumped whenever the hashing changes, so a model saved by an older version is
    # refused on load (and relearned) instead of scoring with meaningless weights.
    feature_version: int = FEATURE_VERSION

    def _dense(self) -> np.ndarray:
        coef = np.zeros(N_FEATURES, dtype=np.float32)
        coef[self.indices] = self.weights
        return coef

    def gap_scores(self, words: Sequence[str]) -> np.ndarray:
        """Log-odds that a sentence ends after each word but the last."""
        if len(words) < 2:
            return np.zeros(0)
        if self.indices.size == 0:
            return _heuristic_scores(words) + self.bias - _never_final(words)
        (x,) = _gap_indices([words], (self.lex_keys, self.lex_vals))
        coef = getattr(self, "_coef_cache", None)
        if coef is None:
            coef = self._dense()
            object.__setattr__(self, "_coef_cache", coef)
        scores = (coef[x].sum(axis=1, dtype=np.float64) + self.intercept) * self.scale + self.bias
        return scores - _never_final(words)

    def boundaries(self, words: Sequence[str], scores: np.ndarray | None = None) -> list[int]:
        """Indices i such that a sentence ends after words[i] (last word excluded).

        ``scores``, the words' gap_scores when the caller has them, spares computing them.
        """
        n = len(words)
        if n <= self.min_words:
            return []
        if scores is None:
            scores = self.gap_scores(words)
        return _decode(scores, n, self.min_words, self.max_words, self.length_prior)

    def cut_posteriors(self, scores: np.ndarray) -> np.ndarray:
        """Probability of a sentence end after each word, over all segmentations the decoder weighs.

        Each segmentation counts with weight exp(its decoder objective: gap log-odds plus
        sentence-length priors), so a cut is sure when the alternatives without it score
        far lower, whether because its gap scores high or because the sentence lengths
        leave no other good place for it; two equally good places share the probability.
        """
        n = len(scores) + 1
        post = np.zeros(len(scores))
        if n <= self.min_words:
            return post
        length = np.exp(_prior_list(self.length_prior, self.max_words))
        length[: self.min_words] = 0.0
        weights = length.tolist()
        ends = _candidate_ends(scores, n, self.max_words)
        gains = np.exp(scores).tolist()
        gains.append(1.0)  # the text's end is no gap
        # Forward: all segmentations of the words before each end; backward (the same sums
        # over the mirrored text): all those after each start, its gap's gain included.
        before = _log_sums(ends, gains, weights, self.max_words)
        if n not in before:
            return post  # too short for the length limits: one sentence, no cut
        starts = [n - j for j in reversed(ends[:-1])] + [n]
        after = _log_sums(starts, [gains[n - i - 2] for i in range(n)], weights, self.max_words)
        total = before[n]
        for j in ends[:-1]:
            if j in before and n - j in after:
                log_post = before[j] + after[n - j] - scores[j - 1] - total
                post[j - 1] = math.exp(min(0.0, log_post))
        return post

    def split(self, words: Sequence[str]) -> list[list[str]]:
        """Group words into sentences."""
        out: list[list[str]] = []
        start = 0
        for i in self.boundaries(words):
            out.append(list(words[start : i + 1]))
            start = i + 1
        if start < len(words):
            out.append(list(words[start:]))
        return out

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_coef_cache", None)
        return state

    def __setstate__(self, state: dict) -> None:
        if state.get("feature_version") != FEATURE_VERSION and len(state.get("indices", ())):
            raise ValueError("boundary model was saved with an older feature hashing; retrain")
        self.__dict__.update(state)


def _never_final(words: Sequence[str]) -> np.ndarray:
    return np.fromiter(
        (NEVER_FINAL_PENALTY if w.lower() in NEVER_FINAL else 0.0 for w in words[:-1]),
        dtype=np.float64,
        count=len(words) - 1,
    )


def _heuristic_scores(words: Sequence[str]) -> np.ndarray:
    """Log-odds from capitalisation alone, for when there was nothing to train on."""
    out = np.full(len(words) - 1, -3.0)
    for i in range(len(words) - 1):
        a, b = words[i], words[i + 1]
        if b[:1].isupper() and b.lower() in STARTERS and a.lower() not in FUNCTION_WORDS:
            out[i] = 2.0
    return out


def _candidate_ends(scores: np.ndarray, n: int, max_words: int) -> list[int]:
    """Where a decoded sentence may end (after word j-1 for each j), the text's end last."""
    # Only gaps that could plausibly end a sentence are tried as cuts, plus the best gap
    # of every stretch of max_words/2 words so the length limit can always be kept.
    half = max(1, max_words // 2)
    cand = set(np.flatnonzero(scores > _CANDIDATE_FLOOR).tolist())
    for s in range(0, len(scores), half):
        cand.add(s + int(np.argmax(scores[s : s + half])))
    return [k + 1 for k in sorted(cand)] + [n]


def _prior_list(prior: np.ndarray | None, max_words: int) -> list[float]:
    """The sentence-length prior by length, or none (zeros) when the model has none."""
    if prior is not None and prior.size > max_words:
        return prior.tolist()
    return [0.0] * (max_words + 1)


def _log_sums(
    positions: list[int], gains: list[float], weights: list[float], max_words: int
) -> dict[int, float]:
    """Log of the summed weight of every way to cut words 0..p into sentences, per position.

    A way's weight is the product of exp(gain) at each cut (gains[p - 1]; gains[-1] for
    the end) and weights[length] for each sentence, lengths at most max_words.  The sums
    are kept in linear scale (no exp per term), rescaled when they leave [1e-100, 1e100].
    """
    out: dict[int, float] = {}
    keys, vals = [0], [1.0]  # reachable positions within max_words of the current one
    head, offset = 0, 0.0
    for p in positions:
        while p - keys[head] > max_words:
            head += 1
            if head == len(keys):
                return out  # a stretch longer than max_words with no cut: none reach
        total = 0.0
        for q, v in zip(keys[head:], vals[head:], strict=True):
            total += v * weights[p - q]
        if total <= 0.0:
            continue
        value = total * gains[p - 1]
        if not 1e-100 < value < 1e100:
            vals[head:] = [v / value for v in vals[head:]]
            offset += math.log(value)
            value = 1.0
        out[p] = math.log(value) + offset
        keys.append(p)
        vals.append(value)
    return out


def _decode(
    scores: np.ndarray, n: int, min_words: int, max_words: int, prior: np.ndarray | None = None
) -> list[int]:
    """Pick boundaries maximising summed log-odds with every sentence in [min, max] words.

    With a length prior (log-probability of each sentence length, offset), each sentence
    also scores by its length, so a run of words is not cut into fragments nor left as
    one long sentence when the gap scores alone hesitate.
    """
    ends = _candidate_ends(scores, n, max_words)
    sc = scores.tolist()
    lp = _prior_list(prior, max_words)
    neg = -math.inf
    best = {0: 0.0}
    back = {0: 0}
    open_starts = [0]  # sentence starts with a finite best score, in order
    for j in ends:
        gain = sc[j - 1] if j < n else 0.0
        top, arg = neg, -1
        for k in open_starts:
            length = j - k
            if length > max_words or length < min_words:
                continue
            v = best[k] + lp[length]
            if v > top:
                top, arg = v, k
        if arg < 0:
            continue
        best[j] = top + gain
        back[j] = arg
        open_starts = [k for k in open_starts if j - k < max_words]
        open_starts.append(j)
    if n not in best:
        # Too short for the length limits: one sentence.
        return []
    cuts = []
    j = n
    while j > 0:
        k = back[j]
        if k > 0:
            cuts.append(k - 1)
        j = k
    return sorted(cuts)


def sentence_words(sentences: Iterable[str]) -> tuple[list[str], list[int]]:
    """Flatten punctuated sentences into words and the indices where sentences end."""
    words: list[str] = []
    ends: list[int] = []
    for s in sentences:
        w = words_of(s)
        if not w:
            continue
        words.extend(w)
        ends.append(len(words) - 1)
    if ends:
        ends.pop()  # the end of the text is not a gap
    return words, ends


def train_boundary_model(
    docs: Iterable[Sequence[str]],
    *,
    alpha: float = 1e-4,
    prune: float = 0.05,
    epochs: int = 5,
    batch: int = 256,
    rate: float = 0.1,
    max_weights: int = 150_000,
) -> BoundaryModel:
    """Fit a BoundaryModel on documents given as lists of punctuated sentences."""
    word_docs: list[list[str]] = []
    labels: list[np.ndarray] = []
    for sents in docs:
        words, ends = sentence_words(sents)
        if len(words) < 2:
            continue
        y = np.zeros(len(words) - 1, dtype=np.float32)
        y[ends] = 1.0
        word_docs.append(words)
        labels.append(y)
    if not labels or not any(y.any() for y in labels):
        # The capitalisation heuristic is weak, so let it run longer between forced cuts.
        return BoundaryModel(max_words=60)
    y = np.concatenate(labels)
    x = np.concatenate(_gap_indices(word_docs, labels=y))
    lex_keys, lex_vals, _ = _casing(*_token_table(word_docs), y)
    length_prior = _length_prior(labels, TRAINED_MAX_WORDS)
    coef, intercept = _fit_logistic(x, y, alpha=alpha, epochs=epochs, batch=batch, rate=rate)
    # Tiny weights barely move a score but dominate the pickled size; the cap keeps
    # a model learned from a big collection cheap to send to workers.
    nz = np.flatnonzero(np.abs(coef) > prune)
    if nz.size > max_weights:
        nz = nz[np.argsort(-np.abs(coef[nz]), kind="stable")[:max_weights]]
        nz.sort()
    nz = nz.astype(np.int32)
    return BoundaryModel(
        indices=nz,
        weights=coef[nz].astype(np.float32),
        intercept=intercept,
        lex_keys=lex_keys,
        lex_vals=lex_vals,
        length_prior=length_prior,
        min_words=TRAINED_MIN_WORDS,
        max_words=TRAINED_MAX_WORDS,
        bias=TRAINED_BIAS,
    )


def _length_prior(labels: Sequence[np.ndarray], max_words: int) -> np.ndarray:
    """Log-probability of each sentence length in the training text (add-one), offset."""
    counts = np.ones(max_words + 1)
    for y in labels:
        ends = np.concatenate([[-1], np.flatnonzero(y), [y.size]])
        counts += np.bincount(np.minimum(np.diff(ends), max_words), minlength=max_words + 1)
    counts[0] = 0.0
    with np.errstate(divide="ignore"):
        return np.log(counts / counts.sum()) + LENGTH_OFFSET


def _fit_logistic(
    x: np.ndarray, y: np.ndarray, *, alpha: float, epochs: int, batch: int, rate: float
) -> tuple[np.ndarray, float]:
    """Logistic regression over one-hot hashed features by mini-batch AdaGrad.

    Every row of x holds the indices of its active features (all valued 1), so a
    score is a gather-and-sum and a gradient is a bincount over the batch's indices.
    AdaGrad gives rare features (most word pairs) large steps and frequent ones small
    ones without a tuned schedule; a fixed seed keeps training repeatable.
    """
    n, k = x.shape
    # Train over the features that occur, renumbered densely, so the vectors are
    # small enough to stay in cache.
    present = np.zeros(N_FEATURES, dtype=bool)
    present[x.ravel()] = True
    feats = np.flatnonzero(present)
    remap = np.zeros(N_FEATURES, dtype=np.int32)
    remap[feats] = np.arange(feats.size, dtype=np.int32)
    rng = np.random.default_rng(0)
    perm = rng.permutation(n)
    xc, yp = remap[x[perm]], y[perm]
    # Batches are fixed (their order is shuffled each epoch) so the sort that
    # merges each batch's repeated features is done once, not once per epoch.
    batches = []
    for s in range(0, n, batch):
        uniq, inv = np.unique(xc[s : s + batch], return_inverse=True)
        batches.append((s, min(s + batch, n), uniq, inv.ravel()))
    coef = np.zeros(feats.size, dtype=np.float64)
    sq = np.full(feats.size, 1e-8, dtype=np.float64)
    intercept, sq_b = 0.0, 1e-8
    for _ in range(epochs):
        for b in rng.permutation(len(batches)):
            s, e, uniq, inv = batches[b]
            w = coef[uniq]
            z = w[inv].reshape(e - s, k).sum(axis=1) + intercept
            err = 1.0 / (1.0 + np.exp(-z)) - yp[s:e]
            g = np.bincount(inv, weights=np.repeat(err, k), minlength=uniq.size)
            g += alpha * (e - s) * w
            acc = sq[uniq] + g * g
            sq[uniq] = acc
            coef[uniq] = w - rate * g / np.sqrt(acc)
            gb = float(err.sum())
            sq_b += gb * gb
            intercept -= rate * gb / math.sqrt(sq_b)
    full = np.zeros(N_FEATURES, dtype=np.float64)
    full[feats] = coef
    return full, intercept


def boundary_prf(gold: set[int], pred: set[int]) -> tuple[float, float, float]:
    """Precision, recall and F1 of predicted boundary gaps."""
    tp = len(gold & pred)
    p = tp / len(pred) if pred else 0.0
    r = tp / len(gold) if gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f
