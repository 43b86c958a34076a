"""The indexer on a real Whoosh index on disk: incremental runs, rebuild, deletes, bad input."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from app.indexer import Settings, index_paths
from archive.errors import NothingToIndex
from index.errors import IndexLocked
from index.searcher import ArchiveSearcher
from index.store import RunLock
from web import create_app


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
    # The cp1252 row is read with a warning, not skipped.
    assert report.line() == "indexed 3, updated 0, unchanged 0, deleted 0, skipped 1"
    assert ids_in(index_dir, "harbour OR bridge") == {"g1", "g2"}
    assert ids_in(index_dir, "café") == {"b2"}


def test_a_bad_file_does_not_delete_its_indexed_articles(tmp_path: Path) -> None:
    folder = tmp_path / "feed"
    folder.mkdir()
    good = folder / "news.jsonl"
    good.write_text('{"id": "k1", "title": "Kept", "text": "Kept text."}\n', encoding="utf-8")
    index_dir = tmp_path / "index"
    index_paths([folder], index_dir, Settings(workers=1))
    good.write_bytes(b'{"id": "k1", "title": "Kept", "text": "Kept text.\n')
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


def write_folder(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


CORPUS = {
    "tech/001.txt": "Chips get faster\n\nA new chip doubles the speed of phones. It ships in May.",
    "tech/002.txt": "Broadband grows\n\nMore homes have fast broadband. Prices keep falling.",
    "business/001.txt": "Shares rise\n\nMarkets rose on Monday. Banks led the gains.",
    "business/002.txt": "Oil prices fall\n\nOil fell for a third day. Traders expect more.",
}


def test_ids_survive_indexing_a_child_then_its_parent(tmp_path: Path) -> None:
    bbc = tmp_path / "corpora" / "bbc"
    write_folder(bbc, CORPUS)
    index_dir = tmp_path / "index"
    first = index_paths([bbc / "tech"], index_dir, Settings(workers=1))
    assert ids_in(index_dir) == {"tech/001", "tech/002"}

    parent = index_paths([bbc], index_dir, Settings(workers=1))
    assert parent.line() == "indexed 2, updated 0, unchanged 2, deleted 0, skipped 0"
    assert ids_in(index_dir) == {"tech/001", "tech/002", "bbc/business/001", "bbc/business/002"}
    with ArchiveSearcher.open(index_dir) as searcher:
        assert searcher.document("bbc/business/002")["category"] == "business"

    # A new file in the first folder takes an id like its neighbours', wherever indexed from.
    write_folder(bbc, {"tech/003.txt": "Robots\n\nRobots sort parcels. Jobs change."})
    again = index_paths([bbc], index_dir, Settings(workers=1))
    assert again.line() == "indexed 1, updated 0, unchanged 4, deleted 0, skipped 0"
    assert "tech/003" in ids_in(index_dir)
    child = index_paths([bbc / "tech"], index_dir, Settings(workers=1))
    assert child.line() == "indexed 0, updated 0, unchanged 3, deleted 0, skipped 0"
    assert first.indexed == 2


def test_ids_survive_indexing_a_parent_then_its_child(tmp_path: Path) -> None:
    bbc = tmp_path / "corpora" / "bbc"
    write_folder(bbc, CORPUS)
    index_dir = tmp_path / "index"
    index_paths([bbc], index_dir, Settings(workers=1))
    before = ids_in(index_dir)
    assert before == {"bbc/tech/001", "bbc/tech/002", "bbc/business/001", "bbc/business/002"}

    child = index_paths([bbc / "tech"], index_dir, Settings(workers=1))
    assert child.line() == "indexed 0, updated 0, unchanged 2, deleted 0, skipped 0"
    assert ids_in(index_dir) == before

    # New files under the child get ids relative to the folder first indexed; a removed
    # one is still deleted.
    write_folder(bbc, {"tech/003.txt": "Robots\n\nRobots sort parcels. Jobs change."})
    (bbc / "tech" / "002.txt").unlink()
    changed = index_paths([bbc / "tech"], index_dir, Settings(workers=1))
    assert changed.line() == "indexed 1, updated 0, unchanged 1, deleted 1, skipped 0"
    assert ids_in(index_dir) == before - {"bbc/tech/002"} | {"bbc/tech/003"}
    with ArchiveSearcher.open(index_dir) as searcher:
        assert searcher.document("bbc/tech/003")["category"] == "tech"
    # The file named on its own keeps its id too.
    single = index_paths([bbc / "tech" / "001.txt"], index_dir, Settings(workers=1))
    assert single.line() == "indexed 0, updated 0, unchanged 1, deleted 0, skipped 0"


def test_bbc_ids_survive_indexing_a_child_then_the_parent(tmp_path: Path, bbc_dir: Path) -> None:
    bbc = tmp_path / "bbc"
    for sub in ("tech", "business"):
        for path in sorted((bbc_dir / sub).glob("*.txt"))[:15]:
            write_folder(bbc, {f"{sub}/{path.name}": path.read_text(encoding="utf-8")})
    (bbc / "README.TXT").write_text((bbc_dir / "README.TXT").read_text("latin-1"), "utf-8")
    index_dir = tmp_path / "index"
    assert index_paths([bbc / "tech"], index_dir, Settings(workers=1)).indexed == 15
    report = index_paths([bbc], index_dir, Settings(workers=1))
    assert report.line() == "indexed 15, updated 0, unchanged 15, deleted 0, skipped 0"
    with ArchiveSearcher.open(index_dir) as searcher:
        facets = searcher.search("", pagelen=1, facets=True).facets
    # Articles read from a sub-folder of the folder indexed take its name as category.
    assert facets["category"] == [("business", 15)]


def test_title_only_article_is_found_by_its_title(tmp_path: Path, build_index: Callable) -> None:
    path = tmp_path / "briefs.csv"
    path.write_text(
        "id,title,text\nb1,Council approves harbour budget,\n"
        "b2,Ferry timetable,The ferry runs twice a day.\n",
        encoding="utf-8",
    )
    index_dir, report = build_index(path)
    assert report.line() == "indexed 2, updated 0, unchanged 0, deleted 0, skipped 0"
    [warning] = report.problems
    assert not warning.skipped and "no text" in warning.reason and warning.line == 2
    assert ids_in(index_dir, "harbour") == {"b1"}
    with ArchiveSearcher.open(index_dir) as searcher:
        doc = searcher.document("b1")
    assert doc["title"] == "Council approves harbour budget" and not doc.get("summary")
    client = create_app({"INDEX_DIR": str(index_dir), "TESTING": True}).test_client()
    for url in ("/articles/b1", "/?q=harbour", "/api/articles/b1"):
        assert client.get(url).status_code == 200, url


def test_untitled_article_takes_its_first_sentence_as_title(
    tmp_path: Path, build_index: Callable
) -> None:
    path = tmp_path / "wire.txt"
    words = "the council met on monday to discuss the harbour wall repairs " * 3
    path.write_text(words + "Residents were angry about the cost of the works", "utf-8")
    index_dir, _ = build_index(path)
    with ArchiveSearcher.open(index_dir) as searcher:
        title = searcher.document("wire")["title"]
    assert title.startswith("The council met on monday") and len(title) <= 102
    assert not title.endswith(("the …", " …  …"))


# In a fresh interpreter: this one's fork server may already run (or be kept from stopping
# by the children of other tests), so its state says nothing about the run's order.
_SERVER_ORDER = """
import sys
from multiprocessing import forkserver
from pathlib import Path
from app import indexer
from app.indexer import Settings, index_paths

seen = []
learn = indexer.load_segmenter

def load_segmenter(*args, **kwargs):
    seen.append(forkserver._forkserver._forkserver_pid)
    return learn(*args, **kwargs)

indexer.load_segmenter = load_segmenter
out = Path(sys.argv[2])
index_paths([Path(sys.argv[1])], out / "one", Settings(workers=1))
index_paths([Path(sys.argv[1])], out / "two", Settings(workers=2))
print(seen[0] is None, seen[1] is not None)
"""


def test_the_workers_server_starts_before_the_sentence_model_is_learned(
    tmp_path: Path, sample_dir: Path
) -> None:
    """Its imports overlap learning the model; a run on one process starts none."""
    done = subprocess.run(
        [sys.executable, "-c", _SERVER_ORDER, str(sample_dir), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert done.stdout.split() == ["True", "True"]
