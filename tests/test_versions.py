"""Versions of re-scraped articles: what counts as an edit, word diffs, and the CLI's
``history`` and ``diff`` over real indexes written by real runs."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from whoosh.filedb.filestore import FileStorage

from app.cli import cli
from app.indexer import Settings, index_paths
from archive.edits import edit_hash, is_furniture
from index.diffing import MAX_DIFF_WORDS, changed_words, for_display, word_diff
from index.limits import QueryLimits
from index.schema import make_schema
from index.searcher import ArchiveSearcher
from index.store import INDEX_NAME
from tests.test_reliability import archive_cmd, corpus

TITLE = "Council approves flood scheme"
TEXT = (
    "The council approved the flood scheme on Monday. It will cost five million pounds.\n\n"
    "Work starts in spring, officials said, and should end before the winter storms."
)
CHANGED = TEXT.replace(
    "approved the flood scheme on Monday",
    "rejected the flood scheme on Tuesday",
)


def record(text: str = TEXT, title: str = TITLE, **extra: str) -> dict[str, str]:
    return {"id": "flood", "title": title, "text": text, **extra}


@pytest.fixture
def scrape(tmp_path: Path) -> Callable[..., object]:
    """Write the feed with these records and index it, as a scraper's next run would."""
    runner = CliRunner()
    feed = tmp_path / "feed.jsonl"

    def run(*records: dict[str, str]) -> str:
        feed.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        result = archive(runner, tmp_path, "index", str(feed), "--workers", "1")
        assert result.exit_code == 0, result.output
        return result.stdout.strip().splitlines()[-1]

    return run


def archive(runner: CliRunner, tmp_path: Path, *args: str):
    return runner.invoke(cli, ["--index-dir", str(tmp_path / "index"), *args])


def versions(tmp_path: Path, doc_id: str = "flood") -> list:
    with ArchiveSearcher.open(tmp_path / "index") as searcher:
        return searcher.versions(doc_id) or []


def test_whitespace_typography_and_furniture_are_not_edits() -> None:
    same = edit_hash(TITLE, TEXT)
    assert edit_hash(f" {TITLE} ", TEXT.replace(". ", ".  ")) == same
    assert edit_hash(TITLE, TEXT.replace("said,", "said,\u00a0")) == same
    furnished = f"By Jane Smith\n\n{TEXT}\n\nShare this article | Tweet\n\nLast updated 10:32 GMT"
    assert edit_hash(TITLE, furnished) == same
    assert edit_hash(TITLE, TEXT.replace("council", "council’s").replace("’", "'")) == edit_hash(
        TITLE, TEXT.replace("council", "council's")
    )
    assert edit_hash(TITLE, CHANGED) != same
    assert edit_hash("Council rejects flood scheme", TEXT) != same
    # Short paragraphs of reporting are not furniture.
    assert not is_furniture("By the end of the day, 40 homes were flooded.")
    assert not is_furniture("Published figures show unemployment rose.")
    assert edit_hash(TITLE, f"{TEXT}\n\nBy Monday 40 homes were flooded.") != same


def test_a_word_diff_marks_the_changed_words_and_rebuilds_both_sides() -> None:
    old = "One two three four.\n\nFive six seven."
    new = "One two 3 four.\n\nFive six seven eight.\n\nNine."
    segments = word_diff(old, new)
    assert "".join(s.text for s in segments if s.kind != "insert") == old
    assert "".join(s.text for s in segments if s.kind != "delete") == new
    assert [(s.kind, s.text) for s in for_display(segments) if s.kind != "equal"] == [
        ("delete", "three"),
        ("insert", "3"),
        ("delete", "seven."),
        ("insert", "seven eight.\n\nNine."),
    ]
    assert changed_words(segments) == (2, 4)
    assert word_diff(old, old) == [type(segments[0])("equal", old)]


def test_a_long_diff_matches_paragraphs_then_words() -> None:
    paragraphs = [f"Paragraph {n} " + " ".join(f"w{n}x{i}" for i in range(60)) for n in range(200)]
    old = "\n\n".join(paragraphs)
    assert len(old.split()) > MAX_DIFF_WORDS
    edited = paragraphs.copy()
    edited[5] = edited[5].replace("w5x7", "CHANGED")
    edited[150] = edited[150].replace("w150x9", "ALSO")
    new = "\n\n".join(edited)
    changes = [(s.kind, s.text) for s in for_display(word_diff(old, new)) if s.kind != "equal"]
    assert changes == [
        ("delete", "w5x7"),
        ("insert", "CHANGED"),
        ("delete", "w150x9"),
        ("insert", "ALSO"),
    ]
    # As many paragraphs as words, all moved: shown whole rather than matched at length.
    many = "\n\n".join(str(n) for n in range(MAX_DIFF_WORDS + 1))
    backwards = "\n\n".join(str(n) for n in range(MAX_DIFF_WORDS, -1, -1))
    assert [(s.kind, s.text) for s in word_diff(many, backwards)] == [
        ("delete", many),
        ("insert", backwards),
    ]


