"""Scaling curve: index and search 2,000, 20,000 and 100,000 articles made from BBC, with
SQLite FTS5 on the same articles beside each size.

Per size it prints the index time (wall, and CPU-seconds of the whole process tree: the
writer, the fork server and the workers), articles/s, the writer's peak RSS, the peak of
the process tree's summed RSS, the index size, and median/p95 of searching with snippets
(ArchiveSearcher) and of /api/search (snippets, facets and timeline; Flask test client).

Goals: CPU-seconds per article at the largest size at most 1.5x that at the smallest; the
writer's peak RSS under 400 MB at every size.

Usage: nice .venv/bin/python bench/scale.py [--sizes 2000,20000,100000] [--queries 200]
       [--keep] [--summarizer NAME] [--workdir bench/out/scale] [--progress FILE]
--progress appends a line a minute while indexing (articles committed, CPU-s of the process
tree, CPU-ms per article since the last line, the writer's RSS), so a size too slow to finish
still shows its trend.
Corpora are JSON Lines written by bench/_corpus.py (distinct ids, perturbed text, dates over
2015-2024); each size's corpus and indexes are removed after it unless --keep.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from archive.summarize import DEFAULT_SUMMARIZER  # noqa: E402
from bench import _corpus  # noqa: E402
from bench.compare_engines import (  # noqa: E402
    Latency,
    Query,
    QueryFn,
    dir_size_mb,
    fts5_queries,
    index_in_subprocess,
    make_queries,
    time_queries,
)

SEED = 20261128
WORKERS = 2
GOAL_COST_GROWTH = 1.5
GOAL_WRITER_MB = 400.0
POLL = 0.2
#: Innermost frames of the writer's stack kept at its peak RSS, and how often it is read.
PEAK_FRAMES = 14
PEAK_INTERVAL = 0.02
_PR_SET_CHILD_SUBREAPER = 36
PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20
TICKS = os.sysconf("SC_CLK_TCK")
PROGRESS_EVERY = 60.0


@dataclass
class Indexing:
    """What indexing one corpus cost the archive."""

    articles: int
    wall: float
    cpu: float
    writer_mb: float
    tree_mb: float
    worker_mb: float
    size_mb: float
    peak_stack: list[str] = field(default_factory=list)


class PeakWatcher(threading.Thread):
    """Samples this process's RSS and keeps the main thread's stack at the highest, so the
    writer's peak can be told apart from a once-a-minute reading."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.main = threading.get_ident()
        self.peak_mb = 0.0
        self.stack: list[str] = []

    def run(self) -> None:
        """Sample until the process ends."""
        with open("/proc/self/statm", "rb") as statm:
            while True:
                statm.seek(0)
                mb = int(statm.read().split()[1]) * PAGE_MB
                if mb > self.peak_mb:
                    frame = sys._current_frames().get(self.main)
                    self.peak_mb = mb
                    self.stack = [
                        f"{Path(f.filename).name}:{f.lineno} {f.name}"
                        for f in traceback.extract_stack(frame)[-PEAK_FRAMES:]
                    ]
                time.sleep(PEAK_INTERVAL)


