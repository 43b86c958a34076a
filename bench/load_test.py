"""Load test: `archive serve` on 127.0.0.1 under 50 concurrent clients while an index run
commits in the background. Prints latency percentiles; exits 1 on any failed request.

Usage: python bench/load_test.py [--corpus ../shared/corpora/bbc] [--clients 50] [--requests 3000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ARCHIVE = Path(sys.executable).parent / "archive"
WORDS = [
    "market",
    "government",
    "film",
    "game",
    "music",
    "election",
    "phone",
    "profit",
    "minister",
    "court",
    "police",
    "record",
    "mobile",
    "economy",
    "players",
    "oil",
]


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str, timeout: float = 30.0) -> tuple[int, float, bytes]:
    """GET ``url``; return status, seconds taken and body."""
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        body, status = exc.read(), exc.code
    except (urllib.error.URLError, OSError):
        body, status = b"", 0
    return status, time.perf_counter() - started, body


def wait_for(url: str, seconds: float) -> None:
    """Poll ``url`` until it answers 200."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if fetch(url, timeout=2)[0] == 200:
            return
        time.sleep(0.2)
    raise SystemExit(f"server at {url} did not start")


def request_plan(base: str, ids: list[str], count: int, seed: int) -> list[str]:
    """A fixed mix of search pages, API searches and article pages."""
    rng = random.Random(seed)
    plan = []
    for _ in range(count):
        query = " ".join(rng.sample(WORDS, rng.choice((1, 1, 2))))
        kind = rng.random()
        if kind < 0.4:
            plan.append(f"{base}/api/search?" + urllib.parse.urlencode({"q": query}))
        elif kind < 0.7:
            page = rng.choice((1, 1, 2, 3))
            plan.append(f"{base}/?" + urllib.parse.urlencode({"q": query, "page": page}))
        else:
            plan.append(f"{base}/articles/{urllib.parse.quote(rng.choice(ids))}")
    return plan


def percentile(values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``values`` lie."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> int:
    """Run the load test and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared/corpora/bbc")
    parser.add_argument(
        "--background",
        type=Path,
        help="corpus indexed during the load "
        "(default: the corpus again into the same index, rebuilt)",
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--max-seconds", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="archive-load-"))
    index_dir = work / "index"
    env = {**os.environ, "ARCHIVE_INDEX_DIR": str(index_dir)}
    server = background = None
    try:
        started = time.perf_counter()
        subprocess.run(
            [str(ARCHIVE), "index", str(args.corpus)],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        print(f"indexed {args.corpus} in {time.perf_counter() - started:.1f} s")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [str(ARCHIVE), "serve", "--port", str(port), "--threads", "8"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(f"{base}/api/search?q=news", 60)
        # An empty query lists the newest articles: real ids for the article pages.
        _status, _, body = fetch(f"{base}/api/search?q=")
        ids = [hit["id"] for hit in json.loads(body)["hits"]]
        plan = request_plan(base, ids, args.requests, args.seed)

        # Small batches make the background run commit many times while the load runs.
        extra = ["--rebuild"] if args.background is None else []
        background = subprocess.Popen(
            [
                str(ARCHIVE),
                "index",
                str(args.background or args.corpus),
                "--workers",
                "1",
                "--batch-size",
                "25",
                *extra,
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + args.max_seconds

        during_indexing = []

        def one(url: str) -> tuple[str, int, float]:
            if time.monotonic() > deadline:
                return url, -1, 0.0
            status, seconds, _body = fetch(url)
            if background.poll() is None:
                during_indexing.append(url)
            return url, status, seconds

        load_started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            results = list(pool.map(one, plan))
        elapsed = time.perf_counter() - load_started
        background.wait(timeout=600)
    finally:
        for proc in (server, background):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=30)
        log = (work / "server.log").read_text() if (work / "server.log").exists() else ""
        shutil.rmtree(work, ignore_errors=True)

    done = [r for r in results if r[1] != -1]
    failed = [r for r in done if r[1] != 200]
    latencies = [r[2] * 1000 for r in done]
    print(
        f"clients: {args.clients}, requests: {len(done)} in {elapsed:.1f} s "
        f"({len(done) / elapsed:.0f} req/s), not sent (time limit): {len(results) - len(done)}"
    )
    print(f"background index run: {background.stdout.read().strip().splitlines()[-1]}")
    print(f"requests answered while it was committing: {len(during_indexing)}")
    print(
        f"latency ms: p50 {statistics.median(latencies):.0f}, "
        f"p90 {percentile(latencies, 0.9):.0f}, p95 {percentile(latencies, 0.95):.0f}, "
        f"p99 {percentile(latencies, 0.99):.0f}, max {max(latencies):.0f}"
    )
    print(f"errors: {len(failed)}")
    for url, status, _ in failed[:10]:
        print(f"  {status} {url}")
    if failed and log:
        print("server log (end):\n" + log[-3000:])
    return 1 if failed or background.returncode != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
