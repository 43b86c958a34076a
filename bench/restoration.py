"""Sentence-boundary restoration on stripped BBC articles: P/R/F1, doubtful openers, cost.

Each scored article has its punctuation deleted and is flattened to one line; the
restored boundaries are compared with Punkt's sentences of the original. Two models are
scored on the same held-out half of the corpus (split by a hash of the path): the one
learned from the collection (as a new index does, from articles never scored) and the
shipped default (learned from archive/data/ only). For each, the share of restored
sentences marked doubtful (their start may be mid-clause) is printed with how many of
those really start mid-sentence, and the CPU time of restoring an article.

    python bench/restoration.py
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from app.indexer import TRAINING_ARTICLES  # noqa: E402
from archive.restore import boundary_prf, sentence_words  # noqa: E402
from archive.segment import (  # noqa: E402
    Segmenter,
    default_segmenter,
    spread_sample,
    train_segmenter,
)
from bench import _corpus  # noqa: E402


def score(seg: Segmenter, gold_seg: Segmenter, texts: list[str]) -> dict[str, float]:
    """Boundary P/R/F1, doubtful-opener shares and CPU ms per article of restoring texts."""
    gold_all: set[int] = set()
    pred_all: set[int] = set()
    offset = 0
    starts = doubtful = doubtful_wrong = sure_wrong = 0
    cpu = 0.0
    for text in texts:
        words, ends = sentence_words(gold_seg.punkt_sentences(text))
        if len(words) < 2:
            continue
        stripped = " ".join(words)
        t0 = time.process_time()
        got = seg.segment(stripped)
        cpu += time.process_time() - t0
        # Word offsets of the restored sentences (restoration keeps every word).
        cuts, n = [], 0
        for s in got.sentences:
            n += len(s.split())
            cuts.append(n - 1)
        pred = set(cuts[:-1])
        gold = set(ends)
        gold_all |= {offset + i for i in gold}
        pred_all |= {offset + i for i in pred}
        offset += len(words)
        for i in range(1, len(got.sentences)):
            starts += 1
            right = cuts[i - 1] in gold
            if i in got.doubtful:
                doubtful += 1
                doubtful_wrong += not right
            else:
                sure_wrong += not right
    p, r, f = boundary_prf(gold_all, pred_all)
    return {
        "P": p,
        "R": r,
        "F1": f,
        "doubtful": doubtful / max(starts, 1),
        "doubtful_wrong": doubtful_wrong / max(doubtful, 1),
        "sure_wrong": sure_wrong / max(starts - doubtful, 1),
        "ms": 1000 * cpu / max(len(texts), 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Train, score and print the report."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", nargs="?", type=pathlib.Path, default=_corpus.DEFAULT_ROOT)
    ap.add_argument("--limit", type=int, default=None, help="score at most N articles")
    ap.add_argument(
        "--train-limit", type=int, default=TRAINING_ARTICLES, help="train on at most N articles"
    )
    args = ap.parse_args(argv)

    arts = _corpus.load(args.root)
    if not arts:
        print(f"no articles under {args.root}", file=sys.stderr)
        return 1
    # Drawn from all of the training half, as the indexer draws from its input.
    train = spread_sample([a for a in arts if _corpus.is_train(a)], args.train_limit)
    test = [a for a in arts if not _corpus.is_train(a)]
    if args.limit:
        test = test[:: max(1, len(test) // args.limit)][: args.limit]
    t0 = time.process_time()
    collection = train_segmenter([a.text for a in train])
    t_train = time.process_time() - t0
    t0 = time.process_time()
    default = default_segmenter()
    t_default = time.process_time() - t0
    print(
        f"collection model: {len(train)} articles, {t_train:.1f} CPU-s to learn; "
        f"default model: {t_default:.1f} CPU-s to load; scoring {len(test)} held-out articles"
    )
    texts = [a.text for a in test]
    print(
        f"{'model':12s} {'P':>6s} {'R':>6s} {'F1':>6s}  {'doubtful':>8s} "
        f"{'of which wrong':>14s} {'sure but wrong':>14s}  ms/article (CPU)"
    )
    for name, seg in (("collection", collection), ("default", default)):
        m = score(seg, collection, texts)
        print(
            f"{name:12s} {m['P']:6.3f} {m['R']:6.3f} {m['F1']:6.3f}  {m['doubtful']:8.1%} "
            f"{m['doubtful_wrong']:14.1%} {m['sure_wrong']:14.1%}  {m['ms']:.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
