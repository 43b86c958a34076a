"""Proxy of a large run's end: the rewrites of stories' lagging members, timed alone.

Builds (once, cached under --workdir) an index of --articles articles made from --bases BBC
articles (about 45 perturbed copies each with random dates, the density of bench/scale.py's
100,000), killed right after its last regular commit so every lagging member is left for
the next run; then, per round, copies that index and runs the archive again over the same
input (nothing to index: the run's end rewrites the lagging members) in a fresh process,
printing the lagging count, wall, CPU-s and the writer's peak RSS, and the final stories'
and hits' fingerprint (identical across code versions when results are).

Usage: nice .venv/bin/python bench/rewrite_phase.py [--articles 20000] [--bases 450]
       [--rounds 2] [--code DIR ...] [--workdir bench/out/rewrites]
Each --code DIR is a checkout whose code the rounds run (A B A B ...); the default is this one.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import resource
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SEED = 20261128
CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from app.indexer import Settings, index_paths
from index.stories import StoryState
from index.store import live_dir, open_index
source, index_dir = Path(sys.argv[1]), Path(sys.argv[2])
ix = open_index(index_dir)
state = StoryState.load(live_dir(index_dir), ix.latest_generation())
lagging = len(state.lagging) if state else -1
del state
started = time.perf_counter()
index_paths([source], index_dir, Settings(workers=2, summarizer="luhn"))
wall = time.perf_counter() - started
own = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"lagging": lagging, "wall": wall, "writer_cpu": own.ru_utime + own.ru_stime,
                  "rss_mb": own.ru_maxrss / 1024}))
"""


def write_corpus(target: Path, size: int, bases: int) -> None:
    """``size`` articles made from ``bases`` BBC articles, as bench/_corpus.write_scaled."""
    sys.path.insert(0, str(REPO))
    from bench import _corpus

    articles = _corpus.load(limit=bases)
    rng = random.Random(SEED)
    first = datetime.date(_corpus.FIRST_YEAR, 1, 1).toordinal()
    days = datetime.date(_corpus.LAST_YEAR, 12, 31).toordinal() - first + 1
    with target.open("w", encoding="utf-8") as out:
        for n in range(size):
            copy, index = divmod(n, len(articles))
            base = articles[index]
            text = base.text if copy == 0 else _corpus.perturbed(base.text, rng, 100)
            record = {
                "id": f"{base.rel.removesuffix('.txt')}-{copy}",
                "title": base.title,
                "text": text,
                "category": base.rel.split("/")[0],
                "source": rng.choice(_corpus.SOURCES),
                "author": rng.choice(_corpus.AUTHORS),
                "date": datetime.date.fromordinal(first + rng.randrange(days)).isoformat(),
            }
            out.write(json.dumps(record) + "\n")


def build(workdir: Path, size: int, bases: int) -> tuple[Path, Path]:
    """The corpus and the index killed after its last regular commit (cached)."""
    corpus = workdir / f"corpus-{size}-{bases}.jsonl"
    index = workdir / f"index-{size}-{bases}"
    if not corpus.exists():
        write_corpus(corpus, size, bases)
    if not index.exists():
        env = dict(os.environ, ARCHIVE_TEST_KILL_AT=f"commit-{size // 1000}")
        command = [str(REPO / ".venv/bin/archive"), "--index-dir", str(index), "index", str(corpus)]
        command += ["--workers", "2", "--summarizer", "luhn"]
        subprocess.run(command, env=env, cwd=REPO, check=False)
    return corpus, index


def fingerprint(python: str, code: Path, index: Path) -> str:
    """A hash of every article's story and the hits of a few queries."""
    script = r"""
import hashlib, sys
from index.store import open_index
ix = open_index(sys.argv[1])
h = hashlib.sha256()
with ix.searcher() as s:
    for f in sorted(s.all_stored_fields(), key=lambda f: f["id"]):
        h.update(f"{f['id']}={f['story']};".encode())
print(h.hexdigest()[:8], end=" ")
from index.searcher import ArchiveSearcher
with ArchiveSearcher.open(sys.argv[1]) as a:
    for q in ("economy", "minister election", "film award", "mobile phone"):
        page = a.search(q)
        h.update(repr([page.total, [(hit.id, hit.snippet) for hit in page.hits]]).encode())
print(h.hexdigest()[:16])
"""
    env = dict(os.environ, PYTHONPATH=str(code))
    out = subprocess.run(
        [python, "-c", script, str(index)], env=env, cwd=code, capture_output=True, text=True
    )
    return out.stdout.strip() or out.stderr.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20000)
    parser.add_argument("--bases", type=int, default=450)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--code", type=Path, action="append")
    parser.add_argument("--workdir", type=Path, default=REPO / "bench" / "out" / "rewrites")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    corpus, index = build(args.workdir, args.articles, args.bases)
    python = str(REPO / ".venv/bin/python")
    for round_ in range(1, args.rounds + 1):
        for code in args.code or [REPO]:
            copy = args.workdir / f"run-{code.name}"
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(index, copy)
            env = dict(os.environ, PYTHONPATH=str(code))
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            out = subprocess.run(
                [python, "-c", CHILD, str(corpus), str(copy)],
                env=env,
                cwd=code,
                capture_output=True,
                text=True,
            )
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if out.returncode:
                raise SystemExit(out.stderr)
            data = json.loads(out.stdout.strip().splitlines()[-1])
            cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
            digest = fingerprint(python, code, copy)
            segments = len(list(copy.rglob("*.seg")))
            print(
                f"round {round_} {code}: lagging {data['lagging']:,}  wall {data['wall']:.1f} s  "
                f"CPU {cpu:.1f} s (writer {data['writer_cpu']:.1f})  "
                f"writer peak {data['rss_mb']:.0f} MB  segments {segments}  result {digest}",
                flush=True,
            )


if __name__ == "__main__":
    main()