def test_a_changed_paragraph_makes_a_second_version(scrape, tmp_path: Path) -> None:
    assert scrape(record()) == "indexed 1, updated 0, unchanged 0, deleted 0, skipped 0"
    assert scrape(record(CHANGED)) == "indexed 0, updated 1, unchanged 0, deleted 0, skipped 0"
    first, second = versions(tmp_path)
    assert (first.number, first.text, second.number, second.text) == (1, TEXT, 2, CHANGED)
    assert first.seen <= second.seen and first.hash != second.hash
    with ArchiveSearcher.open(tmp_path / "index") as searcher:  # the current text is searched
        patient = QueryLimits(time_limit=60)  # a loaded machine may pause for half a second
        assert [h.id for h in searcher.search("Tuesday", limits=patient).hits] == ["flood"]
        assert searcher.search("Monday", limits=patient).total == 0

    runner = CliRunner()
    history = archive(runner, tmp_path, "history", "flood")
    assert history.exit_code == 0, history.output
    lines = history.stdout.splitlines()
    assert len(lines) == 3 and lines[0].split()[:3] == ["v", "first", "seen"]
    assert lines[1].split()[0] == "1" and first.hash[:12] in lines[1] and TITLE in lines[1]
    assert lines[2].split()[0] == "2" and "-2 +2 words" in lines[2]

    diff = archive(runner, tmp_path, "diff", "flood")
    assert diff.exit_code == 0, diff.output
    assert "version 1 (" in diff.stdout and "-> version 2 (" in diff.stdout
    assert "The council [-approved-]{+rejected+} the flood scheme on [-Monday.-]{+Tuesday.+}" in (
        diff.stdout
    )
    assert "\x1b[" not in diff.stdout
    coloured = archive(runner, tmp_path, "diff", "flood", "2", "1", "--color", "always")
    assert "\x1b[32mapproved\x1b[0m" in coloured.stdout
    assert "\x1b[31m\x1b[9mrejected\x1b[0m" in coloured.stdout


def test_an_unchanged_rescrape_makes_no_version(scrape, tmp_path: Path) -> None:
    scrape(record())
    seen = versions(tmp_path)[0].seen
    assert scrape(record()) == "indexed 0, updated 0, unchanged 1, deleted 0, skipped 0"
    # Whitespace, furniture and metadata are re-read (the stored article follows them) but
    # are not edits: still one version, first seen when the text was.
    furnished = f"{TEXT.replace('. ', '.   ')}\n\nShare this article\n\nUpdated 3 March 2024"
    assert scrape(record(furnished, author="Jane Smith")).startswith("indexed 0, updated 1")
    (only,) = versions(tmp_path)
    assert only.seen == seen and "Share this article" in only.text
    diff = archive(CliRunner(), tmp_path, "diff", "flood")
    assert diff.exit_code == 0 and diff.stdout == ""
    assert "has one version: nothing to compare" in diff.stderr


def test_versions_are_numbered_and_chosen(scrape, tmp_path: Path) -> None:
    scrape(record())
    scrape(record(CHANGED))
    scrape(record(CHANGED, title="Council rejects flood scheme"))
    assert [v.title for v in versions(tmp_path)] == [TITLE, TITLE, "Council rejects flood scheme"]
    runner = CliRunner()
    diff = archive(runner, tmp_path, "diff", "flood", "1", "3")
    assert "title: Council [-approves-]{+rejects+} flood scheme" in diff.stdout
    assert "[-approved-]{+rejected+}" in diff.stdout
    latest = archive(runner, tmp_path, "diff", "flood")
    assert "title: Council [-approves-]{+rejects+}" in latest.stdout
    assert "[-" not in latest.stdout.split("\n", 2)[2]  # the text did not change
    missing = archive(runner, tmp_path, "diff", "flood", "1", "4")
    assert missing.exit_code == 1
    assert "there is no version 4: the article has versions 1 to 3" in missing.output
    one = archive(runner, tmp_path, "diff", "flood", "2")
    assert one.exit_code == 2 and "give two version numbers" in one.output
    unknown = archive(runner, tmp_path, "history", "nope")
    assert unknown.exit_code == 1 and "no article with id 'nope'" in unknown.output


