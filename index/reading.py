"""Readers kept open across requests, each lent to one searcher at a time, closed once stale."""

from __future__ import annotations

import threading
from pathlib import Path

from whoosh.index import FileIndex
from whoosh.reading import IndexReader

from index.columns import FacetColumns
from index.searcher import ArchiveSearcher
from index.store import folder_identity, index_exists, live_dir, open_index, retry_during_commit

#: Readers lent at once: more searches at once share one interpreter's time anyway, and
#: each reader holds its segments' files in memory.
READERS = 8


class ReaderCache:
    """Open readers lent to one searcher at a time; a stale one is closed, not lent again.

    Opening a reader reads every segment's metadata (tens of milliseconds on a large
    index), and holds its files' contents in memory (about 250 MB at 20,000 articles): a
    search server would otherwise pay the one on every request, or the other per thread,
    whatever the thread does. Kept readers are as many as searches ran at once, at most
    ``readers``; a search past that waits for one to be given back. A reader
    serves one searcher at a time because Whoosh's file readers are not thread-safe. Every
    call checks which generation folder is live, so a rebuild's swap is seen at the next
    request.
    """

    def __init__(self, path: Path, readers: int = READERS) -> None:
        """Keep readers of the index at ``path``; at most ``readers`` are lent at once."""
        self.path = Path(path)
        self._lendable = threading.BoundedSemaphore(readers)
        self._lock = threading.Lock()
        self._ix: FileIndex | None = None
        self._identity: tuple[str, int, int] | None = None
        # Readers no searcher holds now, with the index and the generation they read.
        self._idle: list[tuple[FileIndex, int, IndexReader]] = []
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
        """A reader of the latest commit, with the index it reads, lent until ``give_back``.

        Waits while as many readers as the cache may lend are lent.
        """
        self._lendable.acquire()
        try:
            return retry_during_commit(self._reader)
        except BaseException:
            self._lendable.release()
            raise

    def _reader(self) -> tuple[FileIndex, IndexReader]:
        ix = self.index()
        generation = ix.latest_generation()
        with self._lock:
            stale = [kept for kept in self._idle if kept[:2] != (ix, generation)]
            self._idle = [kept for kept in self._idle if kept[:2] == (ix, generation)]
            found = self._idle.pop()[2] if self._idle else None
        for _ix, _generation, reader in stale:
            reader.close()
        return ix, found if found is not None else ix.refresh().reader()

    def give_back(self, ix: FileIndex, reader: IndexReader) -> None:
        """Keep ``reader`` (lent by ``reader()``) for the next searcher, or close it if stale."""
        try:
            generation = reader.generation()
            if generation == ix.latest_generation() and ix is self._ix:
                with self._lock:
                    self._idle.append((ix, generation, reader))
            else:
                reader.close()
        finally:
            self._lendable.release()

    def searcher(self) -> ArchiveSearcher:
        """A searcher over a lent reader; closing it gives the reader back."""
        ix, reader = self.reader()
        try:
            return _LentSearcher(self, ix, reader, self.columns(ix, reader))
        except BaseException:
            self.give_back(ix, reader)
            raise

    def columns(self, ix: FileIndex, reader: IndexReader) -> FacetColumns:
        """The facet columns of the commit ``reader`` reads, read once for every thread."""
        generation = reader.generation()
        with self._lock:
            # The index itself, not its id(): a rebuilt index may reuse an old generation
            # number, and holding it here keeps its id from being reused.
            if self._columns is None or self._columns[:2] != (ix, generation):
                self._columns = (ix, generation, FacetColumns())
            return self._columns[2]


class _LentSearcher(ArchiveSearcher):
    """A searcher over a reader lent by a ReaderCache, given back when it closes."""

    def __init__(
        self, cache: ReaderCache, ix: FileIndex, reader: IndexReader, columns: FacetColumns
    ) -> None:
        super().__init__(ix, reader, columns)
        self._lent: tuple[ReaderCache, IndexReader] | None = (cache, reader)

    def close(self) -> None:
        """Release the searcher and give its reader back, once."""
        super().close()
        lent, self._lent = self._lent, None
        if lent is not None:
            lent[0].give_back(self.ix, lent[1])
