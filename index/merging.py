"""Merging index segments into one by streaming their sorted term lists, and when to do it.

Whoosh merges by adding every posting of the merged segments to its sorting pool as a
Python tuple, sorting them and spilling runs to disk: about 11 ms and hundreds of MB for
each merged article at 100,000 articles. Each segment's terms are already sorted by (field,
term) and each posting list by document number, so a k-way merge of the term lists,
concatenating each term's postings with renumbered documents, writes the merged segment
in order while holding one term's postings at a time.
"""

from __future__ import annotations

import heapq
import math
import os
import pickle
import zlib
from array import array
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from io import BytesIO
from itertools import accumulate, groupby
from operator import itemgetter
from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3TermInfo
from whoosh.filedb import filetables
from whoosh.reading import SegmentReader
from whoosh.system import _INT_SIZE, _SHORT_SIZE, unpack_int, unpack_ushort
from whoosh.writing import SegmentWriter

from index.errors import IndexCorrupt
from index.postings import stored_lengths
from index.settings import MERGE_FACTOR, MERGE_FLOOR
from index.store import crash_point, fsync_dir

#: Bytes read at a time from each merged segment's term and posting files, in a merge of
#: up to MERGE_FACTOR segments; a merge of more (a run's rewrites, merged once at its end)
#: reads less at a time, so its buffers stay those of MERGE_FACTOR segments. 1 MB held 20 MB
#: in a merge of 10 segments, the writer's peak at 100,000 articles, for no CPU saved.
_WINDOW_BYTES = 1 << 18
#: A record of Whoosh's term file starts with the lengths of its key and value.
_RECORD_LENGTHS = filetables._lengths


@dataclass
class _PerDocTarget:
    """What ``SegmentWriter.write_per_doc`` uses of a writer, so the merge copies stored
    fields, lengths, columns and vectors exactly as Whoosh's own merge does."""

    schema: Any
    perdocwriter: Any
    docnum: int = 0


class _Window:
    """Reads of a file that mostly move forward, served from one large read at a time."""

    def __init__(self, file: Any, size: int = _WINDOW_BYTES) -> None:
        self._file = file
        self._size = size
        self._start = 0
        self._data = b""

    def get(self, position: int, length: int) -> bytes:
        """``length`` bytes from ``position``."""
        offset = position - self._start
        if offset < 0 or offset + length > len(self._data):
            self._data = self._file.get(position, max(length, self._size))
            self._start, offset = position, 0
        return self._data[offset : offset + length]


class _Source:
    """One merged segment: its reader, new document numbers and field lengths."""

    def __init__(self, storage: Any, schema: Any, segment: Any, base: int, window: int) -> None:
        self.reader = SegmentReader(storage, schema, segment)
        self.window = window
        count = segment.doc_count_all()
        live = np.ones(count, dtype=bool)
        deleted = list(segment.deleted_docs())
        live[deleted] = False
        # Live documents keep their order after those of the segments before; deleted ones
        # map to -1 and are dropped.
        self.docmap = _int_array(np.where(live, base + np.cumsum(live) - 1, -1))
        self.live = int(live.sum())
        self._lengths: dict[str, array[int]] = {}
        self._postings = _Window(self.reader._terms._postfile, window)

    def lengths(self, fieldname: str) -> array[int]:
        """Every document's length in ``fieldname`` as Whoosh reads it (0 without lengths)."""
        found = self._lengths.get(fieldname)
        if found is None:
            stored = stored_lengths(self.reader, fieldname)
            count = len(self.docmap)
            found = _int_array(np.zeros(count) if stored is None else stored)
            self._lengths[fieldname] = found
        return found

    def terms(self, index: int) -> Iterator[tuple[tuple[str, bytes], int, Any]]:
        """(field, term), this source's index and the term's info, in sorted order."""
        # The term file's records read in order, as OrderedHashReader.items() does, from
        # large reads rather than two small reads per term.
        tindex = self.reader._terms._tindex
        window = _Window(tindex.dbfile, self.window)
        fieldnames = self.reader._terms._fieldunmap
        pos, end, size = tindex.startofdata, tindex.endofdata, _RECORD_LENGTHS.size
        while pos < end:
            keylen, datalen = _RECORD_LENGTHS.unpack(window.get(pos, size))
            record = window.get(pos + size, keylen + datalen)
            (fieldnum,) = unpack_ushort(record[:_SHORT_SIZE])
            term = (fieldnames[fieldnum], record[_SHORT_SIZE:keylen])
            yield term, index, W3TermInfo.from_bytes(record[keylen:])
            pos += size + keylen + datalen

    def postings(
        self, info: Any, fixed: int | None
    ) -> Iterator[tuple[list[int], Sequence[float], Sequence[bytes | None]]]:
        """Blocks of (old document numbers, weights, values) of one term."""
        if info.is_inlined():
            ids, weights, values = info.inlined_postings()
            yield list(ids), weights, values or [None] * len(ids)
            return
        # The whole list in one read, its blocks decoded as Whoosh's W3LeafMatcher does:
        # reading a block's header through a segment file costs a call per byte.
        offset, length = info.extent()
        if isinstance(length, tuple):  # W3TermInfo.from_bytes leaves it unpacked
            (length,) = length
        raw = self._postings.get(offset, length)
        if raw[: len(WHOOSH3_HEADER_MAGIC)] != WHOOSH3_HEADER_MAGIC:
            raise IndexCorrupt(f"no posting list at {offset} in {self.reader.segment()}")
        stream = BytesIO(raw)
        position = len(WHOOSH3_HEADER_MAGIC)
        while position < len(raw):
            (size,) = unpack_int(raw[position : position + _INT_SIZE])
            stream.seek(position + _INT_SIZE)
            count, _, _, compression, _, _ = pickle.load(stream)
            position += _INT_SIZE + abs(size)
            data = raw[stream.tell() : position]
            ids, weights, values = pickle.loads(zlib.decompress(data) if compression else data)
            if weights is None:
                weights = [1.0] * count
            elif isinstance(weights, float):
                weights = [weights] * count
            if fixed is not None and fixed > 0:
                values = [values[i : i + fixed] for i in range(0, len(values), fixed)]
            yield list(accumulate(ids)), weights, values
            if size < 0:  # the last block
                break

    def close(self) -> None:
        """Close the segment's reader."""
        self.reader.close()