def index_worker(source: Path, index_dir: Path, summarizer: str) -> None:
    """Index ``source`` with the archive's pipeline and print the count, own peak RSS and
    where the writer was at it."""
    from app.indexer import Settings, index_paths

    watcher = PeakWatcher()
    watcher.start()
    settings = Settings(workers=WORKERS, summarizer=summarizer)
    report = index_paths([source], index_dir, settings)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    articles = report.indexed + report.updated
    print(json.dumps({"articles": articles, "rss_mb": peak, "peak_stack": watcher.stack}))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _descendants_rss(root: int, cpu: dict[int, float] | None = None) -> dict[int, float]:
    """RSS in MB of every process below ``root`` (orphans it reaped included); ``cpu``, when
    given, receives each one's CPU-seconds."""
    parent: dict[int, int] = {}
    rss: dict[int, float] = {}
    seconds: dict[int, float] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry.name}/statm") as statm:
                resident = int(statm.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue  # exited while we looked
        pid = int(entry.name)
        parent[pid] = int(fields[1])
        rss[pid] = resident * PAGE_MB
        seconds[pid] = (int(fields[11]) + int(fields[12])) / TICKS
    out = {}
    for pid in rss:
        up = parent.get(pid)
        while up is not None and up != root and up > 1:
            up = parent.get(up)
        if up == root:
            out[pid] = rss[pid]
            if cpu is not None:
                cpu[pid] = seconds[pid]
    return out


class Progress:
    """A line a minute while a size is indexed, appended to a file."""

    def __init__(self, path: Path | None, index_dir: Path) -> None:
        self.path, self.index_dir = path, index_dir
        self.started = self.last = time.monotonic()
        self.done, self.cpu = 0, 0.0

    def tick(self, cpu: dict[int, float], writer_mb: float) -> None:
        """Write a line when a minute has passed since the last."""
        now = time.monotonic()
        if self.path is None or now - self.last < PROGRESS_EVERY:
            return
        from index.store import open_index

        try:
            done = open_index(self.index_dir).doc_count()
        except Exception:  # not committed yet, or mid-commit: count it next time
            return
        total = sum(cpu.values())
        rate = (total - self.cpu) / (done - self.done) * 1000 if done > self.done else 0.0
        with self.path.open("a", encoding="utf-8") as out:
            out.write(
                f"{time.strftime('%H:%M:%S')} {now - self.started:7.0f} s  {done:7,} articles  "
                f"{total:8.1f} CPU-s  {rate:6.1f} CPU-ms/article since last  "
                f"writer {writer_mb:.0f} MB\n"
            )
        self.last, self.done, self.cpu = now, done, total


def index_archive(
    source: Path, index_dir: Path, summarizer: str, progress: Path | None = None
) -> Indexing:
    """Index in a child process, measuring the CPU and memory of its whole process tree."""
    # As a subreaper this process inherits the fork server when the writer exits, and
    # reaping it adds the workers' CPU (which the fork server reaped) to RUSAGE_CHILDREN.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_CHILD_SUBREAPER, 1)
    cpu_before = _children_cpu()
    started = time.perf_counter()
    command = [sys.executable, str(Path(__file__).resolve()), "--summarizer", summarizer]
    command += ["--index-worker", str(source), str(index_dir)]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=REPO)
    tree_peak = 0.0
    peaks: dict[int, float] = {}
    seconds: dict[int, float] = {}
    log = Progress(progress, index_dir)
    while child.poll() is None:
        sizes = _descendants_rss(os.getpid(), seconds)
        log.tick(seconds, sizes.get(child.pid, 0.0))
        tree_peak = max(tree_peak, sum(sizes.values()))
        for pid, mb in sizes.items():
            peaks[pid] = max(peaks.get(pid, 0.0), mb)
        time.sleep(POLL)
    wall = time.perf_counter() - started
    out = child.stdout.read() if child.stdout else ""
    if child.returncode:
        raise SystemExit(f"indexing {source} failed with status {child.returncode}")
    _reap_orphans()
    cpu = _children_cpu() - cpu_before
    data = json.loads(out.strip().splitlines()[-1])
    workers = [mb for pid, mb in peaks.items() if pid != child.pid]
    return Indexing(
        articles=data["articles"],
        wall=wall,
        cpu=cpu,
        writer_mb=data["rss_mb"],
        tree_mb=tree_peak,
        worker_mb=max(workers, default=0.0),
        size_mb=dir_size_mb(index_dir),
        peak_stack=data.get("peak_stack", []),
    )


