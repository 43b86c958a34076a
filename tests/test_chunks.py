"""The window of work in flight between the reading side and the workers."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from app.chunks import WINDOW_PER_WORKER, bounded_map
from app.indexer import Settings


def test_workers_keep_half_a_batch_queued_while_the_writer_commits() -> None:
    """Once the writer has taken a result and gone off to commit a batch, two workers still
    hold at least half a batch of articles to prepare, instead of idling through the commit."""
    submitted: list[int] = []
    with ThreadPoolExecutor(2) as executor:

        def submit(fn: Any, *args: Any) -> Future:
            submitted.append(len(args[1]))
            return executor.submit(fn, *args)

        results = bounded_map(submit, str, range(5000), window=2 * WINDOW_PER_WORKER)
        first = next(results)  # results come in the order chunks finish
        assert sum(submitted) >= Settings().batch_size // 2
        assert sum(submitted) < 5000  # still bounded: reading does not run to the end
        assert sorted(map(int, [first, *results])) == list(range(5000))
