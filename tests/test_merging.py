"""The streaming merge (index/merging.py) writes the segment one writer would have written
from the same live documents: same stored fields, lengths, columns, postings and search
results."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest
from whoosh.index import FileIndex

from index.merging import chosen_for_merge, merge_level
from index.searcher import ArchiveSearcher
from index.settings import MERGE_FACTOR, MERGE_FLOOR
from index.store import create_index, live_dir, open_index
from index.writer import BatchWriter, with_postings
from tests.test_reliability import assert_readable, corpus, run
from tests.test_vectored import FALLBACK, FIXED, OPTIONS, UNHURRIED

COPIES = 4
PER_SEGMENT = 15


@pytest.fixture(scope="module")
def documents(sample_index: Path) -> list[dict[str, Any]]:
    """The sample's documents, copied under new ids; "edition" is in every title, so its
    postings span several blocks."""
    with open_index(sample_index).searcher() as searcher:
        stored = sorted(searcher.all_stored_fields(), key=lambda f: f["id"])
    docs = []
    for copy in range(COPIES):
        for fields in stored:
            doc = dict(fields, id=f"{fields['id']}#{copy}", story=f"{fields['story']}#{copy % 3}")
            doc["title"] = f"{fields['title']} edition{copy} edition"
            doc["text"] = fields["text"][:1500]  # shorter: fewer terms for each commit to write
            docs.append(doc)
    return docs


def _add(ix: FileIndex, docs: list[dict[str, Any]], deleted: list[str] = ()) -> None:  # type: ignore[assignment]
    writer = ix.writer()
    for doc in docs:
        writer.add_document(**with_postings(doc))
    for doc_id in deleted:
        writer.delete_by_term("id", doc_id)
    writer.commit(merge=False)


@pytest.fixture(scope="module")
def merged_and_direct(
    documents: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """(a) small segments, with deletions, merged by the streaming merge; (b) the same live
    documents written by one writer as one segment."""
    root = tmp_path_factory.mktemp("merging")
    ix = create_index(root / "merged")
    deleted = [documents[n]["id"] for n in (0, 5, 40, 41, 70, 100)]
    chunks = [documents[n : n + PER_SEGMENT] for n in range(0, len(documents), PER_SEGMENT)]
    assert len(chunks) >= MERGE_FACTOR
    for n, chunk in enumerate(chunks):
        # Deletions land in segments already committed, as updates and stories' rewrites do.
        _add(ix, chunk, deleted if n == 8 else [])
    assert len(open_index(root / "merged")._segments()) == len(chunks)
    with BatchWriter(ix) as writer:
        assert writer.delete([documents[7]["id"]]) == 1  # this commit merges
    gone = set(deleted) | {documents[7]["id"]}
    _add(create_index(root / "direct"), [d for d in documents if d["id"] not in gone])
    return root / "merged", root / "direct"


def test_the_commit_merged_every_small_segment_into_one(
    merged_and_direct: tuple[Path, Path], documents: list[dict[str, Any]]
) -> None:
    merged = open_index(merged_and_direct[0])
    assert len(merged._segments()) == 1
    assert merged.doc_count_all() == merged.doc_count() == len(documents) - 7


@pytest.mark.parametrize("asked", [{"merge": False}, {"optimize": True}])
def test_a_commit_that_asks_how_to_merge_gets_what_it_asks(
    tmp_path: Path, documents: list[dict[str, Any]], asked: dict[str, bool]
) -> None:
    """The streaming policy replaces Whoosh's default only: no merge, or one segment."""
    from index.writer import _SegmentWriter

    ix = create_index(tmp_path / "ix")
    for n in range(MERGE_FACTOR):
        _add(ix, documents[n : n + 1])
    writer = _SegmentWriter(ix)
    writer.delete_by_term("id", documents[0]["id"])
    writer.commit(**asked)
    segments = open_index(tmp_path / "ix")._segments()
    assert len(segments) == (MERGE_FACTOR if asked.get("merge") is False else 1)


