"""Words joined by AND and OR scored with numpy give what Whoosh's matchers give: the same
hits in the same order with the same scores, totals, facets, stories and snippets."""

from __future__ import annotations

import random
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index import vectored
from index.limits import QueryLimits
from index.postings import ArrayCache
from index.searcher import ArchiveSearcher

#: No search here may be cut short by a loaded machine: the two paths must see everything.
UNHURRIED = QueryLimits(time_limit=600)
FIXED = [
    "harbour",
    "river OR harbour",
    "council flood",
    "river harbour council",
    "the new year",
    "bus fares",
    "title:harbour text:council",
    "(river OR flood) council",
    "river^2 harbour",
    "(river council)^3 OR flood",
    "river category:sport",
    "zzqxv",
]
#: Shapes Whoosh still searches, beside the words the fast path takes.
FALLBACK = ['"river wall"', "clim*", "river NOT council", "year:[2000 TO 2030]"]
OPTIONS: list[dict[str, Any]] = [
    {"timeline": True},
    {"snippets": False, "facets": False},
    {"pagelen": 3, "page": 2},
    {"collapse_stories": False},
    {"filters": {"year": ["2024"]}},
    {"filters": {"source": ["Northfield Gazette"], "year": ["2024"]}},
]


def _pair(index_dir: Path) -> Iterator[tuple[ArchiveSearcher, ArchiveSearcher]]:
    fast = ArchiveSearcher.open(index_dir)
    slow = ArchiveSearcher.open(index_dir)
    slow.vectored = False
    try:
        yield fast, slow
    finally:
        fast.close()
        slow.close()


@pytest.fixture
def pair(sample_index: Path) -> Iterator[tuple[ArchiveSearcher, ArchiveSearcher]]:
    """A searcher with the fast path and one without, over the sample index."""
    yield from _pair(sample_index)


def _page(searcher: ArchiveSearcher, text: str, **options: Any) -> dict[str, Any]:
    found = searcher.search(text, limits=UNHURRIED, **options).to_dict()
    found.pop("took_ms")
    return found


def _ranked(searcher: ArchiveSearcher, text: str, terms: bool) -> list[tuple[float, int]]:
    query, _ = searcher.parse(text)
    found, partial = searcher._collect(
        query, "relevance", None, False, time.perf_counter(), UNHURRIED, terms
    )
    assert not partial
    return list(found.top_n)


def _random_queries(searcher: ArchiveSearcher, count: int, seed: int) -> list[str]:
    reader = searcher.searcher.reader()
    words = [w for w in reader.field_terms("text") if w.isalpha()]
    rng = random.Random(seed)
    queries = []
    for _ in range(count):
        picked = [rng.choice(words) for _ in range(rng.randint(1, 3))]
        queries.append((" OR " if rng.random() < 0.3 else " ").join(picked))
    return queries


def _same(
    fast: ArchiveSearcher, slow: ArchiveSearcher, queries: list[str], options: list[dict[str, Any]]
) -> None:
    for text in queries:
        for terms in (True, False):
            # Exactly equal: the same additions in the same order, not merely close.
            assert _ranked(fast, text, terms) == _ranked(slow, text, terms), text
        for option in options:
            assert _page(fast, text, **option) == _page(slow, text, **option), (text, option)


def test_the_fast_path_scores_words_and_leaves_other_shapes_to_whoosh(
    pair: tuple[ArchiveSearcher, ArchiveSearcher],
) -> None:
    fast, _ = pair
    for text in FIXED:
        assert vectored.applies(fast.searcher, fast.parse(text)[0]), text
    for text in FALLBACK:
        assert not vectored.applies(fast.searcher, fast.parse(text)[0]), text


def test_same_results_as_whoosh_on_the_sample(
    pair: tuple[ArchiveSearcher, ArchiveSearcher],
) -> None:
    fast, slow = pair
    assert _page(fast, "harbour")["total"] > 1
    _same(fast, slow, FIXED + FALLBACK, OPTIONS)
    _same(fast, slow, _random_queries(fast, 30, seed=1), OPTIONS[:2])


def test_same_results_over_segments_with_deleted_articles(
    build_index: Callable[..., tuple[Path, object]],
    write_jsonl: Callable[[str, list[dict]], Path],
    tmp_path: Path,
) -> None:
    words = "river harbour council flood storm bus fare wall bridge market".split()
    rng = random.Random(3)

    def record(n: int, version: int) -> dict[str, Any]:
        text = " ".join(rng.choice(words) for _ in range(rng.randint(5, 60)))
        title = " ".join(rng.choice(words) for _ in range(rng.randint(1, 4)))
        return {"id": f"a{n}", "title": f"{title} {version}", "text": f"{text} v{version}."}

    first = write_jsonl("first.jsonl", [record(n, 1) for n in range(300)])
    # Segments of 150 articles: a word's postings there fill more than one block of 128.
    index_dir, _ = build_index(first, batch_size=150)
    # Re-reading changed articles deletes their old documents and adds a segment.
    changed = write_jsonl("second.jsonl", [record(n, 2) for n in range(0, 300, 7)])
    build_index(changed)
    with ArchiveSearcher.open(index_dir) as opened:
        reader = opened.searcher.reader()
        assert reader.has_deletions() and len(reader.leaf_readers()) > 1
    pairs = _pair(index_dir)
    fast, slow = next(pairs)
    queries = ["river", "river OR harbour", "storm wall bridge", "market OR fare OR bus", "v1"]
    _same(fast, slow, queries + _random_queries(fast, 20, seed=2), OPTIONS[:2])
    # Postings of many hits in blocks, some of them deleted: offsets read by bisecting.
    _same_offsets((fast, slow), queries)
    pairs.close()


