"""Sentence segmentation: Punkt for punctuated text, a learned restorer for text without it."""

from __future__ import annotations

import functools
import itertools
import pathlib
import pickle
import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from nltk.tokenize.punkt import (
    PunktLanguageVars,
    PunktParameters,
    PunktSentenceTokenizer,
    PunktToken,
    PunktTrainer,
)

from archive.clean import clean_text
from archive.model import Article
from archive.readers import ReadOptions, find_files, read_file, read_paths
from archive.restore import (
    BoundaryModel,
    strip_punctuation,
    train_boundary_model,
)

T = TypeVar("T")

SAMPLE_DIR = pathlib.Path(__file__).parent / "data" / "sample"
# More fictional articles, written for the project to train the shipped default restorer.
TRAINING_DIR = pathlib.Path(__file__).parent / "data" / "training"

# Seeded so a small training set cannot make "Mr." or "U.S." end a sentence.
SEED_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st mt gen col lt sgt capt cmdr adm gov sen rep rev hon pres cllr
    u.s u.k u.n e.u u.s.a d.c a.m p.m e.g i.e etc vs v inc ltd co corp bros dept est no nos
    jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri sat
    sun fig approx ave blvd""".split()
)

# Punkt lets a known abbreviation end a sentence only when the next word is capitalised and
# learned to start sentences; a small training set learns few (eight for the default), so
# "on Monday, 30 Sep. His first priority" stayed one sentence. Capitalised after an
# abbreviation, these pronouns and determiners start a sentence; "a", "i" and "no" are left
# out ("Gen. A. Smith", "Vol. I", "No. 10").
SEED_STARTERS = frozenset(
    """the this these those there his her hers its their our my your he she it they we however
    but meanwhile""".split()
)

_FINAL_MARK_RE = re.compile(r"[.!?…][\"'”’)\]]*(?=\s|$)")
_WORD_RE = re.compile(r"\S+")
# A comment counter that scrapers pick up with the byline ("... 0 Comments").
# Capitalised as a page label, unlike "300 comments" inside a sentence.
_COMMENTS_RE = re.compile(r"\b(?:\d+\s+)?(?:Comments?|COMMENTS?)\b[\s:|-]*")
_BYLINE_RE = re.compile(
    r"^\s*(?i:by|posted by|written by)\s+(?:[A-Z][\w'-]*\s+){1,3}?"
    r"(?:(?:on|in|at)\s+(?:[A-Z0-9][\w'-]*\s+){0,6}?)?"
    r"(?=(?:The|A|An|In|On|At|It|He|She|They|We|This|That|When|After|As|For|More)\b)",
)
_MAX_CHARS = 2_000_000
_MAX_RESTORE_WORDS = 20_000
_MAX_SENTENCE_CHARS = 5_000
# The shipped default has learned from about 79,000 words of the project's own articles,
# whose sentences are shorter than most news (17 words against BBC's 20), so it ends
# sentences too eagerly and too confidently on other text; its log-odds are shrunk and
# shifted (chosen on odd-numbered BBC articles, confirmed on even ones).
DEFAULT_SCALE = 0.8
DEFAULT_BIAS = -1.0
# Its starts are doubted below 0.8 of the segmentations instead of 0.7: on held-out BBC
# articles that doubts about as many as the log-odds and decoder margin did (28% against
# 26%) and lets fewer wrong ones open a summary (3.4% against 5.1%); 0.7 suits a model
# learned from the collection (12% doubted against 13%, 3.6% wrong against 4.1%).
DEFAULT_SURE_START = 0.8


@dataclass(frozen=True)
class Segmentation:
    """Sentences of a text and which path produced them."""

    sentences: list[str]
    method: str  # "punkt" | "restored" | "empty"
    note: str | None = None
    # Restored sentences whose start the model doubts: they may begin mid-clause.
    doubtful: frozenset[int] = frozenset()


def is_unpunctuated(text: str) -> bool:
    """True when the text has too few sentence-final marks for its length."""
    n_words = len(_WORD_RE.findall(text))
    if n_words < 12:
        return False
    marks = len(_FINAL_MARK_RE.findall(text))
    # News sentences average ~20 words; one mark per 60 words means most are missing.
    return marks * 60 < n_words


def strip_leading_residue(text: str) -> tuple[str, bool]:
    """Drop a scraped byline / comment counter before the article proper."""
    head = text[:400]
    m = _COMMENTS_RE.search(head)
    if m:
        before = head[: m.start()]
        # Only when it is a short preamble, not a sentence that mentions comments.
        if len(before.split()) <= 25 and not _FINAL_MARK_RE.search(before):
            return text[m.end() :].lstrip(), True
    m = _BYLINE_RE.match(text)
    if m and len(text[: m.end()].split()) <= 12:
        return text[m.end() :].lstrip(), True
    return text, False


class _PlainRegexVars(PunktLanguageVars):
    """Punkt's English patterns, compiled with ``re``.

    NLTK 3.10 runs every match of its own fixed patterns through a wall-clock timeout
    wrapper (``nltk.redos``), meant for caller-supplied patterns; it was most of the time
    spent splitting sentences. The patterns are Punkt's own, so the sentences are the same.
    """

    re_boundary_realignment = re.compile(
        PunktLanguageVars.re_boundary_realignment.pattern, re.MULTILINE
    )

    def __init__(self) -> None:
        nltk_vars = PunktLanguageVars()
        flags = re.UNICODE | re.VERBOSE
        self._re_period_context = re.compile(nltk_vars.period_context_re().pattern, flags)
        self._re_word_tokenizer = re.compile(nltk_vars._word_tokenizer_re().pattern, flags)


_NON_PUNCT_RE = re.compile(r"[^\W\d]")


@functools.lru_cache(maxsize=100_000)
def _token_type(tok: str) -> str:
    """Punkt's case-normalised type of a token (``PunktToken._get_type``), cached."""
    return _PlainRegexToken._RE_NUMERIC.sub("##number##", tok.lower())


