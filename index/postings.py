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


def postings(leaf: IndexReader, fieldname: str, btext: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Document numbers (ascending) and weights of a term's postings in one segment,
    deleted documents included. The arrays are shared: never modify them."""
    key = (leaf.segment().segment_id(), fieldname, btext)
    return CACHE.get(key, lambda: _read_postings(leaf, fieldname, btext))


def lengths(leaf: IndexReader, fieldname: str) -> np.ndarray:
    """Every document's length in ``fieldname`` as Whoosh's scorers see it."""
    key = (leaf.segment().segment_id(), fieldname, None)
    return CACHE.get(key, lambda: _read_lengths(leaf, fieldname))


def _read_postings(
    leaf: IndexReader, fieldname: str, btext: bytes
) -> tuple[tuple[np.ndarray, np.ndarray], int]:
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
    return (docs, ws), docs.nbytes + ws.nbytes


def _read_lengths(leaf: IndexReader, fieldname: str) -> tuple[np.ndarray, int]:
    count = leaf.doc_count_all()
    perdoc = leaf._perdoc  # type: ignore[attr-defined]
    name = f"_{fieldname}_len"
    if not perdoc.has_column(name):
        found = np.ones(count)  # what Whoosh's scorer takes when a segment has no lengths
    else:
        stored = np.fromiter(perdoc.column_reader(name, LENGTHS_COLUMN), np.uint8, count)
        found = LENGTHS[stored]
    return found, found.nbytes
