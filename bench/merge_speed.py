"""Merging K segments into one: Whoosh's merge (every posting through its sorting pool)
against the streaming merge of index/merging.py, on the same segments of BBC-derived
articles.

The segments are built once (bench/out/merge_speed/base); each round copies them and merges
the copy in a fresh process, Whoosh's and ours interleaved (A B A B ...), and prints each
merge's wall time, CPU-seconds and the process's peak RSS (and its RSS before merging).
Whoosh's merge reads the segments mapped, as the writer's merges did before; ours through
file handles, as the writer's index does.

Usage: nice .venv/bin/python bench/merge_speed.py [--articles 5000] [--segments 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import datetime
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import _corpus  # noqa: E402

OUT = REPO / "bench" / "out" / "merge_speed"
SEED = 20261128


def build(base: Path, articles: int, segments: int) -> None:
    """Write ``articles`` scaled BBC articles into ``segments`` unmerged segments."""
    from index.store import create_index
    from index.writer import with_postings

    OUT.mkdir(parents=True, exist_ok=True)
    corpus = _corpus.write_scaled(OUT / "corpus.jsonl", articles, SEED)
    records = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines()]
    ix = create_index(base)
    per = -(-len(records) // segments)
    for start in range(0, len(records), per):
        writer = ix.writer()
        for rec in records[start : start + per]:
            date = datetime.datetime.fromisoformat(rec["date"])
            fields = dict(rec, year=str(date.year), date=date, story=rec["id"])
            fields["summary"] = rec["text"][:300]
            writer.add_document(**with_postings(fields))
        writer.commit(merge=False)


def run(kind: str, folder: Path) -> dict[str, float]:
    """Merge every segment of the index in ``folder`` into one, in this process."""
    from whoosh.filedb.filestore import FileStorage
    from whoosh.writing import SegmentWriter

    from index.merging import merge_segments
    from index.store import INDEX_NAME

    ix = FileStorage(str(folder), supports_mmap=kind == "whoosh").open_index(INDEX_NAME)
    before_mb = _rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    writer = SegmentWriter(ix, limitmb=128)
    if kind == "whoosh":
        writer.commit(optimize=True)
    else:
        writer.commit(mergetype=lambda w, segs: [merge_segments(w, w.storage, segs)])
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    merged = FileStorage(str(folder)).open_index(INDEX_NAME)
    assert len(merged._segments()) == 1
    return {
        "wall": wall,
        "cpu": cpu,
        "peak_mb": peak_mb,
        "before_mb": before_mb,
        "docs": merged.doc_count(),
    }


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    """Build the segments once, then time the two merges interleaved."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--segments", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--run", choices=("whoosh", "stream"), help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        print(json.dumps(run(args.run, args.folder)))
        return
    base = OUT / f"base-{args.articles}-{args.segments}"
    if not base.exists():
        t0 = time.perf_counter()
        build(base, args.articles, args.segments)
        took = time.perf_counter() - t0
        print(f"built {args.segments} segments of {args.articles} articles in {took:.0f} s")
    size_mb = sum(f.stat().st_size for f in base.iterdir()) / 2**20
    print(f"{args.articles} articles in {args.segments} segments, {size_mb:.1f} MB")
    print("| round | merge | wall s | CPU-s | CPU-ms per article | peak RSS MB (before) |")
    print("|---|---|---|---|---|---|")
    results: dict[str, list[dict[str, float]]] = {"whoosh": [], "stream": []}
    for n in range(args.rounds):
        for kind in ("whoosh", "stream"):
            folder = OUT / f"run-{kind}"
            shutil.rmtree(folder, ignore_errors=True)
            shutil.copytree(base, folder)
            cmd = [sys.executable, __file__, "--run", kind, "--folder", str(folder)]
            out = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
            results[kind].append(out)
            per_article = 1000 * out["cpu"] / out["docs"]
            print(
                f"| {n + 1} | {kind} | {out['wall']:.1f} | {out['cpu']:.1f} | {per_article:.2f} | "
                f"{out['peak_mb']:.0f} ({out['before_mb']:.0f}) |",
                flush=True,
            )
            shutil.rmtree(folder)
    w = min(r["cpu"] for r in results["whoosh"])
    s = min(r["cpu"] for r in results["stream"])
    print(f"best CPU-s: whoosh {w:.1f}, stream {s:.1f} ({w / s:.1f}x less CPU)")


if __name__ == "__main__":
    main()
