"""Index throughput on the BBC corpus: articles/s for 1 and 2 workers, and an unchanged re-run.

Usage: python bench/index_throughput.py [--corpus ../shared/corpora/bbc]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from app.indexer import Settings, index_paths

REPO = Path(__file__).resolve().parent.parent


def timed_run(corpus: Path, index_dir: Path, settings: Settings) -> tuple[float, str]:
    """Index ``corpus`` and return the seconds taken and the run's summary line."""
    started = time.perf_counter()
    report = index_paths([corpus], index_dir, settings)
    return time.perf_counter() - started, report.line()


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared/corpora/bbc")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    count = sum(1 for _ in args.corpus.rglob("*.txt"))
    print(f"corpus: {args.corpus} ({count} articles)")
    with tempfile.TemporaryDirectory() as tmp:
        for workers in args.workers:
            index_dir = Path(tmp) / f"w{workers}"
            # The first run also learns the collection's sentence model; time it separately.
            seconds, line = timed_run(args.corpus, index_dir, Settings(workers=workers))
            print(f"workers={workers}: first run {seconds:.1f} s, {count / seconds:.0f} articles/s")
            print(f"  {line}")
            settings = Settings(workers=workers, rebuild=True)
            seconds, line = timed_run(args.corpus, index_dir, settings)
            print(f"workers={workers}: rebuild {seconds:.1f} s, {count / seconds:.0f} articles/s")
            seconds, line = timed_run(args.corpus, index_dir, Settings(workers=workers))
            print(f"workers={workers}: unchanged re-run {seconds:.2f} s ({line})")


if __name__ == "__main__":
    main()
