"""Where the per-article work runs: in this process, in local processes, or on Dask."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from multiprocessing import forkserver
from typing import Protocol

from app.chunks import WINDOW_PER_WORKER, MapFn, bounded_map
from archive.errors import ArchiveError

#: Seconds between a worker's checks that the process that started it is still alive.
PARENT_CHECK = 1.0
_PR_SET_PDEATHSIG = 1


class WorkerDied(ArchiveError):
    """A worker process ended abruptly (killed, or out of memory)."""


class WorkSettings(Protocol):
    """The part of the run's settings that decides where work runs."""

    @property
    def worker_count(self) -> int: ...

    @property
    def scheduler(self) -> str | None: ...


def start_pool_server(settings: WorkSettings, initializer: Callable[..., None]) -> None:
    """Start the process that local workers are forked from, importing the initializer's
    module, so that start-up overlaps what the run does before it needs workers."""
    if settings.scheduler or settings.worker_count <= 1:
        return
    _server_context(initializer)
    forkserver.ensure_running()


def _server_context(initializer: Callable[..., None]) -> multiprocessing.context.BaseContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([initializer.__module__])
    return context


@contextmanager
def make_pool(
    settings: WorkSettings, initializer: Callable[..., None], initargs: tuple
) -> Iterator[MapFn]:
    """Yield a map function that runs work where the settings say."""
    if settings.scheduler:
        from app.cluster import dask_pool  # Dask is imported only when asked for

        with dask_pool(settings.scheduler, initializer, initargs) as pool:
            yield pool
        return
    workers = settings.worker_count
    if workers <= 1:
        initializer(*initargs)
        yield lambda fn, items: map(fn, items)
        return
    # Workers are forked from a fresh server process rather than from this one, so they
    # do not inherit this process's open files: the run lock above all, which a worker
    # outliving a killed run would otherwise hold forever.
    context = _server_context(initializer)
    executor: Executor = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(os.getpid(), initializer, initargs),
    )
    try:
        yield lambda fn, items: bounded_map(
            executor.submit, fn, items, window=workers * WINDOW_PER_WORKER
        )
    except BrokenProcessPool as exc:
        raise WorkerDied(
            "a worker process died (killed, or out of memory); the run stopped and the "
            "index is as of its last commit: run the same command again to finish"
        ) from exc
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _start_worker(run_pid: int, initializer: Callable[..., None], initargs: tuple) -> None:
    """Tie a worker's life to the run's, then run the caller's initializer."""
    if sys.platform.startswith("linux"):
        # The kernel kills the worker when its parent (the fork server, which itself ends
        # with the run) dies, even by SIGKILL.
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    watchdog = threading.Thread(target=_exit_with, args=(run_pid, os.getppid()), daemon=True)
    watchdog.start()
    initializer(*initargs)


def _exit_with(run_pid: int, parent_pid: int) -> None:
    # Elsewhere than Linux, and should the parent die before prctl above, poll instead.
    while True:
        if os.getppid() != parent_pid or not _alive(run_pid):
            os._exit(1)
        time.sleep(PARENT_CHECK)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
