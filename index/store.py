"""Opening and creating the on-disk index, and the lock that keeps one writer at a time.

The index path is stable and holds the index's generations: ``gen-N/`` folders, each a
complete Whoosh index, and a ``CURRENT`` file naming the live one. A rebuild writes a new
generation and replaces ``CURRENT`` atomically, so no moment exists when the path holds no
index. An index written before generations existed (Whoosh files directly in the path) is
opened as it is.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import shutil
import signal
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from whoosh.filedb.filestore import FileStorage
from whoosh.index import EmptyIndexError, FileIndex

from index.errors import IndexLocked, IndexNotFound, IndexUnwritable, UnsafeLock
from index.schema import make_schema

INDEX_NAME = "MAIN"
RUN_LOCK = "archive-run.lock"
CURRENT = "CURRENT"
#: Written into every generation folder the archive creates: only marked folders are removed.
GENERATION_MARK = ".archive-generation"
_GENERATION = re.compile(r"gen-([0-9]{1,9})")
_TOC = re.compile(rf"_{INDEX_NAME}_[0-9]+\.toc")
#: Files of an index written before generations, removed once a rebuild has replaced it.
_FLAT_FILES = re.compile(
    rf"(_{INDEX_NAME}_[0-9]+\.toc|{INDEX_NAME}_\w+\.\w+|segmenter\.model|stories-[0-9]+\.(json|npz))"
)
T = TypeVar("T")


def live_dir(path: Path) -> Path:
    """The folder holding the live index's files: the generation ``CURRENT`` names, or ``path``."""
    path = Path(path)
    try:
        name = (path / CURRENT).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return path
    return path / name if _GENERATION.fullmatch(name) else path


def index_exists(path: Path) -> bool:
    """Tell whether an archive index has been committed at ``path``."""
    # Looking for a table of contents, rather than opening the index, cannot fail when a
    # concurrent commit deletes the one it saw.
    try:
        return any(_TOC.fullmatch(name) for name in os.listdir(live_dir(path)))
    except OSError:
        return False


def open_index(path: Path) -> FileIndex:
    """Open an existing index for reading or writing."""
    path = Path(path)
    if not index_exists(path):
        raise IndexNotFound(f"no archive index at {path} (run 'archive index PATH' first)")
    return retry_during_commit(
        lambda: FileStorage(str(live_dir(path))).open_index(indexname=INDEX_NAME)
    )


def folder_identity(folder: Path) -> tuple[str, int, int]:
    """What tells one index folder from another that later takes its name."""
    info = os.stat(folder)
    return str(folder), info.st_dev, info.st_ino


def retry_during_commit(open_fn: Callable[[], T], attempts: int = 8) -> T:
    """Call ``open_fn`` again when a concurrent commit removed the files it was opening.

    A commit writes a new table of contents and deletes the files the old one named, and a
    rebuild removes the generation it replaced, so a reader can find its files gone; the
    next attempt sees the new commit or generation.
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
    """Create an empty index in the folder ``path``, replacing any index there."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        return _unmapped(path).create_index(make_schema(), indexname=INDEX_NAME)
    except OSError as exc:
        raise IndexUnwritable(f"cannot create the index at {path}: {exc.strerror}") from exc


def open_or_create_index(path: Path) -> FileIndex:
    """Open the index at ``path`` for writing, creating an empty one when there is none."""
    if not index_exists(path):
        return create_index(path)
    ix = retry_during_commit(lambda: _unmapped(live_dir(path)).open_index(indexname=INDEX_NAME))
    # An index from an earlier version lacks the fields added since; its documents simply
    # have no values for them.
    missing = [(name, field) for name, field in make_schema().items() if name not in ix.schema]
    if missing:
        writer = ix.writer(timeout=30.0)
        for name, field in missing:
            writer.add_field(name, field)
        writer.commit()
    return ix


def _unmapped(folder: Path) -> FileStorage:
    # Whoosh copies a mapped compound segment whole into memory to read any of it, so the
    # writer's id look-ups and merges would hold every segment they touch (most of the index
    # at 100,000 articles); read through file handles, they cost the pages they read.
    return FileStorage(str(folder), supports_mmap=False)


def index_size(path: Path) -> int:
    """Bytes the live index's files take on disk."""
    return sum(f.stat().st_size for f in live_dir(path).iterdir() if f.is_file())