class _PlainRegexToken(PunktToken):
    """Punkt's token with its patterns compiled with ``re`` (see ``_PlainRegexVars``)."""

    _RE_ELLIPSIS = re.compile(PunktToken._RE_ELLIPSIS.pattern)
    _RE_NUMERIC = re.compile(PunktToken._RE_NUMERIC.pattern)
    _RE_INITIAL = re.compile(PunktToken._RE_INITIAL.pattern)
    _RE_ALPHA = re.compile(PunktToken._RE_ALPHA.pattern)

    def __init__(self, tok: str, **params: object) -> None:
        # NLTK's sets each property in a loop of setattr calls and lower-cases and
        # substitutes every token anew: a third of learning and splitting sentences.
        self.tok = tok
        self.type = _token_type(tok)
        self.period_final = tok.endswith(".")
        self.parastart = self.linestart = self.sentbreak = self.abbr = self.ellipsis = None
        for name, value in params.items():
            setattr(self, name, value)

    @property
    def is_non_punct(self) -> bool:
        """True if the token is either a number or is alphabetic."""
        return bool(_NON_PUNCT_RE.search(self.type))


def _finish(words: list[str]) -> str:
    s = " ".join(words)
    s = s[:1].upper() + s[1:]
    return s if s.endswith((".", "!", "?")) else s + "."


