"""Opening and creating the on-disk index, and the lock that keeps one writer at a time."""

from __future__ import annotations

import errno
import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage
from whoosh.index import EmptyIndexError, FileIndex

from index.errors import IndexLocked, IndexNotFound, IndexUnwritable
from index.schema import make_schema

INDEX_NAME = "MAIN"
RUN_LOCK = "archive-run.lock"
T = TypeVar("T")


def index_exists(path: Path) -> bool:
    """Tell whether an archive index has been committed at ``path``."""
    return Path(path).is_dir() and whoosh_index.exists_in(str(path), indexname=INDEX_NAME)


def open_index(path: Path) -> FileIndex:
    """Open an existing index for reading or writing."""
    path = Path(path)
    if not index_exists(path):
        raise IndexNotFound(f"no archive index at {path} (run 'archive index PATH' first)")
    return retry_during_commit(lambda: FileStorage(str(path)).open_index(indexname=INDEX_NAME))


def retry_during_commit(open_fn: Callable[[], T], attempts: int = 8) -> T:
    """Call ``open_fn`` again when a concurrent commit removed the files it was opening.

    A commit writes a new table of contents and deletes the files the old one named, so a
    reader that listed the old one can find its files gone; the next attempt sees the new
    commit.
    """
    for attempt in range(attempts):
        try:
            return open_fn()
        except (OSError, EOFError, EmptyIndexError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.02 * (attempt + 1))
    raise AssertionError("unreachable")


def create_index(path: Path) -> FileIndex:
    """Create an empty index at ``path``, replacing any index there."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        return FileStorage(str(path)).create_index(make_schema(), indexname=INDEX_NAME)
    except OSError as exc:
        raise IndexUnwritable(f"cannot create the index at {path}: {exc.strerror}") from exc


def open_or_create_index(path: Path) -> FileIndex:
    """Open the index at ``path``, creating an empty one when there is none."""
    return open_index(path) if index_exists(path) else create_index(path)


def index_size(path: Path) -> int:
    """Bytes the index's files take on disk."""
    return sum(f.stat().st_size for f in Path(path).iterdir() if f.is_file())


def last_update(path: Path) -> float | None:
    """Time of the last commit, as a POSIX timestamp."""
    tocs = list(Path(path).glob(f"_{INDEX_NAME}_*.toc"))
    return max((t.stat().st_mtime for t in tocs), default=None)


class RunLock:
    """An exclusive lock on the index directory for a whole indexing run.

    Whoosh's own write lock is released at every commit; a run commits many times, so a
    second run could slip in between. This lock is an ``flock`` (released by the kernel
    when its process dies) on a file holding the owner's pid, so a lock left behind by a
    killed run is recognised as stale and reported.
    """

    def __init__(self, path: Path, timeout: float = 0.0) -> None:
        self.file = Path(path) / RUN_LOCK
        self.timeout = timeout
        self.stale_pid: int | None = None
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        """Take the lock, waiting up to ``timeout`` seconds for a live holder."""
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.file, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise IndexUnwritable(
                f"cannot write to the index directory {self.file.parent}: {exc.strerror}"
            ) from exc
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() >= deadline:
                    holder = _read_pid(fd)
                    os.close(fd)
                    who = f" (pid {holder})" if holder else ""
                    raise IndexLocked(
                        f"another 'archive index' run{who} is writing to {self.file.parent}; "
                        "wait for it to finish or pass --wait SECONDS"
                    ) from exc
                time.sleep(0.1)
        previous = _read_pid(fd)
        if previous and previous != os.getpid():
            self.stale_pid = previous
        _clear_whoosh_lock(self.file.parent)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        """Release the lock and mark the run as finished."""
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_pid(fd: int) -> int | None:
    raw = os.pread(fd, 32, 0).strip()
    return int(raw) if raw.isdigit() else None


def _clear_whoosh_lock(path: Path) -> None:
    # Holding the run lock means no other archive process writes here, so a Whoosh lock
    # file still present was left by a killed writer and can go.
    lock = path / f"{INDEX_NAME}_WRITELOCK"
    if lock.exists():
        lock.unlink(missing_ok=True)
