"""Latency of /api/search over the BBC corpus, served by waitress (median and p95 per request).

Also prints what the timeline of hits adds to a search: each query run in process with and
without it, p95 of both and of the per-query difference.

Usage: .venv/bin/python bench/web_latency.py [--corpus DIR] [--index-dir DIR] [--queries N]
An existing index at --index-dir is reused; otherwise the corpus is indexed there first.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import random
import re
import statistics
import sys
import threading
import time
import urllib.parse
import urllib.request

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from index.store import index_exists  # noqa: E402
from web import create_app  # noqa: E402

DEFAULT_CORPUS = REPO.parent / "shared" / "corpora" / "bbc"
DEFAULT_INDEX = REPO / "bench" / "out" / "web-latency-index"
SEED = 20240601
WARMUP = 10
#: Issue 12: computing the timeline adds at most this much to a search's p95.
TIMELINE_GOAL_MS = 30
STOP = set(
    "the a an and or not of in on to for with at by from as is are was be has have had its "
    "it this that after over into out up new says said say will can could may than more".split()
)


def titles(corpus: pathlib.Path) -> list[tuple[str, str]]:
    """(category folder, title) of every article, in a stable order."""
    out = []
    for path in sorted(corpus.glob("*/*.txt")):
        first = path.read_text(encoding="utf-8", errors="replace").partition("\n")[0].strip()
        out.append((path.parent.name, first))
    return out


def make_queries(corpus: pathlib.Path, count: int = 200) -> list[dict[str, str]]:
    """A fixed mix of query-string arguments: words, pairs, phrases, fields, wildcards, filters."""
    rng = random.Random(SEED)
    heads = titles(corpus)
    words = sorted({w.lower() for _, t in heads for w in re.findall(r"[A-Za-z]{4,}", t)} - STOP)
    phrases = [
        " ".join(ws[i : i + 2])
        for _, t in heads
        if len(ws := re.findall(r"[A-Za-z]{3,}", t)) >= 3
        for i in (0,)
    ]
    categories = sorted({c for c, _ in heads})
    pick = rng.choice
    kinds = [
        (60, lambda: {"q": pick(words)}),
        (40, lambda: {"q": f"{pick(words)} {pick(words)}"}),
        (20, lambda: {"q": f'"{pick(phrases)}"'}),
        (15, lambda: {"q": f"title:{pick(words)}"}),
        (15, lambda: {"q": f"{pick(words)[:4]}*"}),
        (10, lambda: {"q": f"{pick(words)} OR {pick(words)}"}),
        (10, lambda: {"q": f"{pick(words)} NOT {pick(words)}"}),
        (10, lambda: {"q": pick(words), "sort": pick(["newest", "oldest"])}),
        (10, lambda: {"q": pick(words), "category": pick(categories)}),
        (5, lambda: {"q": "", "page": str(rng.randint(1, 20))}),
        (5, lambda: {"q": pick(words)[:-1] + "x"}),  # misspelt: exercises "did you mean"
    ]
    queries = [make() for n, make in kinds for _ in range(n)]
    rng.shuffle(queries)
    return queries[:count]


def ensure_index(corpus: pathlib.Path, index_dir: pathlib.Path) -> None:
    """Index the corpus into ``index_dir`` unless an index is already there."""
    if index_exists(index_dir):
        print(f"reusing the index at {index_dir}")
        return
    from app.indexer import Settings, index_paths

    print(f"indexing {corpus} into {index_dir} ...", flush=True)
    started = time.perf_counter()
    report = index_paths([corpus], index_dir, Settings())
    print(f"indexed {report.indexed} articles in {time.perf_counter() - started:.1f} s")


def percentile(values: list[float], pct: float) -> float:
    """The ``pct`` percentile by nearest rank."""
    ordered = sorted(values)
    rank = max(1, round(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def main(argv: list[str] | None = None) -> int:
    """Serve the app, send the queries one at a time and print the latency figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=pathlib.Path, default=DEFAULT_CORPUS)
    ap.add_argument("--index-dir", type=pathlib.Path, default=DEFAULT_INDEX)
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"no corpus at {args.corpus}", file=sys.stderr)
        return 1
    ensure_index(args.corpus, args.index_dir)
    queries = make_queries(args.corpus, args.queries)

    import waitress

    app = create_app({"INDEX_DIR": str(args.index_dir.resolve())})
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.effective_port}/api/search?"
    try:
        for query in queries[:WARMUP]:  # open the index, fill the OS cache
            urllib.request.urlopen(base + urllib.parse.urlencode(query)).read()
        wall: list[float] = []
        server_ms: list[float] = []
        slowest: tuple[float, dict[str, str]] = (0.0, {})
        for query in queries:
            started = time.perf_counter()
            with urllib.request.urlopen(base + urllib.parse.urlencode(query)) as response:
                body = json.loads(response.read())
            elapsed = (time.perf_counter() - started) * 1000
            wall.append(elapsed)
            server_ms.append(body["took_ms"])
            slowest = max(slowest, (elapsed, query), key=lambda s: s[0])
    finally:
        # Let the worker threads finish before the sockets close under them.
        server.task_dispatcher.shutdown()
        server.close()
        thread.join(timeout=5)
    print(f"{len(wall)} requests to /api/search, one at a time (facets, snippets on)")
    print(
        f"latency per request: median {statistics.median(wall):.1f} ms, "
        f"p95 {percentile(wall, 95):.1f} ms, max {max(wall):.1f} ms"
    )
    print(
        f"search time inside the app (took_ms): median {statistics.median(server_ms):.1f} ms, "
        f"p95 {percentile(server_ms, 95):.1f} ms"
    )
    print(f"slowest: {slowest[0]:.0f} ms for {slowest[1]}")
    timeline_cost(args.index_dir, queries)
    return 0


def timeline_cost(index_dir: pathlib.Path, queries: list[dict[str, str]]) -> None:
    """Print the p95 search time with and without the timeline (best of 3), and the difference."""
    from werkzeug.datastructures import MultiDict

    from index.searcher import ArchiveSearcher
    from web.params import parse_search_args

    plain: list[float] = []
    with_timeline: list[float] = []
    with ArchiveSearcher.open(index_dir) as searcher:
        for query in queries:
            params = parse_search_args(MultiDict(query))
            for timeline, times in ((False, plain), (True, with_timeline)):
                # The best of three: on a shared machine one run measures mostly the neighbours.
                runs = []
                for _ in range(3):
                    started = time.perf_counter()
                    searcher.search(params.q, timeline=timeline, **params.search_kwargs())
                    runs.append((time.perf_counter() - started) * 1000)
                times.append(min(runs))
    added = [t - p for p, t in zip(plain, with_timeline, strict=True)]
    print(
        f"timeline: search p95 {percentile(plain, 95):.1f} ms without, "
        f"{percentile(with_timeline, 95):.1f} ms with; added per search p95 "
        f"{percentile(added, 95):.1f} ms, median {statistics.median(added):.1f} ms"
    )
    met = percentile(added, 95) <= TIMELINE_GOAL_MS
    print(
        f"goal: the timeline adds at most {TIMELINE_GOAL_MS} ms p95: {'met' if met else 'MISSED'}"
    )


if __name__ == "__main__":
    sys.exit(main())
