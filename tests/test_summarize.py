"""Summaries: every sumy summariser by name, restored text, bad input, speed."""

from __future__ import annotations

import pathlib

import pytest

from archive.errors import SummaryError
from archive.restore import strip_punctuation
from archive.summarize import (
    DEFAULT_SENTENCES,
    DEFAULT_SUMMARIZER,
    SUMMARIZERS,
    Summary,
    summarize,
    summary_length,
)

ROOT = pathlib.Path(__file__).resolve().parents[1]
RAQQA = ROOT / ".." / "shared" / "samples" / "raqqa-offensive.txt"

ARTICLE = (
    "The city council voted on Monday to build a new bridge over the river. "
    "Mr. Hale, the mayor, said the bridge would cost $40m and open in 2027. "
    "Residents have complained for years about traffic on the old crossing. "
    "Engineers say the old bridge is safe but too narrow for modern buses. "
    "The vote was close, with five members for and four against the plan. "
    "Opponents argued that the money should be spent on schools instead. "
    "Dr. Patel, who led the opposition, said she would ask for a review. "
    "Construction is expected to begin in the spring of next year. "
    "The council will publish the full design in a public report next month. "
    "Local shops near the river hope the bridge will bring more customers."
)


def test_raqqa_summary() -> None:
    s = summarize(RAQQA.read_text(encoding="utf-8"))
    assert s.segmented == "restored"
    assert len(s.sentences) == DEFAULT_SENTENCES
    assert s.summary == " ".join(s.sentences)
    for sent in s.sentences:
        assert 8 <= len(sent.split()) <= 60, sent
        assert sent[0].isupper() and sent.endswith("."), sent
        assert "Carol Adl" not in sent and "Comments" not in sent


@pytest.mark.parametrize("name", SUMMARIZERS)
def test_each_summariser(name: str) -> None:
    s = summarize(ARTICLE, summarizer=name, title="Council votes for new river bridge")
    assert isinstance(s, Summary)
    assert s.segmented == "punkt"
    assert len(s.sentences) == 3
    sentences = [x.strip() for x in ARTICLE.split(". ")]
    positions = [next(i for i, x in enumerate(sentences) if x in t) for t in s.sentences]
    assert positions == sorted(positions), "summary sentences must be in document order"
    assert all(t in ARTICLE for t in s.sentences)


def test_summarisers_on_restored_text() -> None:
    text = strip_punctuation(RAQQA.read_text(encoding="utf-8"))
    for name in SUMMARIZERS:
        s = summarize(text, summarizer=name)
        assert s.segmented == "restored"
        assert len(s.sentences) == 3, name


def test_invalid_summariser_name() -> None:
    with pytest.raises(SummaryError):
        summarize(ARTICLE, summarizer="nope")
    with pytest.raises(SummaryError):
        summarize(ARTICLE, sentences=-1)


def test_default_is_known() -> None:
    assert DEFAULT_SUMMARIZER in SUMMARIZERS


def test_short_articles_get_fewer_sentences() -> None:
    assert summary_length(0) == 0
    assert summary_length(2) == 1
    assert summary_length(6) == 2
    assert summary_length(40) == 3
    assert summary_length(40, 5) == 5
    s = summarize("One short sentence here. And another one there.")
    assert len(s.sentences) == 1


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "word",
        bytes(range(256)).decode("latin-1") * 20,
        "x" * 1_000_000,
        ("lorem ipsum dolor " * 60_000)[:1_000_000],
        "!!!! .... ???? " * 100,
        "\n\n\n",
    ],
    ids=["empty", "blank", "one-word", "binary", "1mb-no-spaces", "1mb-no-punct", "marks", "nl"],
)
@pytest.mark.parametrize("name", [DEFAULT_SUMMARIZER, "edmundson"])
def test_bad_text_never_raises(text: str, name: str) -> None:
    s = summarize(text, summarizer=name)
    assert len(s.sentences) <= DEFAULT_SENTENCES
    if not s.sentences:
        assert s.note
    assert s.segmented in {"punkt", "restored", "empty"}


def test_long_article_is_summarised_from_its_candidates() -> None:
    # Speed is measured by bench/summary_quality.py; here: a 5,000-word article works.
    body = " ".join([ARTICLE] * 40)
    assert len(body.split()) > 4_500
    s = summarize(body)
    assert len(s.sentences) == DEFAULT_SENTENCES
    assert all(sentence in body for sentence in s.sentences)
