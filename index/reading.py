"""Readers kept open across requests: one per thread, reopened when the index moved on."""

from __future__ import annotations

import threading
from pathlib import Path

from whoosh.index import FileIndex
from whoosh.reading import IndexReader

from index.columns import FacetColumns
from index.searcher import ArchiveSearcher
from index.store import folder_identity, index_exists, live_dir, open_index, retry_during_commit


class ReaderCache:
    """One open reader per thread, reopened only when a commit or a rebuild made it stale.

    Opening a reader reads every segment's metadata (tens of milliseconds on a large
    index); a search server would otherwise pay that on every request. Readers are not
    shared between threads because Whoosh's file readers are not thread-safe. Every call
    checks which generation folder is live, so a rebuild's swap is seen at the next request.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._ix: FileIndex | None = None
        self._identity: tuple[str, int, int] | None = None
        # The facet columns of the latest commit any thread read, shared by all of them.
        self._columns: tuple[FileIndex, int, FacetColumns] | None = None

    def index(self) -> FileIndex:
        """The live index, reopened when a rebuild has put another generation in place."""
        identity = folder_identity(live_dir(self.path)) if index_exists(self.path) else None
        with self._lock:
            if self._ix is None or identity != self._identity:
                ix = open_index(self.path)
                self._ix, self._identity = ix, folder_identity(Path(ix.storage.folder))
            return self._ix

    def reader(self) -> tuple[FileIndex, IndexReader]:
        """This thread's reader of the latest commit, with the index it reads."""
        return retry_during_commit(self._reader)

    def _reader(self) -> tuple[FileIndex, IndexReader]:
        local = self._local
        ix = self.index()
        current: IndexReader | None = getattr(local, "reader", None)
        generation = ix.latest_generation()
        if current is not None and local.ix is ix and local.generation == generation:
            return ix, current
        fresh = ix.refresh().reader()
        if current is not None:
            current.close()
        local.ix, local.reader, local.generation = ix, fresh, generation
        return ix, fresh

    def searcher(self) -> ArchiveSearcher:
        """A searcher over this thread's reader; closing it leaves the reader open."""
        ix, reader = self.reader()
        return ArchiveSearcher(ix, reader, self.columns(ix, reader))

    def columns(self, ix: FileIndex, reader: IndexReader) -> FacetColumns:
        """The facet columns of the commit ``reader`` reads, read once for every thread."""
        generation = reader.generation()
        with self._lock:
            # The index itself, not its id(): a rebuilt index may reuse an old generation
            # number, and holding it here keeps its id from being reused.
            if self._columns is None or self._columns[:2] != (ix, generation):
                self._columns = (ix, generation, FacetColumns())
            return self._columns[2]
