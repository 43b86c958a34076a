"""Articles per second for each summariser on the BBC corpus (one process, one core)."""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from archive.restore import words_of  # noqa: E402
from archive.segment import default_segmenter  # noqa: E402
from archive.summarize import SUMMARIZERS, summarize  # noqa: E402
from bench import _corpus  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Time every summariser over the same articles and print articles/s."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("root", nargs="?", type=pathlib.Path, default=_corpus.DEFAULT_ROOT)
    ap.add_argument("--limit", type=int, default=200)
    ap.add_argument("--stripped", action="store_true", help="delete punctuation first")
    ap.add_argument("--summarizers", default=",".join(SUMMARIZERS))
    args = ap.parse_args(argv)
    arts = _corpus.load(args.root, limit=args.limit)
    if not arts:
        print(f"no articles under {args.root}", file=sys.stderr)
        return 1
    texts = [" ".join(words_of(a.text)) if args.stripped else a.text for a in arts]
    seg = default_segmenter()
    t0 = time.perf_counter()
    for t in texts:
        seg.segment(t)
    seg_rate = len(texts) / (time.perf_counter() - t0)
    print(
        f"{len(texts)} articles ({'stripped' if args.stripped else 'punctuated'}); "
        f"segmentation alone {seg_rate:.0f} articles/s"
    )
    for name in args.summarizers.split(","):
        t0, c0 = time.perf_counter(), time.process_time()
        for a, t in zip(arts, texts, strict=True):
            summarize(t, summarizer=name, segmenter=seg, title=a.title)
        rate = len(texts) / (time.perf_counter() - t0)
        # CPU time of the whole process (BLAS threads included): articles/s per core.
        cpu_rate = len(texts) / (time.process_time() - c0)
        print(f"  {name:10s} {rate:7.1f} articles/s wall, {cpu_rate:7.1f} per core (CPU time)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