class Segmenter:
    """Splits text into sentences, restoring boundaries when punctuation is missing."""

    def __init__(self, params: PunktParameters, model: BoundaryModel) -> None:
        self.params = params
        self.model = model
        self._punkt: PunktSentenceTokenizer | None = None

    def __getstate__(self) -> dict:
        return {"params": self.params, "model": self.model}

    def __setstate__(self, state: dict) -> None:
        self.params = state["params"]
        self.model = state["model"]
        self._punkt = None

    def ready_to_restore(self) -> Segmenter:
        """This segmenter with its boundary restorer learned (a deferred one is learned now,
        before copies of it go to workers that would each learn it)."""
        return self

    @property
    def punkt(self) -> PunktSentenceTokenizer:
        """The Punkt tokenizer built from the trained parameters."""
        if self._punkt is None:
            self._punkt = PunktSentenceTokenizer(
                self.params, lang_vars=_PlainRegexVars(), token_cls=_PlainRegexToken
            )
        return self._punkt

    def punkt_sentences(self, text: str) -> list[str]:
        """Punkt sentences of a punctuated text, whitespace collapsed."""
        out = []
        for para in re.split(r"\n\s*\n", text):
            for s in self.punkt.tokenize(para):
                s = " ".join(s.split())
                if s:
                    out.append(s)
        return out

    def restore(self, text: str) -> list[str]:
        """Sentences of an unpunctuated text, each capitalised and full-stopped.

        Only boundaries, a first capital and a final full stop are added: every character
        of the text is kept ("A&E" stays "A&E"), since the model sees words without marks.
        """
        return self._restore(text)[0]

    def _restore(self, text: str) -> tuple[list[str], frozenset[int]]:
        """Restored sentences and the indices of those whose start the model doubts."""
        out: list[str] = []
        doubtful = set()
        # Blank lines survive punctuation loss and are reliable boundaries.
        for para in re.split(r"\n\s*\n", text):
            tokens: list[str] = []
            words: list[str] = []
            for token in para.split():
                word = strip_punctuation(token)
                if word or not tokens:
                    tokens.append(token)
                    words.append(word)
                else:  # a lone mark ("-", "&") stays with the word before it
                    tokens[-1] += " " + token
            if words and not words[0]:  # the paragraph opened with lone marks
                if len(tokens) == 1:
                    continue
                lead = tokens.pop(0)
                tokens[0] = f"{lead} {tokens[0]}"
                words.pop(0)
            scores = self.model.gap_scores(words)
            cuts = self.model.boundaries(words, scores)
            sure = self.model.cut_posteriors(scores) >= self.model.sure_start if cuts else None
            start = 0
            for end in [*cuts, len(words) - 1]:
                if end >= start:
                    if start and sure is not None and not sure[start - 1]:
                        doubtful.add(len(out))
                    out.append(_finish(tokens[start : end + 1]))
                start = end + 1
        return out, frozenset(doubtful)

    def segment(self, text: str) -> Segmentation:
        """Split text into sentences, noting whether Punkt or restoration was used."""
        if not isinstance(text, str):
            return Segmentation([], "empty", "not text")
        notes = []
        if len(text) > _MAX_CHARS:
            text = text[:_MAX_CHARS]
            notes.append(f"text truncated to {_MAX_CHARS} characters")
        text = text.replace("\x00", " ")
        text, stripped = strip_leading_residue(text)
        if stripped:
            notes.append("leading byline removed")
        if not text.strip():
            return Segmentation([], "empty", "; ".join(notes + ["no text"]))
        doubtful: frozenset[int] = frozenset()
        if is_unpunctuated(text):
            n_words = len(_WORD_RE.findall(text))
            if n_words > _MAX_RESTORE_WORDS:
                text = " ".join(_WORD_RE.findall(text)[:_MAX_RESTORE_WORDS])
                notes.append(f"only the first {_MAX_RESTORE_WORDS} words restored")
            sentences, doubtful = self._restore(text)
            method = "restored"
            notes.append("punctuation missing: sentence boundaries restored")
        else:
            sentences = self.punkt_sentences(text)
            method = "punkt"
        long = [s for s in sentences if len(s) > _MAX_SENTENCE_CHARS]
        if long:
            # A megabyte with no spaces is not a sentence anyone wants to read.
            keep = [i for i, s in enumerate(sentences) if len(s) <= _MAX_SENTENCE_CHARS]
            doubtful = frozenset(j for j, i in enumerate(keep) if i in doubtful)
            sentences = [sentences[i] for i in keep]
            notes.append(f"{len(long)} over-long fragment(s) dropped")
        if not sentences:
            return Segmentation([], "empty", "; ".join(notes + ["no sentences found"]))
        return Segmentation(sentences, method, "; ".join(notes) or None, doubtful)

    def save(self, path: pathlib.Path) -> None:
        """Write the segmenter to one file."""
        pathlib.Path(path).write_bytes(pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL))

    @classmethod
    def load(cls, path: pathlib.Path) -> Segmenter:
        """Read a segmenter written by save()."""
        obj = pickle.loads(pathlib.Path(path).read_bytes())
        if not isinstance(obj, cls):
            raise TypeError(f"{path} does not hold a Segmenter")
        return obj


class _PlainRegexTrainer(PunktTrainer):
    """Punkt's trainer, sparing NLTK's timed pattern the types it would skip anyway."""

    def _reclassify_abbrev_types(self, types: Iterable[str]) -> Iterator[tuple[str, float, bool]]:
        # NLTK tests every type against its timed pattern first, though the test after it
        # keeps only period-final types not yet abbreviations and abbreviations without
        # the period. Filtering lazily keeps the caller's additions between the yields.
        abbrevs = self._params.abbrev_types
        kept = (t for t in types if t.endswith(".") != (t in abbrevs))
        return super()._reclassify_abbrev_types(kept)  # type: ignore[no-any-return]


def train_punkt(texts: Iterable[str]) -> PunktParameters:
    """Train Punkt parameters on texts and seed common abbreviations."""
    trainer = _PlainRegexTrainer(lang_vars=_PlainRegexVars(), token_cls=_PlainRegexToken)
    trainer.INCLUDE_ALL_COLLOCS = True
    for t in texts:
        trainer.train(t, finalize=False)
    trainer.finalize_training()
    params = trainer.get_params()
    params.abbrev_types.update(SEED_ABBREVIATIONS)
    params.sent_starters.update(SEED_STARTERS)
    return params