def test_same_results_as_whoosh_on_bbc(
    bbc_dir: Path, build_index: Callable[..., tuple[Path, object]], tmp_path: Path
) -> None:
    corpus = tmp_path / "bbc"
    for category in sorted(p for p in bbc_dir.iterdir() if p.is_dir()):
        (corpus / category.name).mkdir(parents=True)
        for article in sorted(category.glob("*.txt"))[:30]:
            shutil.copy(article, corpus / category.name / article.name)
    index_dir, _ = build_index(corpus)
    pairs = _pair(index_dir)
    fast, slow = next(pairs)
    queries = _random_queries(fast, 250, seed=4)
    for text in queries:
        for terms in (True, False):
            assert _ranked(fast, text, terms) == _ranked(slow, text, terms), text
    for text in queries[:20]:
        assert _page(fast, text, timeline=True) == _page(slow, text, timeline=True), text
    pairs.close()


def test_a_passed_deadline_leaves_the_search_to_whoosh(
    pair: tuple[ArchiveSearcher, ArchiveSearcher],
) -> None:
    fast, _ = pair
    query = fast.parse("river OR harbour")[0]
    found = vectored.search(
        fast.searcher, query, allowed=None, terms=True, scored=True, deadline=time.perf_counter()
    )
    assert found is None
    # Whoosh then stops after the first match, as before: the time limit still holds.
    cut = fast.search("river OR harbour", limits=QueryLimits(time_limit=0))
    assert cut.partial and cut.total == 1


def test_the_array_cache_keeps_to_its_size() -> None:
    cache = ArrayCache(limit=100)
    made: list[str] = []

    def make(key: str, size: int) -> Callable[[], tuple[np.ndarray, int]]:
        def build() -> tuple[np.ndarray, int]:
            made.append(key)
            return np.zeros(size, dtype=np.uint8), size

        return build

    cache.get("a", make("a", 40))
    cache.get("b", make("b", 40))
    cache.get("a", make("a", 40))  # used again: "b" is now the least recently used
    cache.get("c", make("c", 40))
    assert cache.size == 80 and made == ["a", "b", "c"]
    cache.get("a", make("a", 40))
    cache.get("b", make("b", 40))  # dropped, so read again
    assert made == ["a", "b", "c", "b"] and cache.size <= 100
    too_big = cache.get("d", make("d", 500))  # returned, never kept
    assert len(too_big) == 500 and cache.size <= 100


def test_a_query_asked_about_then_searched_is_parsed_once(sample_index: Path) -> None:
    with ArchiveSearcher.open(sample_index) as opened:
        parse = opened.parse
        parsed: list[str] = []

        def counted(text: str) -> Any:
            parsed.append(text)
            return parse(text)

        opened.parse = counted  # type: ignore[method-assign]
        # What the web API does: is it costly? Then search it.
        assert not opened.costly("river harbour")
        assert opened.search("river harbour", facets=False).total > 1
        assert parsed == ["river harbour"]
        # The notes about a query are its own each time, never added to the last ones.
        first = opened.search("nosuch:river").notes
        assert first and opened.search("nosuch:river").notes == first


def _same_offsets(pair: tuple[ArchiveSearcher, ArchiveSearcher], texts: list[str]) -> None:
    from whoosh.highlight import Highlighter

    from index.highlight import _load_chars
    from index.matched import page_results

    for searcher in pair:  # matched terms from the fast path and from Whoosh's collector
        for text in texts:
            found, _ = searcher._collect(
                searcher.parse(text)[0],
                "relevance",
                None,
                False,
                time.perf_counter(),
                UNHURRIED,
                True,
            )
            page = page_results(found, 0, 10)
            ours = page_results(found, 0, 10)
            words = frozenset(w.decode() for f, w in page.matched_terms() if f == "text")
            Highlighter._load_chars(page, "text", words, lambda w: w.encode())
            _load_chars(ours, "text")
            assert ours._char_cache["text"] == page._char_cache["text"], text
            assert len(ours._char_cache["text"]) == min(10, len(found)), text


def test_snippet_offsets_are_those_whoosh_loads(
    pair: tuple[ArchiveSearcher, ArchiveSearcher],
) -> None:
    _same_offsets(pair, ["harbour", "council OR flood OR bus", "river water"])