def _int_array(values: np.ndarray) -> array[int]:
    """``values`` as machine integers that index like a list (a Python int per item costs
    36 bytes; these hold one per document of every merged segment)."""
    return array("q", values.astype(np.int64).tobytes())


def merge_segments(writer: SegmentWriter, storage: Any, segments: Sequence[Any]) -> Any:
    """Write the live documents of ``segments`` into one new segment of ``writer``'s index,
    in their order, and return it (fully written and synced, not yet in any table of
    contents)."""
    schema, codec = writer.schema, writer.codec
    segment = codec.new_segment(storage, writer.indexname)
    sources: list[_Source] = []
    window = min(_WINDOW_BYTES, _WINDOW_BYTES * MERGE_FACTOR // max(1, len(segments)))
    try:
        base = 0
        for old in segments:
            sources.append(_Source(storage, schema, old, base, window))
            base += sources[-1].live
        target = _PerDocTarget(schema, codec.per_document_writer(storage, segment))
        for source in sources:
            names = {n for n in source.reader.indexed_field_names() if n in schema}
            SegmentWriter.write_per_doc(target, set(schema.names()) | names, source.reader)  # type: ignore[arg-type]
        target.perdocwriter.close()
        segment.set_doc_count(target.docnum)
        fieldwriter = codec.field_writer(storage, segment)
        dropped = _write_postings(fieldwriter, schema, sources)
        fieldwriter.close()
        # Copying lengths through their one-byte form rounds them: the totals BM25 divides by
        # are the segments' exact ones, less the deleted documents' (from their postings).
        totals: Counter[str] = Counter()
        for old in segments:
            totals.update(old._fieldlengths)
        totals.subtract(dropped)
        segment._fieldlengths = {name: total for name, total in totals.items() if total}
    finally:
        for source in sources:
            source.close()
    if segment.should_assemble():
        segment.create_compound_file(storage)
        segment.compound = True
    _sync(storage, segment)
    return segment


def _write_postings(fieldwriter: Any, schema: Any, sources: list[_Source]) -> Counter[str]:
    """Write the merged postings; return each field's length in the deleted documents."""
    dropped: Counter[str] = Counter()
    terms = heapq.merge(*(source.terms(n) for n, source in enumerate(sources)))
    scored = {name for name, fieldobj in schema.items() if fieldobj.scorable}
    field: str | None = None
    last: tuple[str, bytes] | None = None
    for term, group in groupby(terms, key=itemgetter(0)):
        fieldname, btext = term
        if fieldname not in schema:
            continue
        if last is not None and term < last:
            raise IndexCorrupt(f"segment terms out of order: {last!r} before {term!r}")
        last = term
        fmt = schema[fieldname].format
        fixed = fmt.fixed_value_size()
        started = False
        for _, n, info in group:
            source = sources[n]
            lengths = source.lengths(fieldname)
            docmap = source.docmap
            for old, weights, values in source.postings(info, fixed):
                docs = [docmap[doc] for doc in old]
                if -1 in docs:
                    kept = [i for i, doc in enumerate(docs) if doc >= 0]
                    if fieldname in scored:
                        gone = sum(w for w, doc in zip(weights, docs, strict=True) if doc < 0)
                        # A posting's weight is its frequency times the format's boost.
                        dropped[fieldname] += round(gone / fmt.field_boost)
                    old = [old[i] for i in kept]
                    docs = [docs[i] for i in kept]
                    weights = [weights[i] for i in kept]
                    values = [values[i] for i in kept] if fixed != 0 else values
                if not docs:
                    continue
                if not started:
                    # A term whose every posting was deleted is left out, as Whoosh does.
                    if field != fieldname:
                        if field is not None:
                            fieldwriter.finish_field()
                        fieldwriter.start_field(fieldname, schema[fieldname])
                        field = fieldname
                    fieldwriter.start_term(btext)
                    started = True
                lens = [lengths[doc] for doc in old]
                _add_postings(fieldwriter._postwriter, docs, weights, values, lens, fixed != 0)
        if started:
            fieldwriter.finish_term()
    if field is not None:
        fieldwriter.finish_field()
    return dropped


def _add_postings(
    writer: Any,
    docs: list[int],
    weights: Sequence[float],
    values: Sequence[bytes | None],
    lengths: list[int],
    valued: bool,
) -> None:
    """What ``W3PostingsWriter.add_posting`` does for each posting, a block at a time."""
    limit = writer._blocklimit
    start = 0
    while start < len(docs):
        if len(writer._ids) >= limit:
            writer._write_block()
        end = start + limit - len(writer._ids)
        writer._ids.extend(docs[start:end])
        chunk = weights[start:end]
        writer._weights.extend(chunk)
        writer._maxweight = max(writer._maxweight, max(chunk))
        if valued:
            writer._values.extend(v for v in values[start:end] if v)
        sized = [n for n in lengths[start:end] if n]
        if sized:
            low = min(sized)
            if writer._minlength is None or low < writer._minlength:
                writer._minlength = low
            writer._maxlength = max(writer._maxlength, max(sized))
        start = end


def _sync(storage: Any, segment: Any) -> None:
    """Make the new segment's files durable before a table of contents names them."""
    folder = getattr(storage, "folder", None)
    if folder is None:  # an in-memory index
        return
    for name in segment.list_files(storage):
        fd = os.open(os.path.join(folder, name), os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    fsync_dir(folder)


def merge_level(doc_count: int) -> int:
    """A segment's tier: the power of ``MERGE_FACTOR`` nearest its size in units of
    ``MERGE_FLOOR`` documents (tier 1 from about 3,200 to 32,000 with the defaults).

    Rounded rather than truncated: ``MERGE_FACTOR`` segments of a tier merge into one of
    the next even when rewrites deleted many of their documents; truncated, 10 merged
    batches of 900 live documents stayed in tier 0 and were merged again and again.
    """
    if doc_count <= MERGE_FLOOR:
        return 0
    return round(math.log(doc_count / MERGE_FLOOR, MERGE_FACTOR))


def chosen_for_merge(segments: Sequence[Any]) -> list[Any]:
    """The segments to merge now: the ``MERGE_FACTOR`` or more of the lowest tier that has
    that many, so each document is merged about once per tier (log of the index size)."""
    tiers: dict[int, list[Any]] = {}
    for segment in segments:
        tiers.setdefault(merge_level(segment.doc_count()), []).append(segment)
    for level in sorted(tiers):
        if len(tiers[level]) >= MERGE_FACTOR:
            return tiers[level]
    return []


def log_merge(writer: SegmentWriter, segments: list[Any]) -> list[Any]:
    """Merge policy: stream-merge the segments ``chosen_for_merge`` picks into one new
    segment in the place of the first; keep the others as they are."""
    chosen = chosen_for_merge(segments)
    if not chosen:
        return list(segments)
    merged = merge_segments(writer, writer.storage, chosen)
    crash_point("merged")  # written, but named by no table of contents yet
    ids = {id(s) for s in chosen}
    first = next(n for n, s in enumerate(segments) if id(s) in ids)
    kept = [s for s in segments if id(s) not in ids]
    if merged.doc_count_all():  # else every merged document was deleted
        kept.insert(first, merged)
    return kept
