"""Time and memory to index huge inputs, and to serve the article page of the biggest.

Each input is generated in a temp folder: a 200 MB .txt article, a CSV with a 50 MB field
and a gzip bomb (a small .txt.gz expanding to a 1 GB line). Every step runs in a fresh
process, which prints its wall time, CPU seconds and peak RSS (RUSAGE_SELF for the process,
RUSAGE_CHILDREN for its worker processes).

Usage: python bench/huge_inputs.py [--workers 2] [--max-article-bytes 5000000]
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MB = 1_000_000
SENTENCE = b"The harbour commission published its annual dredging ledger today. "


def write_repeated(out, size: int) -> None:
    """Write ``size`` bytes of sentences, without a newline, in 1 MB pieces."""
    piece = SENTENCE * (MB // len(SENTENCE))
    written = 0
    while written < size:
        chunk = piece[: size - written]
        out.write(chunk)
        written += len(chunk)


def make_inputs(folder: Path) -> dict[str, Path]:
    """Write the three inputs; return them by name."""
    txt = folder / "txt" / "huge.txt"
    txt.parent.mkdir()
    with txt.open("wb") as out:
        out.write(b"Huge article\n\n")
        write_repeated(out, 200 * MB)
    csv_file = folder / "csv" / "field.csv"
    csv_file.parent.mkdir()
    with csv_file.open("wb") as out:
        out.write(b'id,title,text\nbig,Big field,"')
        write_repeated(out, 50 * MB)
        out.write(b'"\n')
        for n in range(3):
            out.write(b"small%d,Small,%s\n" % (n, SENTENCE * 5))
    bomb = folder / "gz" / "bomb.txt.gz"
    bomb.parent.mkdir()
    with gzip.open(bomb, "wb", compresslevel=9) as out:
        out.write(b"Bomb\n\n")
        write_repeated(out, 1000 * MB)
    return {"200 MB .txt article": txt, "CSV with a 50 MB field": csv_file, "gzip bomb": bomb}


def usage_figures(started: float) -> dict[str, float]:
    """Wall time since ``started``, CPU seconds and peak RSS (MB) of this process and its
    finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "wall_s": time.perf_counter() - started,
        "cpu_s": own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime,
        "rss_mb": own.ru_maxrss / 1024,
        "children_rss_mb": children.ru_maxrss / 1024,
    }


def step(kind: str, source: Path, index_dir: Path, workers: int, max_bytes: int) -> None:
    """Run one step in this process and print its figures as JSON (the child side)."""
    started = time.perf_counter()
    if kind == "index":
        from app.indexer import Settings, index_paths

        settings = Settings(workers=workers, max_article_bytes=max_bytes)
        report = index_paths([source.parent], index_dir, settings)
        note = report.line() + "; " + "; ".join(p.reason for p in report.problems)
    else:
        from web import create_app

        client = create_app({"INDEX_DIR": str(index_dir), "TESTING": True}).test_client()
        response = client.get(f"/articles/{source.parent.name}/{source.name.split('.')[0]}")
        note = f"HTTP {response.status_code}, {len(response.data) / MB:.1f} MB of HTML"
    print(json.dumps({**usage_figures(started), "note": note}))


def measure(kind: str, source: Path, index_dir: Path, args: argparse.Namespace) -> dict:
    """Run one step in a fresh process and return what it printed."""
    command = [sys.executable, __file__, "--step", kind, str(source), str(index_dir)]
    command += ["--workers", str(args.workers), "--max-article-bytes", str(args.max_bytes)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-article-bytes", dest="max_bytes", type=int, default=5 * MB)
    parser.add_argument("--step", nargs=3, metavar=("KIND", "SOURCE", "INDEX"), help="internal")
    args = parser.parse_args()
    if args.step:
        kind, source, index_dir = args.step
        step(kind, Path(source), Path(index_dir), args.workers, args.max_bytes)
        return
    print(f"workers={args.workers}, max article bytes={args.max_bytes:,}")
    with tempfile.TemporaryDirectory() as tmp:
        inputs = make_inputs(Path(tmp))
        for name, source in inputs.items():
            index_dir = Path(tmp) / f"index-{source.parent.name}"
            steps = ["index", "page"] if source.suffix == ".txt" else ["index"]
            for kind in steps:
                f = measure(kind, source, index_dir, args)
                print(
                    f"{name} ({source.stat().st_size / MB:.1f} MB on disk), {kind}: "
                    f"wall {f['wall_s']:.1f} s, CPU {f['cpu_s']:.1f} s, "
                    f"peak RSS {f['rss_mb']:.0f} MB (workers {f['children_rss_mb']:.0f} MB)"
                )
                print(f"  {f['note'][:300]}")


if __name__ == "__main__":
    main()