def train_segmenter(
    texts: Iterable[str],
    *,
    defer_restorer: bool = False,
    calibration: tuple[float, float, float] | None = None,
) -> Segmenter:
    """Train Punkt and the boundary restorer from punctuated texts (unpunctuated ones skipped);
    with ``defer_restorer`` the restorer is learned the first time a text needs it, and a
    ``calibration`` (scale, bias, sure_start) replaces the learned model's."""
    punctuated = [t for t in texts if t and t.strip() and not is_unpunctuated(t)]
    deferred = DeferredSegmenter(train_punkt(punctuated), punctuated, calibration)
    return deferred if defer_restorer else Segmenter(deferred.params, deferred.model)


class DeferredSegmenter(Segmenter):
    """A segmenter that learns its boundary restorer from its Punkt training texts when a
    text first needs restoring: most collections are punctuated throughout and never do,
    and learning it was half the cost of learning a collection's model."""

    def __init__(
        self,
        params: PunktParameters,
        texts: list[str],
        calibration: tuple[float, float, float] | None = None,
    ) -> None:
        super().__init__(params, BoundaryModel())
        self.texts = texts
        self.calibration = calibration
        self._model: BoundaryModel | None = None  # learned when first needed

    @property  # type: ignore[override]
    def model(self) -> BoundaryModel:
        """The boundary restorer, learned from the training texts on first use."""
        if self._model is None:
            model = train_boundary_model(self.punkt_sentences(t) for t in self.texts)
            if self.calibration is not None and model.indices.size:
                model.scale, model.bias, model.sure_start = self.calibration
            self._model = model
        return self._model

    @model.setter
    def model(self, model: BoundaryModel) -> None:
        self._model = model

    def ready_to_restore(self) -> Segmenter:
        """This segmenter with its restorer learned now."""
        _ = self.model
        return self

    def __getstate__(self) -> dict:
        return {
            "params": self.params,
            "texts": self.texts,
            "calibration": self.calibration,
            "model": self._model,
        }

    def __setstate__(self, state: dict) -> None:
        self.params = state["params"]
        self.texts = state["texts"]
        self.calibration = state["calibration"]
        self._model = state["model"]
        self._punkt = None


def spread_sample(items: Iterable[T], k: int, seed: int = 0) -> list[T]:
    """k items drawn evenly from the whole stream (seeded reservoir), in stream order.

    A collection's first articles are often one section or one month; learning from a
    sample of all of it fits the whole collection, and the seed keeps a rebuild identical.
    """
    rng = random.Random(seed)
    kept: list[tuple[int, T]] = []
    for n, item in enumerate(items):
        if len(kept) < k:
            kept.append((n, item))
        else:
            j = rng.randrange(n + 1)
            if j < k:
                kept[j] = (n, item)
    kept.sort(key=lambda pair: pair[0])
    return [item for _, item in kept]


def collection_sample(
    paths: Iterable[pathlib.Path],
    fmt: str,
    options: ReadOptions | None,
    k: int,
    max_chars: int,
    scan: int,
) -> list[str]:
    """Cleaned texts of up to k articles drawn from all of the input.

    With more files than k, every n-th file is read rather than all of them; records are
    then drawn evenly from the first ``scan`` read, so a huge input costs a bounded read.
    """
    files = list(find_files(paths, fmt, options))
    files = files[:: max(1, len(files) // k)]
    items = itertools.chain.from_iterable(read_file(f, ff, root, options) for f, root, ff in files)
    texts = (item.text[:max_chars] for item in items if isinstance(item, Article))
    return [clean_text(t) for t in spread_sample(itertools.islice(texts, scan), k)]


def _sample_texts(folder: pathlib.Path = SAMPLE_DIR) -> list[str]:
    """Cleaned article bodies of the shipped sample corpus."""
    if not folder.is_dir():
        return []
    return [clean_text(item.text) for item in read_paths([folder]) if isinstance(item, Article)]


@functools.cache
def default_segmenter() -> Segmenter:
    """The segmenter trained on the shipped fictional articles (cached per process); its
    restorer is learned when a text first needs it, so punctuated text never waits for it."""
    return train_segmenter(
        _sample_texts() + _sample_texts(TRAINING_DIR),
        defer_restorer=True,
        calibration=(DEFAULT_SCALE, DEFAULT_BIAS, DEFAULT_SURE_START),
    )
