"""Export throughput and memory: rows/s and peak RSS for writing every hit of a corpus.

Usage: python bench/export.py [INDEX_DIR ...] [--corpus ../shared/corpora/bbc]

Without INDEX_DIR the corpus is indexed once into bench/out/export-index and reused. Each
case runs in a fresh process, so its peak RSS is its own; the baseline case opens the
index and runs the search without writing a row. Given indexes of several sizes (such as
those `bench/scale.py --keep` leaves in bench/out/scale/N/archive), it ends with what
exporting every article adds to the search's own peak RSS and heap at each size: flat memory
means those figures do not grow with the rows written. The heap is resident memory less the
index files mapped in (RssAnon), which the kernel reclaims when memory is short.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from index.results import Hit

REPO = Path(__file__).resolve().parent.parent
DEFAULT_INDEX = REPO / "bench" / "out" / "export-index"
#: (query, format): every article, then a common word whose hits all get snippets.
CASES = [("", "baseline"), ("", "csv"), ("", "jsonl"), ("said", "csv"), ("said", "jsonl")]
#: Rows between two samples of the heap's size.
HEAP_EVERY = 200
#: The heap after this many rows (two batches loaded) against its peak: flat when equal.
FIRST_ROWS = 1000


def run_case(index_dir: Path, query: str, fmt: str) -> dict[str, float]:
    """Export every hit of ``query`` to /dev/null; rows, seconds, CPU-seconds, peak RSS in MB."""
    from index.export import WRITERS
    from index.limits import QueryLimits
    from index.searcher import ArchiveSearcher
    from index.settings import EXPORT_TIME_LIMIT

    started, cpu_started = time.perf_counter(), time.process_time()
    rows = 0
    heap_mb = first_mb = 0.0

    def counted(hits: Iterator[Hit]) -> Iterator[Hit]:
        nonlocal rows, heap_mb, first_mb
        for hit in hits:
            rows += 1
            if rows % HEAP_EVERY == 0:
                heap_mb = max(heap_mb, anonymous_mb())
            if rows == FIRST_ROWS:
                first_mb = heap_mb
            yield hit

    with ArchiveSearcher.open(index_dir) as searcher, open(os.devnull, "w") as sink:
        hits = searcher.iter_hits(query, limits=QueryLimits(time_limit=EXPORT_TIME_LIMIT))
        heap_mb = anonymous_mb()
        if fmt != "baseline":
            sink.writelines(WRITERS[fmt](counted(hits)))
        heap_mb = max(heap_mb, anonymous_mb())
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {
        "rows": rows,
        "seconds": seconds,
        "cpu": cpu,
        "peak_mb": peak_mb,
        "heap_mb": heap_mb,
        "first_mb": first_mb,
    }


def anonymous_mb() -> float:
    """This process's resident memory that is not index files mapped in (RssAnon), in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("index_dirs", type=Path, nargs="*")
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared/corpora/bbc")
    parser.add_argument("--case", nargs=2, metavar=("QUERY", "FORMAT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.index_dirs[0], *args.case)))
        return
    index_dirs = args.index_dirs or [DEFAULT_INDEX]
    if not args.index_dirs and not DEFAULT_INDEX.exists():
        from app.indexer import Settings, index_paths

        print(f"indexing {args.corpus} into {DEFAULT_INDEX} (once) ...", flush=True)
        index_paths([args.corpus], DEFAULT_INDEX, Settings(workers=2))
    added = []
    for index_dir in index_dirs:
        print(f"index: {index_dir}")
        cases = {(query, fmt): measure(index_dir, query, fmt) for query, fmt in CASES}
        everything, alone = cases[("", "csv")], cases[("", "baseline")]
        added.append(
            (
                everything["rows"],
                everything["peak_mb"] - alone["peak_mb"],
                everything["heap_mb"] - alone["heap_mb"],
            )
        )
    if len(added) > 1:
        print("what a CSV export of every article adds to the search alone:")
        for rows, mb, heap in added:
            print(f"  {rows:7d} rows: peak RSS {mb:+.0f} MB, heap {heap:+.0f} MB")


def measure(index_dir: Path, query: str, fmt: str) -> dict[str, float]:
    """Run one case in a fresh process and print its figures."""
    out = subprocess.run(
        [sys.executable, __file__, str(index_dir), "--case", query, fmt],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    case = json.loads(out)
    rate = " " * 32
    if case["rows"]:
        rate = (
            f"{case['rows'] / case['seconds']:6.0f} rows/s {case['rows'] / case['cpu']:6.0f}/CPU-s"
        )
    print(
        f"{fmt:8} q={query!r:8} {case['rows']:6d} rows {case['seconds']:6.2f} s "
        f"({case['cpu']:6.2f} CPU-s) {rate}  peak RSS {case['peak_mb']:.0f} MB "
        f"(heap {case['heap_mb']:.0f} MB"
        + (f"; {case['first_mb']:.0f} MB after {FIRST_ROWS} rows)" if case["first_mb"] else ")"),
        flush=True,
    )
    return case


if __name__ == "__main__":
    main()