def last_update(path: Path) -> float | None:
    """Time of the last commit, as a POSIX timestamp."""
    tocs = list(live_dir(path).glob(f"_{INDEX_NAME}_*.toc"))
    return max((t.stat().st_mtime for t in tocs), default=None)


def new_generation(path: Path) -> Path:
    """Create and mark an empty generation folder, numbered after every existing one."""
    path = Path(path)
    numbers = [int(m.group(1)) for m in map(_GENERATION.fullmatch, _names(path)) if m]
    folder = path / f"gen-{max(numbers, default=0) + 1}"
    try:
        folder.mkdir(parents=True)
        (folder / GENERATION_MARK).touch()
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise IndexUnwritable(f"cannot create a new index at {folder}: {exc.strerror}") from exc
    return folder


def publish(path: Path, generation: Path) -> None:
    """Make ``generation`` the live index at ``path`` in one atomic step, then tidy up."""
    pointer = Path(path) / (CURRENT + ".partial")
    with pointer.open("w", encoding="ascii") as out:
        out.write(generation.name + "\n")
        out.flush()
        os.fsync(out.fileno())
    crash_point("swap")
    os.replace(pointer, Path(path) / CURRENT)
    fsync_dir(Path(path))
    crash_point("swapped")
    remove_stale_generations(path)


def remove_stale_generations(path: Path) -> None:
    """Remove the generations ``CURRENT`` does not name, and a flat index it has replaced.

    Only folders carrying the archive's mark are removed: a folder the user put here stays.
    Called with the run lock held, after a swap and at the start of a run, so an old
    generation whose removal a kill interrupted goes at the next run.
    """
    path = Path(path)
    live = live_dir(path)
    for name in _names(path):
        entry = path / name
        if _GENERATION.fullmatch(name) and entry != live:
            discard_generation(entry)
        elif live != path and _FLAT_FILES.fullmatch(name) and entry.is_file():
            entry.unlink(missing_ok=True)


def discard_generation(generation: Path) -> None:
    """Remove a generation that was never published (a failed or interrupted rebuild)."""
    if (generation / GENERATION_MARK).is_file():
        shutil.rmtree(generation, ignore_errors=True)


def crash_point(step: str) -> None:
    """Die here when a reliability test asks to (``ARCHIVE_TEST_KILL_AT=step``)."""
    if os.environ.get("ARCHIVE_TEST_KILL_AT") == step:
        os.kill(os.getpid(), signal.SIGKILL)


def _names(path: Path) -> list[str]:
    try:
        return os.listdir(path)
    except FileNotFoundError:
        return []


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in ``path`` durable (the folder's entries are fsynced)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class RunLock:
    """An exclusive lock on the index directory for a whole indexing run.

    Whoosh's own write lock is released at every commit; a run commits many times, so a
    second run could slip in between. This lock is an ``flock`` (released by the kernel
    when its process dies) on a file holding the owner's pid, so a lock left behind by a
    killed run is recognised as stale and reported. The file lives at the stable index
    path, never inside a generation, so it guards the index across a rebuild's swap; it is
    opened close-on-exec, and worker processes do not inherit it (see app.workers).
    """

    def __init__(self, path: Path, timeout: float = 0.0) -> None:
        self.file = Path(path) / RUN_LOCK
        self.timeout = timeout
        self.stale_pid: int | None = None
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        """Take the lock, waiting up to ``timeout`` seconds for a live holder."""
        fd = self._open()
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
        try:
            _clear_whoosh_lock(live_dir(self.file.parent))
            pid = str(os.getpid()).encode()
            os.ftruncate(fd, 0)
            if os.pwrite(fd, pid, 0) != len(pid):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        except OSError as exc:
            os.close(fd)
            reason = "the disk is full" if exc.errno == errno.ENOSPC else exc.strerror
            raise IndexUnwritable(f"cannot record this run in {self.file}: {reason}") from exc
        self._fd = fd
        return self

    def _open(self) -> int:
        # Never follow a link: a lock replaced by a symlink would have its target truncated.
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.file, flags, 0o644)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise UnsafeLock(
                    f"{self.file} is a symbolic link; refusing to use it as the run lock "
                    "(remove it and run again)"
                ) from exc
            raise IndexUnwritable(
                f"cannot write to the index directory {self.file.parent}: {exc.strerror}"
            ) from exc
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
            os.close(fd)
            raise UnsafeLock(
                f"{self.file} is not a plain file of its own; refusing to use it as the run "
                "lock (remove it and run again)"
            )
        return fd

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
