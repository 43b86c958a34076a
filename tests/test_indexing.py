"""The indexer on a real Whoosh index on disk: incremental runs, rebuild, deletes, bad input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from archive.errors import NothingToIndex
from app.indexer import Settings, index_paths
from index.errors import IndexLocked
from index.searcher import ArchiveSearcher
from index.store import RunLock


def record(n: int, text: str | None = None, **extra: str) -> dict:
    return {"id": f"a{n}", "title": f"Title {n}", "text": text or f"Body of article {n}.", **extra}


def ids_in(index_dir: Path, query: str = "") -> set[str]:
    with ArchiveSearcher.open(index_dir) as searcher:
        return {h.id for h in searcher.search(query, pagelen=1000).hits}


def test_sample_index_is_searchable(sample_index: Path) -> None:
    with ArchiveSearcher.open(sample_index) as searcher:
        assert searcher.doc_count == 42
        results = searcher.search("flood")
        assert results.total >= 3
        assert all("<mark>" in h.snippet or h.snippet for h in results.hits)
        assert any("<mark>" in h.snippet for h in results.hits)
        doc = searcher.document("csv-0004")
        assert doc["summary"] and doc["segmented"] == "restored"
        assert "Comments" not in doc["summary"]


def test_incremental_runs(write_jsonl: Callable, tmp_path: Path) -> None:
    path = write_jsonl("news.jsonl", [record(1), record(2), record(3)])
    index_dir = tmp_path / "index"
    settings = Settings(workers=1)
    first = index_paths([path], index_dir, settings)
    assert (first.indexed, first.updated, first.unchanged, first.deleted) == (3, 0, 0, 0)

    again = index_paths([path], index_dir, settings)
    assert again.line() == "indexed 0, updated 0, unchanged 3, deleted 0, skipped 0"

    write_jsonl("news.jsonl", [record(1), record(2, "A rewritten body about zebras."), record(4)])
    changed = index_paths([path], index_dir, settings)
    assert changed.line() == "indexed 1, updated 1, unchanged 1, deleted 1, skipped 0"
    assert ids_in(index_dir) == {"a1", "a2", "a4"}
    assert ids_in(index_dir, "zebras") == {"a2"}  # updated in place, no duplicate
    with ArchiveSearcher.open(index_dir) as searcher:
        assert searcher.doc_count == 3


def test_metadata_change_reuses_the_summary(write_jsonl: Callable, tmp_path: Path) -> None:
    path = write_jsonl("news.jsonl", [record(1)])
    index_dir = tmp_path / "index"
    index_paths([path], index_dir, Settings(workers=1))
    with ArchiveSearcher.open(index_dir) as searcher:
        before = searcher.document("a1")
    write_jsonl("news.jsonl", [record(1, title="New title")])
    report = index_paths([path], index_dir, Settings(workers=1))
    assert report.updated == 1
    with ArchiveSearcher.open(index_dir) as searcher:
        after = searcher.document("a1")
    assert after["title"] == "New title"
    assert after["summary"] == before["summary"]


def test_changed_summary_settings_update_everything(write_jsonl: Callable, tmp_path: Path) -> None:
    path = write_jsonl("news.jsonl", [record(1), record(2)])
    index_dir = tmp_path / "index"
    index_paths([path], index_dir, Settings(workers=1))
    report = index_paths([path], index_dir, Settings(workers=1, summarizer="lsa"))
    assert report.updated == 2


def test_rebuild_starts_from_empty(write_jsonl: Callable, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    index_paths([write_jsonl("one.jsonl", [record(1)])], index_dir, Settings(workers=1))
    other = write_jsonl("two.jsonl", [record(2)])
    report = index_paths([other], index_dir, Settings(workers=1, rebuild=True))
    assert report.indexed == 1
    assert ids_in(index_dir) == {"a2"}


def test_bad_rows_are_skipped_and_good_rows_of_the_same_file_searchable(
    tmp_path: Path, build_index: Callable
) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        b"id,title,text\n"
        b"g1,Harbour,The harbour reopened after repairs.\n"
        b"b1,Broken,row,with,extra\n"
        b"b2,Latin,caf\xe9\n"
        b"g2,Bridge,The bridge closed for inspection.\n"
    )
    index_dir, report = build_index(path)
    assert report.line() == "indexed 2, updated 0, unchanged 0, deleted 0, skipped 2"
    assert ids_in(index_dir, "harbour OR bridge") == {"g1", "g2"}


def test_a_bad_file_does_not_delete_its_indexed_articles(tmp_path: Path) -> None:
    folder = tmp_path / "feed"
    folder.mkdir()
    good = folder / "news.jsonl"
    good.write_text('{"id": "k1", "title": "Kept", "text": "Kept text."}\n', encoding="utf-8")
    index_dir = tmp_path / "index"
    index_paths([folder], index_dir, Settings(workers=1))
    good.write_bytes(b'{"id": "k1", "title": "Kept", "text": "Kept \xff text."}\n')
    (folder / "other.jsonl").write_text('{"id": "n1", "text": "New."}\n', encoding="utf-8")
    report = index_paths([folder], index_dir, Settings(workers=1))
    assert report.deleted == 0 and report.skipped == 1
    assert ids_in(index_dir) == {"k1", "n1"}


def test_removed_file_deletes_its_articles(tmp_path: Path) -> None:
    folder = tmp_path / "txt"
    folder.mkdir()
    for name in ("one", "two"):
        (folder / f"{name}.txt").write_text(f"{name}\n\nText {name}.", encoding="utf-8")
    index_dir = tmp_path / "index"
    index_paths([folder], index_dir, Settings(workers=1))
    (folder / "two.txt").unlink()
    report = index_paths([folder], index_dir, Settings(workers=1))
    assert report.deleted == 1
    assert ids_in(index_dir) == {"txt/one"}


def test_duplicate_ids_keep_the_first(write_jsonl: Callable, build_index: Callable) -> None:
    a = write_jsonl("a.jsonl", [record(1, "First version.")])
    b = write_jsonl("b.jsonl", [record(1, "Second version.")])
    index_dir, report = build_index(a, b)
    assert report.indexed == 1 and report.skipped == 1
    assert "duplicate id 'a1'" in str(report.problems[0])
    assert ids_in(index_dir, "first") == {"a1"}


def test_nothing_readable_is_an_error(tmp_path: Path, build_index: Callable) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("not json\n", encoding="utf-8")
    with pytest.raises(NothingToIndex, match="no article could be read"):
        build_index(path)


def test_parallel_workers_index_the_same(sample_dir: Path, tmp_path: Path) -> None:
    report = index_paths([sample_dir], tmp_path / "index", Settings(workers=2, batch_size=10))
    assert report.indexed == 42
    with ArchiveSearcher.open(tmp_path / "index") as searcher:
        assert searcher.doc_count == 42
        assert all(searcher.document(i)["summary"] for i in ("csv-0001", "jl-0002"))


def test_a_live_run_lock_refuses_a_second_writer(tmp_path: Path, write_jsonl: Callable) -> None:
    path = write_jsonl("a.jsonl", [record(1)])
    with RunLock(tmp_path / "index"), pytest.raises(IndexLocked, match="another 'archive index'"):
        index_paths([path], tmp_path / "index", Settings(workers=1))
