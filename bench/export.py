"""Export throughput and memory: rows/s and peak RSS for writing every hit of a corpus.

Usage: python bench/export.py [INDEX_DIR] [--corpus ../shared/corpora/bbc]

Without INDEX_DIR the corpus is indexed once into bench/out/export-index and reused. Each
case runs in a fresh process, so its peak RSS is its own; the baseline case opens the
index and runs the search without writing a row.
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


def run_case(index_dir: Path, query: str, fmt: str) -> dict[str, float]:
    """Export every hit of ``query`` to /dev/null; rows, seconds and peak RSS in MB."""
    from index.export import WRITERS
    from index.limits import QueryLimits
    from index.searcher import ArchiveSearcher
    from index.settings import EXPORT_TIME_LIMIT

    started = time.perf_counter()
    rows = 0

    def counted(hits: Iterator[Hit]) -> Iterator[Hit]:
        nonlocal rows
        for hit in hits:
            rows += 1
            yield hit

    with ArchiveSearcher.open(index_dir) as searcher, open(os.devnull, "w") as sink:
        hits = searcher.iter_hits(query, limits=QueryLimits(time_limit=EXPORT_TIME_LIMIT))
        if fmt != "baseline":
            sink.writelines(WRITERS[fmt](counted(hits)))
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"rows": rows, "seconds": seconds, "peak_mb": peak_mb}


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("index_dir", type=Path, nargs="?", default=None)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared/corpora/bbc")
    parser.add_argument("--case", nargs=2, metavar=("QUERY", "FORMAT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.index_dir, *args.case)))
        return
    index_dir = args.index_dir or DEFAULT_INDEX
    if args.index_dir is None and not index_dir.exists():
        from app.indexer import Settings, index_paths

        print(f"indexing {args.corpus} into {index_dir} (once) ...", flush=True)
        index_paths([args.corpus], index_dir, Settings(workers=2))
    print(f"index: {index_dir}")
    for query, fmt in CASES:
        out = subprocess.run(
            [sys.executable, __file__, str(index_dir), "--case", query, fmt],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        case = json.loads(out)
        rate = f"{case['rows'] / case['seconds']:7.0f} rows/s" if case["rows"] else " " * 14
        print(
            f"{fmt:8} q={query!r:8} {case['rows']:6d} rows {case['seconds']:6.2f} s {rate}"
            f"  peak RSS {case['peak_mb']:.0f} MB"
        )


if __name__ == "__main__":
    main()
