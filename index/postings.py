"""Posting lists and field lengths of index segments as numpy arrays, cached by size.

Whoosh's matchers step through a posting list one document at a time in Python; reading a
list block by block into arrays once lets a search score every match with a few numpy
operations (index/vectored.py). A segment's files never change once written, so the arrays
are kept per (segment, field, term) by the process, across readers and commits, up to
``POSTINGS_CACHE_BYTES`` (least recently used dropped first).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher
from whoosh.reading import IndexReader
from whoosh.util.numeric import byte_to_length

from index.settings import POSTINGS_CACHE_BYTES

#: Whoosh stores a field's length in a document as one byte; this maps it back.
LENGTHS = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)

T = TypeVar("T")
#: What an entry costs besides its arrays (key, arrays' headers), so that absent terms
#: count too.
_ENTRY_BYTES = 300


class ArrayCache:
    """Arrays by key, least recently used dropped past ``limit`` bytes in all."""

    def __init__(self, limit: int) -> None:
        """Keep up to ``limit`` bytes of arrays."""
        self.limit = limit
        self.size = 0
        self._lock = threading.Lock()
        self._items: OrderedDict[Any, tuple[Any, int]] = OrderedDict()

    def get(self, key: Any, make: Callable[[], tuple[T, int]]) -> T:
        """The value under ``key``, made by ``make()`` (value, bytes) when missing."""
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found[0]  # type: ignore[no-any-return]
        # Made outside the lock: two threads may both read a list, which is harmless.
        value, size = make()
        with self._lock:
            if key not in self._items and size <= self.limit:
                self._items[key] = (value, size)
                self.size += size
                while self.size > self.limit:
                    _, (_, dropped) = self._items.popitem(last=False)
                    self.size -= dropped
        return value

    def clear(self) -> None:
        """Forget every array."""
        with self._lock:
            self._items.clear()
            self.size = 0


CACHE = ArrayCache(POSTINGS_CACHE_BYTES)


class SegmentArrays:
    """One segment's posting lists, field lengths and deletions as arrays (cached)."""

    def __init__(self, leaf: IndexReader) -> None:
        """Read from ``leaf``, a reader of one segment."""
        self.leaf = leaf
        self.segid = leaf.segment().segment_id()
        self.doc_count = leaf.doc_count()
        self.doc_count_all = leaf.doc_count_all()

    def postings(self, fieldname: str, btext: bytes) -> tuple[np.ndarray, np.ndarray]:
        """Document numbers (ascending) and weights of a term's postings, deleted documents
        included (so their number is the term's document frequency in the segment); empty
        when the segment lacks the term. The arrays are shared: never modify them."""
        key = (self.segid, fieldname, btext)
        return CACHE.get(key, lambda: _read_postings(self.leaf, fieldname, btext))

    def lengths(self, fieldname: str) -> np.ndarray:
        """Every document's length in ``fieldname`` as Whoosh's scorers see it."""
        return CACHE.get((self.segid, fieldname, None), lambda: _read_lengths(self.leaf, fieldname))

    def deleted(self) -> np.ndarray | None:
        """Which documents are deleted, as a mask by document number (None when none is).
        A segment only ever gains deletions, so their number tells its state."""
        count = self.doc_count_all - self.doc_count
        if not count:
            return None
        numbers = self.leaf.deleted_docs_set  # type: ignore[attr-defined]
        return CACHE.get((self.segid, "deleted", count), lambda: _mask(self.doc_count_all, numbers))


def _mask(count: int, numbers: frozenset[int]) -> tuple[np.ndarray, int]:
    mask = np.zeros(count, dtype=bool)
    mask[np.fromiter(numbers, dtype=np.int64, count=len(numbers))] = True
    return mask, mask.nbytes


def _read_postings(
    leaf: IndexReader, fieldname: str, btext: bytes
) -> tuple[tuple[np.ndarray, np.ndarray], int]:
    if (fieldname, btext) not in leaf:
        docs = np.zeros(0, dtype=np.int32)
        ws = np.zeros(0, dtype=np.float32)
        return (docs, ws), _ENTRY_BYTES
    # The segment's raw matcher: without the filter of deleted documents postings() adds.
    matcher = leaf._terms.matcher(fieldname, btext, leaf.schema[fieldname].format)  # type: ignore[attr-defined]
    ids: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    if isinstance(matcher, W3LeafMatcher):
        # A block's document numbers are stored as differences from the previous one,
        # its weights as None (all 1.0), one number (all the same) or one per posting.
        while matcher.is_active():
            matcher._read_data()
            deltas, blockweights, _ = matcher._data
            count = len(deltas)
            ids.append(np.cumsum(np.asarray(deltas, dtype=np.int64)))
            if blockweights is None:
                weights.append(np.ones(count, dtype=np.float32))
            elif isinstance(blockweights, float):
                weights.append(np.full(count, blockweights, dtype=np.float32))
            else:
                weights.append(np.asarray(blockweights, dtype=np.float32))
            matcher._next_block()
    else:  # postings inlined in the term's entry: a short list, read one by one
        found: list[tuple[int, float]] = []
        while matcher.is_active():
            found.append((matcher.id(), matcher.weight()))
            matcher.next()
        ids.append(np.array([i for i, _ in found], dtype=np.int64))
        weights.append(np.array([w for _, w in found], dtype=np.float32))
    docs = np.concatenate(ids).astype(np.int32) if ids else np.zeros(0, dtype=np.int32)
    ws = np.concatenate(weights) if weights else np.zeros(0, dtype=np.float32)
    return (docs, ws), docs.nbytes + ws.nbytes + _ENTRY_BYTES


def stored_lengths(leaf: IndexReader, fieldname: str) -> np.ndarray | None:
    """Every document's length in ``fieldname`` as Whoosh reads it back from its one-byte
    form, deleted documents included; None when the segment keeps no lengths for it."""
    perdoc = leaf._perdoc  # type: ignore[attr-defined]
    name = f"_{fieldname}_len"
    if not perdoc.has_column(name):
        return None
    count = leaf.doc_count_all()
    return LENGTHS[np.fromiter(perdoc.column_reader(name, LENGTHS_COLUMN), np.uint8, count)]  # type: ignore[no-any-return]


def _read_lengths(leaf: IndexReader, fieldname: str) -> tuple[np.ndarray, int]:
    found = stored_lengths(leaf, fieldname)
    if found is None:
        found = np.ones(leaf.doc_count_all())  # what Whoosh's scorer takes without lengths
    return found, found.nbytes
