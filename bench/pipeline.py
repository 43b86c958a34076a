"""Where the wall time of an indexing run goes: the writer, the workers, and who waits on whom.

Runs the archive's indexing (``compare_engines.py --worker archive``: 2 workers, learning
the collection's sentence model) in a child process and samples the state of every process
of its tree from /proc every 50 ms. A process is *busy* when the kernel has it running or
ready to run (state R) and *waiting* when it sleeps (on a queue, a lock, the disk), so the
figures hold on a loaded machine, where busy time includes time queued for a core.

    python bench/pipeline.py [--corpus ../shared/corpora/bbc]

Linux only (reads /proc).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
INTERVAL = 0.05


@dataclass
class Proc:
    """What was seen of one process."""

    role: str
    cpu: float = 0.0
    busy: float = 0.0
    waiting: float = 0.0
    first_busy: float | None = None
    last_busy: float | None = None


def children(pid: int) -> list[int]:
    """The direct children of ``pid``."""
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return found


def sample(pid: int) -> tuple[str, float, str] | None:
    """(state, CPU seconds, command line) of a process, None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{pid}/cmdline") as f:
            command = f.read().replace("\0", " ")
    except OSError:
        return None
    return fields[0], (int(fields[11]) + int(fields[12])) / TICK, command


def watch(command: list[str]) -> tuple[float, dict[int, Proc], list[tuple[float, str, bool]]]:
    """Run ``command``, sampling its tree; return the wall time, the processes and, per
    sample, (time, role, busy) of each process seen."""
    start = time.monotonic()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    procs: dict[int, Proc] = {}
    timeline: list[tuple[float, str, bool]] = []
    last = start
    while child.poll() is None:
        now = time.monotonic()
        elapsed, step = now - start, now - last
        last = now
        stack = [(child.pid, "writer")]
        while stack:
            pid, role = stack.pop()
            seen = sample(pid)
            if seen is None:
                continue
            state, cpu, cmdline = seen
            if "resource_tracker" in cmdline:
                continue
            if role == "child":  # the writer's children: the fork server, else helpers
                role = "fork server" if "forkserver" in cmdline else "other"
            proc = procs.setdefault(pid, Proc(role))
            proc.cpu = cpu
            busy = state == "R"
            if busy:
                proc.busy += step
                proc.first_busy = elapsed if proc.first_busy is None else proc.first_busy
                proc.last_busy = elapsed
            else:
                proc.waiting += step
            timeline.append((elapsed, role, busy))
            below = {"writer": "child", "fork server": "worker"}.get(role, role)
            stack += [(c, below) for c in children(pid)]
        time.sleep(INTERVAL)
    return time.monotonic() - start, procs, timeline


def report(wall: float, procs: dict[int, Proc], timeline: list[tuple[float, str, bool]]) -> None:
    """Print each process's figures and the run's phases."""
    print(f"wall {wall:.1f} s, CPU of the tree {sum(p.cpu for p in procs.values()):.1f} s")
    print(f"{'process':<12}{'CPU s':>8}{'busy s':>9}{'waiting s':>11}{'first-last busy s':>20}")
    for proc in sorted(procs.values(), key=lambda p: p.role):
        span = f"{proc.first_busy or 0:.1f}-{proc.last_busy or 0:.1f}"
        print(f"{proc.role:<12}{proc.cpu:>8.1f}{proc.busy:>9.1f}{proc.waiting:>11.1f}{span:>20}")
    workers = [p for p in procs.values() if p.role == "worker" and p.first_busy is not None]
    if not workers:
        return
    first = min(p.first_busy or 0 for p in workers)
    end = max(p.last_busy or 0 for p in workers)
    by_time: dict[float, dict[str, list[bool]]] = {}
    for elapsed, role, busy in timeline:
        by_time.setdefault(elapsed, {}).setdefault(role, []).append(busy)
    times = sorted(by_time)
    idle_workers = 0.0
    for before, at in zip(times, times[1:], strict=False):
        roles = by_time[at]
        if first <= at <= end and any(roles.get("writer", [])) and not any(roles.get("worker", [])):
            idle_workers += at - before
    print(
        f"before the first worker runs (start-up, learning the sentence model): {first:.1f} s; "
        f"every worker waiting while the writer works: {idle_workers:.1f} s; "
        f"after the last worker's work: {wall - end:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared/corpora/bbc")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        sys.exit(f"no corpus at {args.corpus}")
    with tempfile.TemporaryDirectory() as tmp:
        command = [
            sys.executable,
            str(REPO / "bench" / "compare_engines.py"),
            "--worker",
            "archive",
            "--source",
            str(args.corpus),
            "--index-dir",
            str(Path(tmp) / "index"),
        ]
        report(*watch(command))


if __name__ == "__main__":
    main()
