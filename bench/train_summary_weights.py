"""Learn the "learned" summariser's sentence scorer from reference summaries.

Trains on the articles of the benchmark's training half (split by a hash of the path) that
have a reference summary; bench/summary_quality.py scores only the other half, so its
figures for "learned" are on articles the scorer never saw.  Each article is used twice: as
written, and with its punctuation deleted and its sentences restored, as the default sees
scraped text.  Target of a sentence: the share of its word pairs (Porter stems, as ROUGE
counts them) found in the reference, which also grades restored sentences that straddle a
reference sentence's edge.  Model: L2-regularised logistic regression on that soft target
(Newton steps in numpy) over archive.summarize.FEATURES; written to
archive/data/summary_weights.json with the power of length in a sentence's value
(probability x length**power; 0.8 beat 0.6 and 1.0 trained on either half of the development
articles and scored on the other).

    python bench/train_summary_weights.py --references ../shared/corpora/bbc-summaries
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from archive.restore import sentence_words  # noqa: E402
from archive.segment import train_segmenter  # noqa: E402
from archive.summarize import FEATURES, WEIGHTS_PATH, _candidates, sentence_features  # noqa: E402
from bench import _corpus  # noqa: E402
from bench.summary_quality import _tokens  # noqa: E402


def _pairs(tokens: list[str]) -> set[tuple[str, ...]]:
    return set(zip(tokens, tokens[1:], strict=False)) if len(tokens) > 1 else {tuple(tokens)}


def in_reference(sentence: str, ref_pairs: set[tuple[str, ...]]) -> float:
    """The share of a sentence's word pairs that the reference has."""
    pairs = _pairs(_tokens(sentence))
    return len(pairs & ref_pairs) / len(pairs) if pairs else 0.0


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 50) -> dict:
    """Standardised logistic regression by Newton's method; the fields of the weights file."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = np.hstack([np.ones((len(x), 1)), (x - mean) / scale])
    w = np.zeros(z.shape[1])
    penalty = np.eye(len(w)) * l2
    penalty[0, 0] = 0.0  # the intercept is not shrunk
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-z @ w))
        grad = z.T @ (p - y) + penalty @ w
        hess = (z * (p * (1 - p))[:, None]).T @ z + penalty
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return {
        "mean": mean.tolist(),
        "scale": scale.tolist(),
        "weights": w[1:].tolist(),
        "bias": float(w[0]),
    }


def main(argv: list[str] | None = None) -> int:
    """Train the scorer and write the weights file."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", nargs="?", type=pathlib.Path, default=_corpus.DEFAULT_ROOT)
    ap.add_argument("--references", type=pathlib.Path, required=True)
    ap.add_argument("--train-limit", type=int, default=400, help="segmenter training articles")
    ap.add_argument("--out", type=pathlib.Path, default=WEIGHTS_PATH)
    ap.add_argument(
        "--length-power",
        type=float,
        default=0.8,
        help="a sentence's value is probability x length**power (0.8 won on both halves)",
    )
    args = ap.parse_args(argv)

    arts = [a for a in _corpus.load(args.root) if _corpus.is_train(a)]
    seg_train = arts[:: max(1, len(arts) // args.train_limit)][: args.train_limit]
    seg = train_segmenter([a.text for a in seg_train])
    xs, ys, n_articles = [], [], 0
    for art in arts:
        ref = _corpus.reference(args.references, art)
        if ref is None:
            continue
        ref_pairs = _pairs(_tokens(ref))
        words, _ = sentence_words(seg.punkt_sentences(art.text))
        for text in (art.text, " ".join(words)):
            sentences = seg.segment(text).sentences
            idx, _ = _candidates(sentences, art.title)
            cands = [sentences[i] for i in idx]
            if len(cands) < 2:
                continue
            xs.append(sentence_features(cands, art.title))
            ys.extend(in_reference(s, ref_pairs) for s in cands)
        n_articles += 1
    if not xs:
        print(f"no article under {args.root} has a reference in {args.references}", file=sys.stderr)
        return 1
    x, y = np.vstack(xs), np.asarray(ys)
    model = fit_logistic(x, y)
    data = {
        "features": list(FEATURES),
        **model,
        "length_power": args.length_power,
        "trained_on": (
            f"{n_articles} articles punctuated and stripped, {len(y)} sentences, "
            f"mean share in a reference {y.mean():.3f}"
        ),
    }
    args.out.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    for name, w in zip(FEATURES, model["weights"], strict=True):
        print(f"  {name:18s} {w:+.3f}")
    print(f"wrote {args.out} ({data['trained_on']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