def test_history_and_diff_escape_control_characters(scrape, tmp_path: Path) -> None:
    # The clean-up drops control characters but keeps bidi overrides, which could reorder
    # what the terminal shows.
    scrape(record(title="Flood \u202ereport"))
    scrape(record(CHANGED, title="Flood \u202ereport"))
    history = archive(CliRunner(), tmp_path, "history", "flood")
    assert "\u202e" not in history.stdout and "Flood" in history.stdout
    diff = archive(CliRunner(), tmp_path, "diff", "flood", "--color", "always")
    assert "\u202e" not in diff.stdout


def test_an_index_from_before_versions_gains_them(tmp_path: Path, write_jsonl) -> None:
    feed = write_jsonl("a.jsonl", [record(CHANGED)])
    index_dir = tmp_path / "index"
    old_schema = make_schema()
    for name in ("version_hash", "version_seen", "versions"):
        old_schema.remove(name)
    index_dir.mkdir()
    ix = FileStorage(str(index_dir)).create_index(old_schema, indexname=INDEX_NAME)
    with ix.writer() as writer:  # as an earlier version stored the article
        writer.add_document(
            id="flood",
            title=TITLE,
            text=TEXT,
            content_hash="old",
            summary_hash="old",
            origin=str(feed.resolve()),
            indexed_at=datetime(2024, 3, 1, 9, 30),
        )
    index_paths([feed], index_dir, Settings(workers=1))
    first, second = versions(tmp_path)
    assert (first.text, second.text) == (TEXT, CHANGED)
    assert first.seen == "2024-03-01T09:30:00"  # when it was indexed: all it knew
    assert first.hash == edit_hash(TITLE, TEXT)  # rehashed from the stored title and text


def test_a_run_killed_mid_way_leaves_versions_as_committed(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    first = corpus(tmp_path / "v1.jsonl", 40)  # too few to learn sentence boundaries from
    lines = first.read_text(encoding="utf-8").splitlines()
    second = tmp_path / "v2.jsonl"
    correction = "A correction was added later."
    second.write_text(
        "".join(
            json.dumps({**(r := json.loads(line)), "text": f"{r['text']} {correction}"}) + "\n"
            for line in lines
        ),
        encoding="utf-8",
    )
    index_paths([first], index_dir, Settings(workers=1))

    def committed() -> int:
        """Articles at their second version; each is consistent with the searched text."""
        edited = 0
        with ArchiveSearcher.open(index_dir) as searcher:
            # A loaded machine must not stop the search at the usual half second.
            patient = QueryLimits(time_limit=60)
            hits = searcher.iter_hits(f'"{correction}"', snippets=False, limits=patient)
            found = {h.id for h in hits}
            for n in range(40):
                history = searcher.versions(f"k{n}") or []
                text = json.loads(lines[n])["text"]
                assert history[0].text == text
                if len(history) == 2:
                    assert history[1].text == f"{text} {correction}"
                    assert history[0].hash != history[1].hash
                    edited += 1
                else:
                    assert len(history) == 1
                assert (f"k{n}" in found) == (len(history) == 2)
        return edited

    # Killed just after its 2nd commit, then a second run just after its 1st: 10 a commit.
    for step, edited in (("commit-2", 20), ("commit-1", 30)):
        args = ("index", str(second), "--workers", "1", "--batch-size", "10")
        killed = subprocess.Popen(
            archive_cmd(index_dir, *args),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, "ARCHIVE_TEST_KILL_AT": step},
        )
        try:
            assert killed.wait(timeout=120) == -signal.SIGKILL
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(killed.pid, signal.SIGKILL)  # anything it started
        assert committed() == edited
    finish = index_paths([second], index_dir, Settings(workers=1))
    assert finish.stale_lock_pid is not None  # the killed run's lock was recognised
    assert (finish.updated, finish.unchanged) == (10, 30)
    assert committed() == 40


def test_a_rebuild_keeps_the_history(scrape, tmp_path: Path, write_jsonl) -> None:
    scrape(record())
    scrape(record(CHANGED))
    before = versions(tmp_path)
    feed = write_jsonl("again.jsonl", [record(CHANGED)])
    index_paths([feed], tmp_path / "index", Settings(workers=1, rebuild=True))
    assert versions(tmp_path) == before  # the same texts, hashes and first-seen dates
    edited = write_jsonl("again.jsonl", [record(CHANGED + " Updated.")])
    index_paths([edited], tmp_path / "index", Settings(workers=1, rebuild=True))
    assert [v.text for v in versions(tmp_path)] == [TEXT, CHANGED, CHANGED + " Updated."]
