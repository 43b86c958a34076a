"""Readers kept across requests are lent to one searcher at a time, not held per thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from index.reading import ReaderCache
from index.searcher import ArchiveSearcher


def _records(first: int, count: int) -> list[dict]:
    return [
        {"id": f"n{n}", "title": f"Harbour note {n}", "text": f"The harbour wall, note {n}."}
        for n in range(first, first + count)
    ]


def test_readers_are_lent_one_at_a_time_and_kept_for_the_next_searcher(
    build_index: Callable[..., tuple[Path, object]],
    write_jsonl: Callable[[str, list[dict]], Path],
) -> None:
    index_dir, _ = build_index(write_jsonl("a.jsonl", _records(0, 3)))
    cache = ReaderCache(index_dir)
    first, second = cache.searcher(), cache.searcher()
    lent = first.searcher.reader()
    assert second.searcher.reader() is not lent  # never two searchers on one reader
    first.close()
    first.close()  # closed twice, given back once
    # A searcher in another thread gets the kept reader: readers are as many as the
    # searches that ran at once, not as the threads that ran them.
    other: list[ArchiveSearcher] = []
    thread = threading.Thread(target=lambda: other.append(cache.searcher()))
    thread.start()
    thread.join()
    assert other[0].searcher.reader() is lent
    assert cache.searcher().searcher.reader() not in (lent, second.searcher.reader())
    # A reader given back after a commit is closed, not lent again.
    build_index(write_jsonl("b.jsonl", _records(3, 1)))
    other[0].close()
    assert all(leaf.is_closed for leaf, _ in lent.leaf_readers())
    fresh = cache.searcher()
    assert fresh.searcher.reader() is not lent
    assert fresh.search("harbour").total == 4


def test_a_search_past_the_readers_lent_at_once_waits_for_one(sample_index: Path) -> None:
    cache = ReaderCache(sample_index, readers=1)
    held = cache.searcher()
    other: list[ArchiveSearcher] = []
    waiting = threading.Thread(target=lambda: other.append(cache.searcher()))
    waiting.start()
    waiting.join(timeout=0.5)
    assert waiting.is_alive() and not other  # it cannot get a reader while one is lent
    reader = held.searcher.reader()
    held.close()
    waiting.join()
    assert other[0].searcher.reader() is reader
    other[0].close()
