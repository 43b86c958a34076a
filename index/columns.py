"""Facet values and dates of every article as numpy arrays, read once per commit.

Counting facets with Whoosh's FacetCollector looks up every matching document's column
values in Python, which was two thirds of a search's time at 20,000 articles. Here each
facet is an array of value codes indexed by document number, so the counts of any set of
matches are one ``numpy.bincount``; the date column is an array too, for the timeline.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from whoosh.reading import IndexReader

from index.facets import UNDATED
from index.schema import FACET_FIELDS
from index.timeline import DAY

#: Counts remembered per commit: a user paging through one search, or adding a filter,
#: asks for the same counts again.
CACHED_COUNTS = 64

T = TypeVar("T")


@dataclass(frozen=True)
class Facet:
    """One facet field as arrays: ``codes[docnum]`` indexes ``values``."""

    values: list[str]
    codes: np.ndarray

    @functools.cached_property
    def named(self) -> np.ndarray:
        """Whether each code stands for a value rather than the empty one (no value)."""
        return np.array([bool(value) for value in self.values], dtype=bool)

    def counts(self, docnums: np.ndarray) -> dict[str, int]:
        """Articles per value among ``docnums``, values no article has left out."""
        counted = np.bincount(self.codes[docnums], minlength=len(self.values))
        return {self.values[i]: int(counted[i]) for i in np.flatnonzero(counted)}


class FacetColumns:
    """Every facet and the date of every document of one commit, read on first use.

    Shared by the threads that read the same commit: the arrays never change once read,
    and the cache of counts is guarded by a lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._facets: dict[str, Facet] | None = None
        self._dates: np.ndarray | None = None
        self._cache: OrderedDict[Hashable, Any] = OrderedDict()

    def load(self, reader: IndexReader) -> None:
        """Read the columns from ``reader`` unless they were read already."""
        with self._lock:
            if self._facets is None:
                self._facets = {name: _facet(reader, name) for name in FACET_FIELDS}
                self._dates = _dates(reader)

    def facet(self, reader: IndexReader, name: str) -> Facet:
        """The arrays of facet ``name``, or of another sortable field (read on first use)."""
        self.load(reader)
        assert self._facets is not None
        found = self._facets.get(name)
        if found is None:
            found = _facet(reader, name)
            with self._lock:
                self._facets[name] = found
        return found

    def day_counts(self, reader: IndexReader, docnums: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The days (from 0001-01-01) with dated articles among ``docnums`` and the number
        on each (what ``index.timeline.day_timeline`` takes)."""
        self.load(reader)
        assert self._dates is not None
        stamps = self._dates[docnums]
        return np.unique(stamps[stamps != UNDATED] // DAY, return_counts=True)  # type: ignore[no-any-return]

    def cached(self, key: Hashable, compute: Callable[[], tuple[T, bool]]) -> T:
        """``compute()``'s value, remembered under ``key`` unless it says it is partial."""
        try:
            hash(key)
        except (TypeError, NotImplementedError):  # some Whoosh queries cannot be hashed
            return compute()[0]
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]  # type: ignore[no-any-return]
        value, partial = compute()
        if not partial:
            with self._lock:
                self._cache[key] = value
                while len(self._cache) > CACHED_COUNTS:
                    self._cache.popitem(last=False)
        return value


def docnum_array(docnums: Iterable[int]) -> np.ndarray:
    """Document numbers as an index array."""
    return np.fromiter(docnums, dtype=np.int64)


def _facet(reader: IndexReader, name: str) -> Facet:
    # Raw column values, as Whoosh's FieldFacet reads them: a missing value is b"".
    decode = reader.schema[name].from_column_value
    table: dict[bytes, int] = {}
    codes = np.fromiter(
        (table.setdefault(raw, len(table)) for raw in _column(reader, name)),
        dtype=np.int32,
        count=reader.doc_count_all(),
    )
    return Facet([decode(raw) for raw in table], codes)


def _dates(reader: IndexReader) -> np.ndarray:
    return np.fromiter(_column(reader, "date"), dtype=np.uint64, count=reader.doc_count_all())


def _column(reader: IndexReader, name: str) -> Iterator[Any]:
    # Segment by segment: a multi-segment reader's column skips the segments that lack it
    # (no article there had the field), which would shift every later document number.
    for leaf, _ in reader.leaf_readers():
        yield from leaf.column_reader(name, translate=False)
