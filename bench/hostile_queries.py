"""Hostile query shapes against `archive serve`: the worst latency, and a plain search's p95
while 8 clients (--clients) send expensive queries, compared with its idle p95.

Goals: every hostile query answered (results or a 400 refusal) in under 1 s; the plain p95
under load no more than 2x its idle p95.

Usage: .venv/bin/python bench/hostile_queries.py [--size 20000] [--index-dir DIR] [--clients 8]
The index of --size articles (copies of the BBC corpus with distinct ids and perturbed
text) is built at --index-dir unless one is already there.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import pathlib
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import _corpus  # noqa: E402
from index.searcher import ArchiveSearcher  # noqa: E402
from index.store import index_exists  # noqa: E402

ARCHIVE = pathlib.Path(sys.executable).parent / "archive"
SEED = 20261128
PLAIN = ["market", "government", "film", "game", "music", "election", "phone", "profit"]
PLAIN += ["minister", "court", "police", "record", "mobile", "economy", "players", "oil"]


def build_index(corpus: pathlib.Path, index_dir: pathlib.Path, size: int) -> None:
    """Index ``size`` articles made from the corpus into ``index_dir``."""
    with tempfile.TemporaryDirectory() as tmp:
        source = pathlib.Path(tmp) / "hostile.jsonl"
        _corpus.write_scaled(source, size, SEED, corpus, typo_every=20)
        print(f"indexing {size} articles into {index_dir} ...", flush=True)
        started = time.perf_counter()
        subprocess.run(
            [str(ARCHIVE), "--index-dir", str(index_dir), "index", str(source)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        print(f"indexed in {time.perf_counter() - started:.0f} s")


def hostile_queries(corpus: pathlib.Path) -> dict[str, str]:
    """Named expensive query shapes, several built from the corpus's own words."""
    titles = [a.title for a in _corpus.load(corpus, limit=400)]
    words = sorted({w.lower() for t in titles for w in re.findall(r"[A-Za-z]{4,}", t)})
    pairs = [" ".join(ws[:2]) for t in titles if len(ws := re.findall(r"[A-Za-z]{4,}", t)) >= 2]
    rng = random.Random(SEED)
    long_or = ""
    while len(long_or) < 950:
        long_or += ("" if not long_or else " OR ") + rng.choice(words)
    phrases = ""
    while len(phrases) < 950:
        phrases += ("" if not phrases else " OR ") + f'"{rng.choice(pairs)}"'
    return {
        "vowel infixes": "*a* *e* *i* *o* *u*",
        "any word": "?*",
        "leading wildcard": "*tion",
        "field-wide every": "text:*",
        "open range": "[a TO]",
        "range over all": "text:[a TO z]",
        "open start range": "[TO m]",
        "two-letter prefix": "co*",
        "two-letter prefixes": "co* OR st* OR pr* OR re*",
        "infix after prefix": "pr*ion*",
        "fuzzy": "government~3",
        "long OR list": long_or[:1000],
        "many phrases": phrases[:1000],
        "many ANDed words": " ".join(rng.sample(words, 60))[:1000],
        "deep page": "said",
    }


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str) -> tuple[int, float, dict]:
    """GET ``url``; status, seconds and the JSON body."""
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=300) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read()
    return status, time.perf_counter() - started, json.loads(body)


def search_url(base: str, q: str, page: int = 1) -> str:
    """The API URL of a search."""
    args = {"q": q} if page == 1 else {"q": q, "page": page}
    return f"{base}/api/search?{urllib.parse.urlencode(args)}"


