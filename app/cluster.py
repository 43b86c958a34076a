"""Per-article work on a Dask distributed cluster; imported only for ``--scheduler``."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any

from app.chunks import WINDOW_PER_WORKER, MapFn, bounded_map, run_chunk
from archive.errors import ArchiveError

# Runs a worker process has been set up for, so the segmenter is installed once per run.
_READY: set[str] = set()


class ClusterError(ArchiveError):
    """The Dask scheduler cannot be reached or used."""


def run_remote(
    run_id: str,
    initializer: Callable[..., None],
    initargs: tuple,
    fn: Callable[[Any], Any],
    chunk: list[Any],
) -> list[Any]:
    """Set up this Dask worker for the run once, then process one chunk."""
    if run_id not in _READY:
        initializer(*initargs)
        _READY.add(run_id)
    return run_chunk(fn, chunk)


@contextmanager
def dask_pool(address: str, initializer: Callable[..., None], initargs: tuple) -> Iterator[MapFn]:
    """Yield a map function that runs chunks of work on the cluster at ``address``."""
    try:
        from distributed import Client
    except ImportError as exc:
        raise ClusterError("--scheduler needs Dask: pip install 'news-archive[cluster]'") from exc
    try:
        client = Client(address, timeout="5s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
    try:
        # Broadcast the segmenter once instead of shipping it with every chunk.
        [shared] = client.scatter([initargs], broadcast=True)
        run_id = uuid.uuid4().hex
        threads = max(1, sum(client.nthreads().values()))
        executor = client.get_executor(pure=False)

        def submit(_run: Callable, fn: Callable[[Any], Any], chunk: list[Any]) -> Future:
            return executor.submit(run_remote, run_id, initializer, shared, fn, chunk)

        yield lambda fn, items: bounded_map(submit, fn, items, window=threads * WINDOW_PER_WORKER)
    finally:
        client.close()