def test_merged_segment_holds_what_one_writer_writes(merged_and_direct: tuple[Path, Path]) -> None:
    a, b = (open_index(path).reader() for path in merged_and_direct)
    try:
        assert a.doc_count_all() == b.doc_count_all()
        docnums = list(range(b.doc_count_all()))
        assert [a.stored_fields(n) for n in docnums] == [b.stored_fields(n) for n in docnums]
        schema = b.schema
        for name in schema.names():
            if schema[name].scorable:
                assert a.field_length(name) == b.field_length(name), name
                assert a.max_field_length(name) == b.max_field_length(name), name
                assert [a.doc_field_length(n, name) for n in docnums] == [
                    b.doc_field_length(n, name) for n in docnums
                ], name
            if schema[name].column_type:
                assert list(a.column_reader(name, translate=False)) == list(
                    b.column_reader(name, translate=False)
                ), name
        terms = list(b.all_terms())
        assert list(a.all_terms()) == terms
        many = 0
        for fieldname, btext in terms:
            fmt = schema[fieldname].format
            postings = []
            for reader in (a, b):
                info = reader.term_info(fieldname, btext)
                stats = (info.doc_frequency(), info.weight(), info.min_length(), info.max_length())
                matcher = reader.postings(fieldname, btext)
                found = []
                while matcher.is_active():
                    found.append((matcher.id(), matcher.weight(), matcher.value()))
                    matcher.next()
                postings.append((stats, info.max_weight(), found))
                assert fmt.fixed_value_size() == 0 or all(v for _, _, v in found)
            assert postings[0] == postings[1], (fieldname, btext)
            many += len(postings[1][2]) > 128  # a posting block holds 128
        assert many, "no term spans several posting blocks"
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("vectored", [True, False])
def test_searches_answer_the_same_on_the_merged_index(
    merged_and_direct: tuple[Path, Path], vectored: bool
) -> None:
    a, b = (ArchiveSearcher.open(path) for path in merged_and_direct)
    try:
        for searcher in (a, b):
            searcher.vectored = vectored
        for text in FIXED + FALLBACK:
            # Whoosh's matchers answer everything the fast path does not: once per query.
            for options in [{}, *OPTIONS] if vectored else [{}]:
                pages = []
                for searcher in (a, b):
                    found = searcher.search(text, limits=UNHURRIED, **options).to_dict()
                    found.pop("took_ms")
                    pages.append(found)
                assert pages[0] == pages[1], (text, options)
        assert a.search("harbour", limits=UNHURRIED).total > 0
    finally:
        a.close()
        b.close()


def test_a_run_killed_after_writing_a_merged_segment_keeps_its_last_commit(
    tmp_path: Path,
) -> None:
    index_dir = tmp_path / "index"
    source = corpus(tmp_path / "feed.jsonl", 60)
    batch = ["--workers", "1", "--batch-size", "5"]
    env = {**os.environ, "ARCHIVE_TEST_KILL_AT": "merged"}
    killed = run(index_dir, "index", str(source), *batch, env=env)
    assert killed.returncode == -signal.SIGKILL
    # Killed in the commit after MERGE_FACTOR batches: the index is the last commit's.
    assert assert_readable(index_dir) == 5 * MERGE_FACTOR
    folder = live_dir(index_dir)
    committed = {seg.make_filename(seg.COMPOUND_EXT) for seg in open_index(index_dir)._segments()}
    orphans = {f.name for f in folder.glob("*.seg")} - committed
    assert orphans, "the merged segment was written before the kill"
    again = run(index_dir, "index", str(source), *batch)
    assert again.returncode == 0, again.stderr
    assert assert_readable(index_dir) == 60
    assert len(open_index(index_dir)._segments()) < MERGE_FACTOR
    assert not orphans & {f.name for f in folder.iterdir()}, "the next commit removes it"


def test_tiers_merge_a_factor_of_similar_segments() -> None:
    class Seg:
        def __init__(self, count: int) -> None:
            self.count = count

        def doc_count(self) -> int:
            return self.count

    assert merge_level(1) == merge_level(MERGE_FLOOR) == merge_level(2 * MERGE_FLOOR) == 0
    assert merge_level(MERGE_FLOOR * MERGE_FACTOR) == 1
    # A merge of a tier's segments lands in the next tier, even with half its documents
    # deleted since (so it is not merged again with the small ones).
    assert merge_level(MERGE_FLOOR * MERGE_FACTOR // 2) == 1
    assert merge_level(MERGE_FLOOR * MERGE_FACTOR**2 // 2) == 2
    small = [Seg(MERGE_FLOOR) for _ in range(MERGE_FACTOR - 1)]
    big = [Seg(MERGE_FLOOR * MERGE_FACTOR) for _ in range(MERGE_FACTOR)]
    assert chosen_for_merge(small) == []
    assert chosen_for_merge(big + small) == big
    extra = Seg(5)
    assert chosen_for_merge(big + small + [extra]) == [*small, extra]  # the lowest tier first
