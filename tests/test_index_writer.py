"""The writer's costs: what it reads of the index and of the segment it is writing."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
from whoosh.codec.whoosh3 import W3Codec, W3PerDocReader
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.filetables import OrderedHashReader, OrderedHashWriter
from whoosh.reading import SegmentReader

from app.indexer import Settings, index_paths
from index.codec import _TermTable
from index.schema import ArchiveAnalyzer
from index.settings import MERGE_FACTOR
from index.store import live_dir, open_index, open_or_create_index
from index.writer import BatchWriter, known_documents, with_postings


def _lookups_peak(ix) -> int:
    """Python allocations at their peak while reading every id and one stored document."""
    tracemalloc.start()
    try:
        known = known_documents(ix)
        with ix.searcher() as searcher:
            assert searcher.document(id=next(iter(known))) is not None
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_writers_index_reads_segments_without_copying_them(
    tmp_path: Path, sample_dir: Path
) -> None:
    index_dir = tmp_path / "index"
    # Batches of 10: a few segments (the merge policy merges none of them), each large
    # enough that what a reader keeps per segment is not most of what it reads.
    index_paths([sample_dir], index_dir, Settings(workers=1, batch_size=10))
    segments = sum(f.stat().st_size for f in live_dir(index_dir).glob("*.seg"))
    assert len(list(live_dir(index_dir).glob("*.seg"))) > 1
    # A reader of mapped compound segments copies each whole into memory...
    assert _lookups_peak(open_index(index_dir)) > segments
    # ...the writer's reads what it looks up.
    assert _lookups_peak(open_or_create_index(index_dir)) < segments / 4


def test_a_commit_reads_each_field_length_of_the_new_segment_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[int, str]] = []
    read = W3PerDocReader.doc_field_length

    def counting(self, docnum, fieldname, default=0):  # type: ignore[no-untyped-def]
        asked.append((docnum, fieldname))
        return read(self, docnum, fieldname, default)

    monkeypatch.setattr(W3PerDocReader, "doc_field_length", counting)
    ix = open_or_create_index(tmp_path / "index")
    text = " ".join(f"word{n}" for n in range(200))
    with BatchWriter(ix) as writer:
        for n in range(20):
            writer.add(with_postings({"id": f"a{n}", "title": f"title {n}", "text": text}), False)
    assert asked, "the commit asked for no field length"
    assert len(asked) == len(set(asked))
    with open_index(tmp_path / "index").searcher() as searcher:
        assert searcher.doc_count() == 20
        assert searcher.reader().doc_field_length(3, "text") >= 200


def test_merges_and_the_writer_read_segments_unmapped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[bool] = []
    init = SegmentReader.__init__

    def recording(self, storage, *args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(storage.supports_mmap)
        init(self, storage, *args, **kwargs)

    monkeypatch.setattr(SegmentReader, "__init__", recording)
    ix = open_or_create_index(tmp_path / "index")
    count = MERGE_FACTOR + 2
    with BatchWriter(ix, batch_size=1) as writer:
        for n in range(count):  # one segment a commit, until MERGE_FACTOR of them are merged
            writer.add(with_postings({"id": f"a{n}", "title": f"title {n}", "text": "x"}), False)
    # A merge holds every merged segment open at once: mapped, each would be copied whole.
    assert opened and not any(opened)
    merged = open_index(tmp_path / "index")
    assert len(merged._segments()) == 3
    assert merged.doc_count() == count
    assert ix.storage.supports_mmap is False


def test_a_term_in_one_document_has_its_posting_inlined(tmp_path: Path, sample_dir: Path) -> None:
    """Such a term is most of a segment's: its posting goes in its entry in the term table,
    with no block (pickle, zlib, header) of its own, and reads back as written."""
    index_dir = tmp_path / "index"
    index_paths([sample_dir], index_dir, Settings(workers=1))
    ix = open_index(index_dir)
    assert all(type(s.codec()) is W3Codec for s in ix._segments())  # opens without our codec
    found = set()
    with ix.searcher() as searcher:
        reader = searcher.reader()
        assert isinstance(reader, SegmentReader)
        for fieldname in ("text", "id"):
            for term in reader.lexicon(fieldname):
                info = reader._terms.term_info(fieldname, term)
                found.add((fieldname, info.doc_frequency() == 1, info.is_inlined()))
                if fieldname == "text" and info.doc_frequency() == 1:  # the word is where it says
                    (doc,) = reader.postings("text", term).all_ids()
                    (_pos, start, end), *_ = reader.postings("text", term).value_as("characters")
                    text = searcher.stored_fields(doc)["text"]
                    assert next(ArchiveAnalyzer()(text[start:end])).text == term.decode()
    assert found == {("text", True, True), ("text", False, False), ("id", True, True)}


def _term_table(folder: Path, keys: list[bytes], compact: bool) -> tuple[bytes, int]:
    """The bytes of a term table of ``keys``, and the peak of Python allocations adding them."""
    storage = FileStorage(str(folder))
    tracemalloc.start()
    try:
        table = OrderedHashWriter(storage.create_file("terms"))
        if compact:
            table = _TermTable.adopt(table)
        for n, key in enumerate(keys):
            table.add(key, n.to_bytes(4, "big"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    table.close()
    return (folder / "terms").read_bytes(), peak


def test_the_term_table_writes_whooshs_bytes_from_compact_entries(tmp_path: Path) -> None:
    """A merge at 100,000 articles writes hundreds of thousands of terms: Whoosh holds a
    tuple per term until the table is written, ours two array items, for the same file."""
    words = ("said", "café", "€", "x" * 40, "")
    keys = sorted({f"{words[i % 5]}{i * 7919 % 100_003}".encode() for i in range(50_000)})
    (tmp_path / "whoosh").mkdir()
    (tmp_path / "ours").mkdir()
    theirs, their_peak = _term_table(tmp_path / "whoosh", keys, compact=False)
    ours, our_peak = _term_table(tmp_path / "ours", keys, compact=True)
    assert ours == theirs
    assert our_peak < their_peak / 3
    reader = OrderedHashReader.open(FileStorage(str(tmp_path / "ours")), "terms")
    assert [reader[k] for k in keys[::997]] == [
        n.to_bytes(4, "big") for n in range(0, len(keys), 997)
    ]
