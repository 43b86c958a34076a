"""Search speed at 20,000 dated articles beside SQLite FTS5, interleaved in one run.

Variants, each over the same seeded queries (1-3 title words, all required, as in
bench/compare_engines.py), run in turn A B C D E, A B C D E, ... for --rounds rounds:
  fts5          FTS5 MATCH ... ORDER BY rank LIMIT 10 (titles only): the baseline
  plain         ArchiveSearcher.search without snippets, facets or timeline
  +snippets     with snippets
  +facets       with snippets, facets and the timeline (what /api/search computes)
  /api/search   the Flask app's /api/search through its test client (JSON, "did you mean")
Prints p50/p95 (ms, over every query of every round) and CPU-seconds per round for each,
the ratios to FTS5's p95 and whether the goals are met. --profile prints where /api/search
spends its time (cProfile, top entries).

Usage: .venv/bin/python bench/search_speed.py [--size 20000] [--queries 300] [--rounds 3]
       [--index-dir DIR] [--corpus DIR] [--profile]
The index (copies of the BBC corpus with distinct ids, perturbed text and dates spread
over 2000-2019, built by bench/hostile_queries.py) and the FTS5 database of the same
articles are built under bench/out/ unless already there.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pathlib
import pstats
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import _corpus  # noqa: E402
from bench.compare_engines import TOP, make_queries  # noqa: E402
from bench.hostile_queries import build_index  # noqa: E402
from index.searcher import ArchiveSearcher  # noqa: E402
from index.store import index_exists  # noqa: E402

OUT = REPO / "bench" / "out"
SEED = 1
#: Goals from issue 14: p95 against FTS5's plain p95 in the same run.
GOAL_API = 3.0
GOAL_SNIPPETS = 2.0

Run = Callable[[list[str]], Any]


def build_fts5(index_dir: pathlib.Path, db: pathlib.Path) -> None:
    """Put the archive index's articles (id, title, text) in an FTS5 table, as
    bench/compare_engines.py does for its corpus."""
    if db.exists():
        print(f"reusing the FTS5 database at {db}")
        return
    tmp = db.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    con = sqlite3.connect(tmp)
    con.execute(
        "CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, body, tokenize='porter')"
    )
    con.execute("INSERT INTO docs(docs, rank) VALUES ('rank', 'bm25(0.0, 2.0, 1.0)')")
    with ArchiveSearcher.open(index_dir) as searcher, con:
        reader = searcher.searcher.reader()
        con.executemany(
            "INSERT INTO docs VALUES (?, ?, ?)",
            ((d["id"], d.get("title", ""), d.get("text", "")) for d in reader.all_stored_fields()),
        )
    con.close()
    tmp.rename(db)


def variants(index_dir: pathlib.Path, db: pathlib.Path) -> dict[str, Run]:
    """Each variant as a function of the query words, over searchers kept open."""
    from web import create_app

    con = sqlite3.connect(db)
    searcher = ArchiveSearcher.open(index_dir)
    client = create_app({"INDEX_DIR": str(index_dir.resolve())}).test_client()

    def fts5(words: list[str]) -> Any:
        match = " AND ".join(f'"{w}"' for w in words)
        sql = "SELECT title FROM docs WHERE docs MATCH ? ORDER BY rank LIMIT ?"
        return con.execute(sql, (match, TOP)).fetchall()

    def archive(**kwargs: bool) -> Run:
        return lambda words: searcher.search(" ".join(words), pagelen=TOP, **kwargs)

    def api(words: list[str]) -> Any:
        response = client.get("/api/search", query_string={"q": " ".join(words)})
        assert response.status_code == 200, response.data[:200]
        return response.get_json()

    return {
        "fts5": fts5,
        "plain": archive(snippets=False, facets=False),
        "+snippets": archive(snippets=True, facets=False),
        "+facets": archive(snippets=True, facets=True, timeline=True),
        "/api/search": api,
    }


def percentile(values: list[float], pct: float) -> float:
    """The ``pct`` percentile by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, round(pct / 100 * len(ordered)))) - 1]


def measure(runs: dict[str, Run], queries: list[list[str]], rounds: int) -> None:
    """Time every variant over every query, interleaved by round, and print the figures."""
    for run in runs.values():  # warm-up: open files, fill caches, read the columns
        for words in queries[:20]:
            run(words)
    times: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            cpu_started = time.process_time()
            for words in queries:
                started = time.perf_counter()
                run(words)
                times[name].append((time.perf_counter() - started) * 1000)
            cpu[name].append(time.process_time() - cpu_started)
    base = percentile(times["fts5"], 95)
    print(f"{len(queries)} queries x {rounds} rounds, interleaved; top {TOP}")
    print(f"  {'variant':<13}{'p50 ms':>9}{'p95 ms':>9}{'CPU s/round':>13}{'p95/fts5':>10}")
    for name in runs:
        p95 = percentile(times[name], 95)
        print(
            f"  {name:<13}{statistics.median(times[name]):>9.2f}{p95:>9.2f}"
            f"{statistics.median(cpu[name]):>13.2f}{p95 / base:>9.1f}x"
        )
    for name, goal in (
        ("/api/search", GOAL_API),
        ("+facets", GOAL_API),
        ("+snippets", GOAL_SNIPPETS),
    ):
        ratio = percentile(times[name], 95) / base
        verdict = "met" if ratio <= goal else "MISSED"
        print(f"  goal {name} p95 <= {goal:g}x FTS5 p95: {ratio:.2f}x, {verdict}")


def profile(run: Run, queries: list[list[str]], top: int = 15) -> None:
    """Print the functions /api/search spends its time in (cProfile, by own and total time)."""
    profiler = cProfile.Profile()
    profiler.enable()
    for words in queries:
        run(words)
    profiler.disable()
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(top)
        lines = out.getvalue().splitlines()
        start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
        print(f"\nprofile of /api/search by {order}:")
        print("\n".join(lines[start : start + top + 1]))


def main(argv: list[str] | None = None) -> int:
    """Build what is missing, then measure (and profile when asked)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=20_000)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--corpus", type=pathlib.Path, default=_corpus.DEFAULT_ROOT)
    ap.add_argument("--index-dir", type=pathlib.Path)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args(argv)
    index_dir = args.index_dir or OUT / f"search-{args.size // 1000}k"
    if not index_exists(index_dir):
        build_index(args.corpus, index_dir, args.size)
    db = index_dir.with_name(index_dir.name + "-fts5.db")
    build_fts5(index_dir, db)
    with ArchiveSearcher.open(index_dir) as searcher:
        reader = searcher.searcher.reader()
        titles = [d.get("title", "") for d in reader.all_stored_fields()]
        print(
            f"index {index_dir}: {searcher.doc_count} articles, "
            f"{len(reader.leaf_readers())} segment(s)"
        )
    queries = make_queries(titles, args.queries, SEED)
    runs = variants(index_dir, db)
    measure(runs, queries, args.rounds)
    if args.profile:
        profile(runs["/api/search"], queries)
    return 0


if __name__ == "__main__":
    sys.exit(main())
