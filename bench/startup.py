"""Start-up time of the commands that only read the index: wall and CPU seconds of each run.

Indexes the shipped sample corpus into a temporary folder, then runs each command as a new
process, the commands interleaved round after round so that the load of a shared machine falls
on all of them alike, and prints the median and best wall-clock and CPU (user + system)
seconds of each. CPU seconds are the steadier figure on a busy machine. The target is 0.3 s.

    .venv/bin/python bench/startup.py --rounds 7
    .venv/bin/python bench/startup.py --repo /tmp/old-checkout   # the same on another checkout

Each command runs as ``python -c "from app.cli import main; main()" ARGS`` from the
checkout's folder, which is what the ``archive`` script does, so another checkout of the
project can be measured with the same interpreter and packages. The children may write
bytecode caches (PYTHONDONTWRITEBYTECODE is dropped from their environment), as an installed
copy has them: compiling the project's modules on every start is not what users pay.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 0.3
ARCHIVE = [sys.executable, "-c", "from app.cli import main; main()"]
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def commands(index_dir: Path) -> dict[str, list[str]]:
    """The commands timed, by label; the bare interpreter gives the floor."""
    at = ["--index-dir", str(index_dir)]
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        "archive --help": [*ARCHIVE, "--help"],
        "archive search council": [*ARCHIVE, *at, "search", "council"],
        "archive show csv-0006": [*ARCHIVE, *at, "show", "csv-0006"],
        "archive stats": [*ARCHIVE, *at, "stats"],
    }


def timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=CHILD_ENV, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    """Time the commands and print a table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--repo", type=Path, default=REPO, help="Checkout whose code is timed.")
    args = ap.parse_args()
    repo = args.repo.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index"
        sample = repo / "archive" / "data" / "sample"
        build = [*ARCHIVE, "--index-dir", str(index_dir), "index", str(sample), "--workers", "1"]
        subprocess.run(build, cwd=repo, env=CHILD_ENV, check=True, capture_output=True)
        todo = commands(index_dir)
        for command in todo.values():  # warm the file cache and write the .pyc files once
            timed(command, repo)
        runs: dict[str, list[tuple[float, float]]] = {label: [] for label in todo}
        for _ in range(args.rounds):
            for label, command in todo.items():
                runs[label].append(timed(command, repo))
    load = os.getloadavg()[0]
    print(f"{repo}: {args.rounds} rounds, load average {load:.2f} on {os.cpu_count()} cores")
    print(f"{'command':<26}{'wall median':>12}{'wall best':>11}{'CPU median':>12}{'CPU best':>10}")
    for label, figures in runs.items():
        walls = [w for w, _ in figures]
        cpus = [c for _, c in figures]
        print(
            f"{label:<26}{statistics.median(walls):>12.3f}{min(walls):>11.3f}"
            f"{statistics.median(cpus):>12.3f}{min(cpus):>10.3f}"
        )
    read_only = [label for label in runs if label.startswith("archive ") and "--help" not in label]
    slowest = max(statistics.median(c for _, c in runs[label]) for label in read_only)
    verdict = "under" if slowest < TARGET_SECONDS else "over"
    print(f"slowest read-only command: {slowest:.3f} s CPU (median), {verdict} {TARGET_SECONDS} s")


if __name__ == "__main__":
    main()