def percentile(values: list[float], pct: float) -> float:
    """The ``pct`` percentile by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, round(pct / 100 * len(ordered)))) - 1]


def warm(base: str, clients: int = 64) -> None:
    """Warm the OS cache and every server thread's reader: plain searches from ``clients``
    at once, more than the server has threads, so each thread serves some."""
    threads = [
        threading.Thread(target=fetch, args=(search_url(base, PLAIN[i % len(PLAIN)]),))
        for i in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def plain_latencies(base: str, count: int) -> list[float]:
    """Milliseconds of ``count`` plain one-word searches, one at a time."""
    return [fetch(search_url(base, PLAIN[i % len(PLAIN)]))[1] * 1000 for i in range(count)]


def main(argv: list[str] | None = None) -> int:
    """Build or reuse the index, serve it and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=pathlib.Path, default=_corpus.DEFAULT_ROOT)
    ap.add_argument("--size", type=int, default=20_000)
    ap.add_argument("--index-dir", type=pathlib.Path)
    ap.add_argument("--rounds", type=int, default=3, help="times each hostile shape is sent")
    ap.add_argument("--plain", type=int, default=80, help="plain searches per measurement")
    ap.add_argument("--clients", type=int, default=8, help="clients sending hostile queries")
    args = ap.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"no corpus at {args.corpus}", file=sys.stderr)
        return 1
    index_dir = args.index_dir or REPO / "bench" / "out" / f"hostile-index-{args.size}"
    if index_exists(index_dir):
        print(f"reusing the index at {index_dir}")
    else:
        build_index(args.corpus, index_dir, args.size)
    shapes = hostile_queries(args.corpus)
    print(f"load average before the run: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(ARCHIVE), "--index-dir", str(index_dir), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                fetch(search_url(base, "news"))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.2)
        with ArchiveSearcher.open(index_dir) as searcher:
            docs = searcher.doc_count
        warm(base)

        print(f"\n{docs} articles; each hostile shape sent {args.rounds} times, one at a time")
        worst: list[float] = []
        for name, q in shapes.items():
            page = 1000 if name == "deep page" else 1
            runs = [fetch(search_url(base, q, page)) for _ in range(args.rounds)]
            status, _, body = runs[-1]
            slowest = max(r[1] for r in runs)
            worst.append(slowest)
            if status == 200:
                outcome = f"{body['total']} results" + (", partial" if body["partial"] else "")
            else:
                outcome = f"{status}: {body['error']['message'][:70]}"
            print(f"  {name:<20} max {slowest * 1000:6.0f} ms  {outcome}")
        print(f"hostile p100: {max(worst) * 1000:.0f} ms (goal < 1000 ms)")

        cpu = server_cpu(server.pid)
        idle = plain_latencies(base, args.plain)
        idle_cpu = server_cpu(server.pid) - cpu
        # The attackers run in a process of their own, so that their threads do not slow
        # down (by this process's GIL) the plain searches timed here.
        urls = [search_url(base, q) for q in shapes.values()]
        stop = multiprocessing.Event()
        statuses = multiprocessing.Array("i", 600)
        attack_args = (urls, stop, statuses, args.clients)
        attackers = multiprocessing.Process(target=attack, args=attack_args)
        attackers.start()
        time.sleep(1)
        cpu = server_cpu(server.pid)
        loaded = plain_latencies(base, args.plain)
        loaded_cpu = server_cpu(server.pid) - cpu
        stop.set()
        attackers.join()
        rss = server_rss(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    idle_p95, loaded_p95 = percentile(idle, 95), percentile(loaded, 95)
    print(f"\nplain search ({args.plain} one-word queries, one at a time)")
    print(
        f"  idle:  median {statistics.median(idle):.0f} ms, p95 {idle_p95:.0f} ms "
        f"(server CPU {idle_cpu:.1f} s)"
    )
    sent = {code: n for code, n in enumerate(statuses[:]) if n}
    print(
        f"  with {args.clients} clients sending hostile queries ({sum(sent.values())} sent: "
        + ", ".join(f"{n} x {code}" for code, n in sorted(sent.items()))
        + f"): median {statistics.median(loaded):.0f} ms, p95 {loaded_p95:.0f} ms "
        f"(server CPU {loaded_cpu:.1f} s)"
    )
    print(f"  p95 ratio: {loaded_p95 / idle_p95:.1f}x (goal <= 2x)")
    print(f"server memory at the end: {rss:.0f} MB resident (worker and fork server included)")
    print(f"load average after the run: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


def attack(urls: list[str], stop: Any, statuses: Any, clients: int) -> None:
    """Send the hostile queries from ``clients`` threads until ``stop``; count the statuses."""

    def client(offset: int) -> None:
        i = offset
        while not stop.is_set():
            status = fetch(urls[i % len(urls)])[0]
            with statuses.get_lock():
                statuses[status] += 1
            i += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def server_rss(pid: int) -> float:
    """Megabytes resident in process ``pid`` and every process it started."""
    kilobytes = 0
    for proc in _descendants(pid):
        try:
            status = pathlib.Path(f"/proc/{proc}/status").read_text()
        except OSError:  # ended since it was listed
            continue
        kilobytes += sum(
            int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")
        )
    return kilobytes / 1024


def server_cpu(pid: int) -> float:
    """CPU-seconds used so far by process ``pid`` and every process it started."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for proc in _descendants(pid):
        try:
            fields = pathlib.Path(f"/proc/{proc}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended since it was listed
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process it started, found by their parents in /proc."""
    parents = {}
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
    found = []
    for proc in parents:
        ancestor = proc
        while ancestor not in (pid, 0, 1) and ancestor in parents:
            ancestor = parents[ancestor]
        if ancestor == pid:
            found.append(proc)
    return found


if __name__ == "__main__":
    sys.exit(main())
