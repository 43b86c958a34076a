"""Work in chunks with a bounded window in flight: shared by local processes and Dask."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Any

#: Articles sent to a worker at once: enough to amortise the pickling round trip.
CHUNK = 16
#: Chunks in flight per worker: enough queued work (512 articles each) for the workers to
#: go on while the single writer commits a batch of 1,000, which takes no results (with 4,
#: each of 2 workers sat idle 7.8 s of a 33 s BBC run, 3 s per commit), yet reading stays
#: within about a batch of summarising.
WINDOW_PER_WORKER = 32

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
