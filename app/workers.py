"""Where the per-article work runs: in this process, in local processes, or on Dask."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from typing import Any, Protocol

#: Articles sent to a worker at once: enough to amortise the pickling round trip.
CHUNK = 16
#: Chunks in flight per worker, so reading never runs far ahead of summarising.
WINDOW_PER_WORKER = 4


class WorkSettings(Protocol):
    """The part of the run's settings that decides where work runs."""

    @property
    def worker_count(self) -> int: ...

    scheduler: str | None


MapFn = Callable[[Callable[[Any], Any], Iterable[Any]], Iterator[Any]]


def run_chunk(fn: Callable[[Any], Any], chunk: list[Any]) -> list[Any]:
    """Apply ``fn`` to each item of a chunk (runs in a worker)."""
    return [fn(item) for item in chunk]


def bounded_map(
    submit: Callable[..., Future], fn: Callable[[Any], Any], items: Iterable[Any], window: int
) -> Iterator[Any]:
    """Map ``fn`` over ``items`` in chunks, results in completion order, memory bounded."""
    pending: set[Future] = set()
    source = iter(items)
    while chunk := list(itertools.islice(source, CHUNK)):
        pending.add(submit(run_chunk, fn, chunk))
        if len(pending) >= window:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield from future.result()
    while pending:
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        for future in done:
            yield from future.result()


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
    executor: Executor = ProcessPoolExecutor(
        max_workers=workers, initializer=initializer, initargs=initargs
    )
    try:
        yield lambda fn, items: bounded_map(
            executor.submit, fn, items, window=workers * WINDOW_PER_WORKER
        )
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
