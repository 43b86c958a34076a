"""The learned summariser's feature code computes exactly what the plainer code it replaced did."""

from __future__ import annotations

import pathlib
import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sumy.summarizers.lex_rank import LexRankSummarizer
from sumy.summarizers.text_rank import TextRankSummarizer

from archive.summarize import (
    _QUOTE_OR_SAID_RE,
    FEATURES,
    _candidates,
    _count_matrix,
    _power_method,
    _quotes_or_reports,
    sentence_features,
)

SAMPLE_TXT = pathlib.Path(__file__).resolve().parents[1] / "archive" / "data" / "sample" / "txt"


def _stochastic(rng: np.random.Generator, n: int, sparse: bool) -> np.ndarray:
    m = rng.random((n, n)) * (rng.random((n, n)) < (0.2 if sparse else 1.0))
    return m / np.maximum(m.sum(axis=1), 1e-300)[:, None]


def test_power_method_is_sumys_to_the_bit() -> None:
    rng = np.random.default_rng(7)
    damping = TextRankSummarizer.damping
    with np.errstate(divide="ignore", invalid="ignore"):
        for n in [1, 2, 3, 5, 17, 60, 120]:
            for sparse in (False, True):
                m = _stochastic(rng, n, sparse)
                text = np.full((n, n), (1.0 - damping) / n) + damping * m
                eps = TextRankSummarizer.epsilon
                ours = _power_method(text, eps, normalise=False)
                assert np.array_equal(ours, TextRankSummarizer.power_method(text, eps))
                ours = _power_method(m, LexRankSummarizer.epsilon, normalise=True)
                theirs = LexRankSummarizer.power_method(m, LexRankSummarizer.epsilon)
                assert np.array_equal(ours, theirs, equal_nan=True)
        # Unlinked sentences: a zero matrix gives sumy NaN scores, and so here.
        zero = np.zeros((4, 4))
        theirs = LexRankSummarizer.power_method(zero, LexRankSummarizer.epsilon)
        ours = _power_method(zero, LexRankSummarizer.epsilon, normalise=True)
    assert np.isnan(theirs).all() and np.array_equal(ours, theirs, equal_nan=True)


def test_quotes_or_reports_is_the_pattern() -> None:
    cases = [
        "He said so.",
        "She SAYS it is over.",
        "They were Told.",
        "Unsaid things, untold stories and saidst.",
        "It was a tolder road.",
        "“Quoted” text",
        'A "quote',
        "No report here.",
        "He ſaid so.",  # the long s matches 's' when case is ignored
        "Café owners said no.",
        "Café owners sighed.",
        "",
    ]
    for text in cases:
        assert _quotes_or_reports(text) == (_QUOTE_OR_SAID_RE.search(text) is not None), text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="saidtoyeSAIDTOYE ſ\"“'.é-_1", max_size=30))
def test_quotes_or_reports_is_the_pattern_on_any_text(text: str) -> None:
    assert _quotes_or_reports(text) == (_QUOTE_OR_SAID_RE.search(text) is not None)


def test_count_matrix_numbers_stems_by_first_appearance() -> None:
    counts, vocab = _count_matrix([["b", "a", "b"], [], ["a", "c", "b"]])
    assert vocab == {"b": 0, "a": 1, "c": 2}
    assert counts.tolist() == [[2, 1, 0], [0, 0, 0], [1, 1, 1]]
    empty, none = _count_matrix([[], []])
    assert none == {} and empty.shape == (2, 1) and not empty.any()


def test_percentiles_rank_each_score_within_the_article() -> None:
    for path in sorted(SAMPLE_TXT.glob("*/*.txt"))[:10]:
        # Any split will do: this checks the ranking, not the sentences.
        sentences = re.split(r"(?<=[.!?])\s+", path.read_text(encoding="utf-8"))
        idx, _ = _candidates(sentences)
        features = sentence_features([sentences[i] for i in idx])
        n = len(features)
        for j, name in enumerate(FEATURES):
            if not name.endswith("_percentile"):
                continue
            score = features[:, FEATURES.index(name.removesuffix("_percentile"))]
            expected = np.empty(n)
            expected[np.argsort(-score, kind="stable")] = np.arange(n) / max(1, n - 1)
            assert np.array_equal(features[:, j], expected), (path.name, name)