def _reap_orphans(timeout: float = 30.0) -> None:
    """Wait for the processes the writer left behind (the fork server ends once it is gone)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.05)


@dataclass
class Timing:
    """Latency over the query set, and the mean CPU-ms a query took (steadier than wall
    time on a busy machine)."""

    latency: Latency
    cpu_ms: float


def timed(name: str, run: QueryFn, queries: list[Query]) -> Timing:
    """Time ``run`` over the queries."""
    started = time.process_time()
    latency, _ = time_queries(name, run, queries)
    # time_queries runs every query twice: a warm-up pass, then the timed one.
    return Timing(latency, (time.process_time() - started) / (2 * len(queries)) * 1000)


def time_archive(index_dir: Path, queries: list[Query]) -> tuple[Timing, Timing]:
    """Latency of searching with snippets, and of /api/search, over the same queries."""
    from index.searcher import ArchiveSearcher
    from web import create_app

    with ArchiveSearcher.open(index_dir) as searcher:
        searching = timed(
            "search +snippets",
            lambda words: searcher.search(" ".join(words), facets=False).hits,
            queries,
        )
    client = create_app({"INDEX_DIR": str(index_dir)}).test_client()

    def api(words: Query) -> list:
        response = client.get("/api/search", query_string={"q": " ".join(words)})
        if response.status_code != 200:
            raise SystemExit(f"/api/search {words}: {response.status_code} {response.text[:200]}")
        return response.get_json()["hits"]

    return searching, timed("/api/search", api, queries)


def measure(size: int, queries: list[Query], args: argparse.Namespace) -> dict:
    """Build one corpus, index it with the archive and FTS5, and time the queries on both."""
    place = args.workdir / str(size)
    shutil.rmtree(place, ignore_errors=True)
    place.mkdir(parents=True)
    source = _corpus.write_scaled(place / "corpus.jsonl", size, SEED, args.corpus)
    print(f"\n== {size} articles ({source.stat().st_size / 2**20:.0f} MB of JSON Lines) ==")
    archive = index_archive(source, place / "archive", args.summarizer, args.progress)
    fts5 = index_in_subprocess("fts5", source, place / "fts5", rerun=False)
    searching, served = time_archive(place / "archive", queries)
    with fts5_queries(place / "fts5") as runners:
        fts5_latency = timed("fts5", runners["fts5"], queries)
    row = {
        "size": size,
        "archive": archive,
        "fts5_seconds": fts5.seconds,
        "fts5_mb": fts5.size_mb,
        "fts5_rss": fts5.rss_mb,
        "search": searching,
        "api": served,
        "fts5": fts5_latency,
    }
    print_row(row)
    if not args.keep:
        shutil.rmtree(place, ignore_errors=True)
    return row


def print_row(row: dict) -> None:
    """The figures of one size."""
    a: Indexing = row["archive"]
    print(
        f"  archive: {a.articles} articles in {a.wall:.1f} s wall, {a.cpu:.1f} CPU-s "
        f"({a.articles / a.wall:.1f} articles/s, {a.cpu / a.articles * 1000:.1f} CPU-ms/article)"
    )
    print(
        f"    peak RSS: writer {a.writer_mb:.0f} MB, largest other process {a.worker_mb:.0f} MB, "
        f"process tree {a.tree_mb:.0f} MB (summed RSS, polled every {POLL} s); "
        f"index {a.size_mb:.1f} MB"
    )
    if a.peak_stack:
        every = f"{PEAK_INTERVAL * 1000:.0f} ms"
        print(f"    the writer at its peak (sampled every {every}), innermost last:")
        for frame in a.peak_stack:
            print(f"      {frame}")
    print(
        f"  fts5:    {row['fts5_seconds']:.1f} s, peak RSS {row['fts5_rss']:.0f} MB, "
        f"{row['fts5_mb']:.1f} MB on disk"
    )
    for name in ("search", "api", "fts5"):
        timing: Timing = row[name]
        lat = timing.latency
        print(
            f"  {lat.name:<18} median {lat.median_ms:8.2f} ms  p95 {lat.p95_ms:8.2f} ms  "
            f"mean CPU {timing.cpu_ms:7.2f} ms  ({lat.empty} without hits)"
        )


def print_table(rows: list[dict], count: int) -> None:
    """All sizes side by side, then the goals."""
    print(f"\n== scaling ({count} queries of 1-3 title words, all required, top 10) ==")
    head = (
        "| articles | index wall s | CPU-s | articles/s | CPU-ms/article | writer MB | tree MB "
        "| index MB | FTS5 index s | FTS5 MB | search+snippets p50/p95 ms "
        "| /api/search p50/p95 ms | FTS5 p50/p95 ms |"
    )
    print(head)
    print("|" + "---|" * head.count(" | ") + "---|")
    for row in rows:
        a: Indexing = row["archive"]
        s, api, f = (row[name].latency for name in ("search", "api", "fts5"))
        print(
            f"| {a.articles:,} | {a.wall:.0f} | {a.cpu:.0f} | {a.articles / a.wall:.1f} "
            f"| {a.cpu / a.articles * 1000:.1f} | {a.writer_mb:.0f} | {a.tree_mb:.0f} "
            f"| {a.size_mb:.0f} | {row['fts5_seconds']:.1f} | {row['fts5_mb']:.0f} "
            f"| {s.median_ms:.1f} / {s.p95_ms:.1f} | {api.median_ms:.1f} / {api.p95_ms:.1f} "
            f"| {f.median_ms:.2f} / {f.p95_ms:.2f} |"
        )
    print("\n== Goals ==")
    small, large = rows[0]["archive"], rows[-1]["archive"]
    if len(rows) > 1:
        cpu_growth = (large.cpu / large.articles) / (small.cpu / small.articles)
        wall_growth = (large.wall / large.articles) / (small.wall / small.articles)
        verdict = "met" if cpu_growth <= GOAL_COST_GROWTH else "missed"
        print(
            f"  [{verdict}] CPU-s per article grows at most {GOAL_COST_GROWTH}x from "
            f"{small.articles:,} to {large.articles:,}: {cpu_growth:.2f}x "
            f"(wall time per article {wall_growth:.2f}x)"
        )
    worst = max(r["archive"].writer_mb for r in rows)
    verdict = "met" if worst < GOAL_WRITER_MB else "missed"
    print(f"  [{verdict}] writer peak RSS under {GOAL_WRITER_MB:.0f} MB: at most {worst:.0f} MB")


def main() -> None:
    """Measure every size and print the curve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,20000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1, help="of the query set")
    parser.add_argument("--corpus", type=Path, default=_corpus.DEFAULT_ROOT)
    parser.add_argument("--workdir", type=Path, default=REPO / "bench" / "out" / "scale")
    parser.add_argument("--keep", action="store_true", help="keep corpora and indexes")
    parser.add_argument("--summarizer", default=DEFAULT_SUMMARIZER)
    parser.add_argument("--progress", type=Path, help="append a line a minute while indexing")
    parser.add_argument("--index-worker", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.index_worker:
        source, index_dir = args.index_worker
        index_worker(source, index_dir, args.summarizer)
        return
    sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
    titles = [a.title for a in _corpus.load(args.corpus)]
    queries = make_queries(titles, args.queries, args.seed)
    print(
        f"{WORKERS} workers, summariser {args.summarizer}; CPU-s = user+system of the process "
        "tree; FTS5 (porter, one transaction, bm25) only tokenises and indexes."
    )
    rows = [measure(size, queries, args) for size in sizes]
    print_table(rows, len(queries))


if __name__ == "__main__":
    main()
