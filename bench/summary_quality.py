"""Summary quality on the BBC corpus: reference summaries, punctuation loss, boundaries.

For each scored article: delete its punctuation and flatten it to one line, restore
the sentence boundaries, and compare them with Punkt's sentences of the original;
then compare the summary of the stripped article with the summary of the original
(ROUGE-1/2/L F1) for each summariser and a Lead-3 baseline.  With --references, every
summariser, Lead-k and sumy TextRank (the baseline the default must beat) are scored
against people's reference summaries at 3 sentences and at the reference's sentence
count, on the punctuated and on the stripped text: ROUGE F1 with Porter stemming.
The segmenter (and the "learned" scorer, see bench/train_summary_weights.py) is trained
only on articles that are never scored (split by a hash of the path); the segmenter learns
from 1,000 of them drawn evenly, as the indexer draws its collection model's sample.
--swap-halves scores the other half (the segmenter learned from this one; the shipped
scorer was trained on it, so "learned" is then scored in-sample).  --oracle-boundaries
splits the stripped text at Punkt's sentence ends of the original instead of restoring
them (none doubted), for every summariser: the ceiling of boundary restoration.

    python bench/summary_quality.py --references ../shared/corpora/bbc-summaries
"""

from __future__ import annotations

import argparse
import functools
import pathlib
import statistics
import sys
import time
from collections import Counter

from nltk.stem.porter import PorterStemmer

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from app.indexer import TRAINING_ARTICLES  # noqa: E402
from archive.restore import BoundaryModel, boundary_prf, sentence_words, words_of  # noqa: E402
from archive.segment import Segmenter, _finish, spread_sample, train_segmenter  # noqa: E402
from archive.summarize import (  # noqa: E402
    DEFAULT_SENTENCES,
    DEFAULT_SUMMARIZER,
    SUMMARIZERS,
    summarize,
    summary_length,
)
from bench import _corpus  # noqa: E402

_PORTER = functools.lru_cache(maxsize=200_000)(PorterStemmer().stem)


def _tokens(text: str) -> list[str]:
    # Both sides lose punctuation and case so only word choice is compared; stemmed as
    # ROUGE's own scorer does.
    return [_PORTER(w.lower()) for w in words_of(text)]


def _ngrams(tokens: list[str], n: int) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def _f1(overlap: float, n_pred: int, n_ref: int) -> float:
    if not n_pred or not n_ref or not overlap:
        return 0.0
    p, r = overlap / n_pred, overlap / n_ref
    return 2 * p * r / (p + r)


def _lcs(a: list[str], b: list[str]) -> int:
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def rouge(pred: str, ref: str) -> tuple[float, float, float]:
    """ROUGE-1, ROUGE-2 and ROUGE-L F1 of pred against ref."""
    p, r = _tokens(pred), _tokens(ref)
    out = []
    for n in (1, 2):
        pg, rg = _ngrams(p, n), _ngrams(r, n)
        out.append(_f1(sum((pg & rg).values()), sum(pg.values()), sum(rg.values())))
    out.append(_f1(_lcs(p, r), len(p), len(r)))
    return out[0], out[1], out[2]


MODES = ("punctuated", "stripped")


def _mean3(rows: list[tuple[float, float, float]]) -> str:
    if not rows:
        return "n/a"
    cols = list(zip(*rows, strict=True))
    return "  ".join(f"{statistics.fmean(c):.3f}" for c in cols)


def _print_reference_table(
    scores: dict[tuple[str, str, str], list], seconds: Counter, calls: Counter, k: int
) -> None:
    """ROUGE against the references per summariser, and the default against TextRank."""
    n = len(next(iter(scores.values())))
    print(f"\nROUGE F1 (Porter stems) against reference summaries, {n} articles")
    print(f"{'':12s} {'at ' + str(k) + ' sentences':>37s} {'at the reference count':>37s}")
    print(
        f"{'summariser':12s} {'punctuated R-1 R-2 R-L':>20s}  {'stripped':>14s}"
        f"  {'punctuated':>20s}  {'stripped':>14s}  articles/s"
    )
    names = list(dict.fromkeys(name for name, _, _ in scores))
    for name in names:
        cells = [_mean3(scores[name, kind, mode]) for kind in ("3", "ref") for mode in MODES]
        rate = f"{calls[name] / seconds[name]:8.0f}" if seconds[name] else "       -"
        label = {"lead": "Lead-k", "textrank": "textrank (baseline)"}.get(name, name)
        if name == DEFAULT_SUMMARIZER:
            label += " *"
        print(f"{label:20s} " + "  ".join(cells) + f"  {rate}")
    if DEFAULT_SUMMARIZER in names and "textrank" in names:

        def rl(name: str, mode: str) -> float:
            return statistics.fmean(row[2] for row in scores[name, "3", mode])

        print(f"\n* default ({DEFAULT_SUMMARIZER}) at {k} sentences, R-L:")
        for mode in MODES:
            ratio = rl(DEFAULT_SUMMARIZER, mode) / rl("textrank", mode)
            print(f"  {mode:10s} {ratio:.4f}x TextRank's (goal >= 1.05)")
        kept = rl(DEFAULT_SUMMARIZER, "stripped") / rl(DEFAULT_SUMMARIZER, "punctuated")
        print(f"  stripped / punctuated {kept:.4f} (goal >= 0.95)")


class GoldSegmenter(Segmenter):
    """A segmenter that restores a known stripped text at its gold sentence ends (oracle)."""

    def __init__(self, seg: Segmenter) -> None:
        super().__init__(seg.params, seg.model)
        self.gold: dict[str, list[int]] = {}

    def _restore(self, text: str) -> tuple[list[str], frozenset[int]]:
        ends = self.gold.get(text)
        if ends is None:  # not a benchmark text (a byline was cut): restore as usual
            return super()._restore(text)
        words = text.split()
        starts = [0, *(e + 1 for e in ends)]
        stops = [*(e + 1 for e in ends), len(words)]
        # Every gold start is sure: none is doubted.
        return [_finish(words[a:b]) for a, b in zip(starts, stops, strict=True)], frozenset()


def split(
    arts: list[_corpus.Article], train_limit: int, swap: bool = False
) -> tuple[list[_corpus.Article], list[_corpus.Article]]:
    """The segmenter's training articles and the scored ones, from opposite hash halves.

    The training articles are drawn evenly from all of their half, as the indexer draws
    its collection model's sample from all of its input; swap exchanges the halves.
    """
    train = [a for a in arts if _corpus.is_train(a) != swap]
    test = [a for a in arts if _corpus.is_train(a) == swap]
    return spread_sample(train, train_limit), test


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a report."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", nargs="?", type=pathlib.Path, default=_corpus.DEFAULT_ROOT)
    ap.add_argument("--limit", type=int, default=None, help="score at most N articles")
    ap.add_argument(
        "--train-limit",
        type=int,
        default=TRAINING_ARTICLES,
        help="segmenter training articles (the indexer's sample size by default)",
    )
    ap.add_argument(
        "--swap-halves", action="store_true", help="train on the scored half, score the other"
    )
    ap.add_argument(
        "--oracle-boundaries",
        action="store_true",
        help="summarise stripped text split at its gold sentence ends instead of restored ones",
    )
    ap.add_argument("--summarizers", default=",".join(SUMMARIZERS))
    ap.add_argument("--sentences", type=int, default=DEFAULT_SENTENCES)
    ap.add_argument(
        "--references",
        type=pathlib.Path,
        default=None,
        help="folder of reference summaries, same relative paths as the corpus",
    )
    args = ap.parse_args(argv)

    arts = _corpus.load(args.root)
    if not arts:
        print(f"no articles under {args.root}", file=sys.stderr)
        return 1
    train, test = split(arts, args.train_limit, args.swap_halves)
    if args.references:
        test = [a for a in test if (args.references / a.rel).is_file()]
    if args.limit:
        test = test[:: max(1, len(test) // args.limit)][: args.limit]
    t0 = time.perf_counter()
    seg = train_segmenter([a.text for a in train])
    print(
        f"trained on {len(train)} articles in {time.perf_counter() - t0:.1f}s; "
        f"scoring {len(test)} held-out articles"
    )

    gold_seg = GoldSegmenter(seg) if args.oracle_boundaries else None
    heuristic = BoundaryModel(max_words=60)
    gold_all: set[int] = set()
    pred_all: set[int] = set()
    heur_all: set[int] = set()
    offset = 0
    names = [n for n in args.summarizers.split(",") if n]
    if args.references and "textrank" not in names:
        names.append("textrank")  # the printed baseline
    agree: dict[str, list] = {n: [] for n in [*names, "lead3"]}
    # (summariser, "3" | "ref", "punctuated" | "stripped") -> ROUGE rows
    ref_scores: dict[tuple[str, str, str], list] = {}
    seconds: Counter = Counter()
    calls: Counter = Counter()
    asked: Counter = Counter()  # sentences asked and given at the reference count
    for art in test:
        gold_sents = seg.punkt_sentences(art.text)
        words, ends = sentence_words(gold_sents)
        if len(words) < 2:
            continue
        gold_all |= {offset + i for i in ends}
        pred_all |= {offset + i for i in seg.model.boundaries(words)}
        heur_all |= {offset + i for i in heuristic.boundaries(words)}
        offset += len(words)
        stripped = " ".join(words)  # no punctuation and no paragraph breaks to lean on
        if gold_seg is not None:
            gold_seg.gold = {stripped: ends}
        ref = _corpus.reference(args.references, art) if args.references else None
        counts = {"3": args.sentences}
        if ref is not None:
            counts["ref"] = len(seg.punkt_sentences(ref))
        texts = {"punctuated": art.text, "stripped": stripped}
        for name in names:
            got = {}
            for kind, k in counts.items():
                for mode, text in texts.items():
                    t0 = time.process_time()  # CPU time: articles/s per core on a busy machine
                    made = summarize(
                        text,
                        summarizer=name,
                        segmenter=gold_seg or seg,
                        sentences=k,
                        title=art.title,
                    )
                    seconds[name] += time.process_time() - t0
                    got[kind, mode] = made.summary
                    if kind == "ref" and name == DEFAULT_SUMMARIZER:
                        asked["asked"] += k
                        asked["given"] += len(made.sentences)
                        asked["summaries"] += 1
                    calls[name] += 1
                    if ref is not None:
                        ref_scores.setdefault((name, kind, mode), []).append(
                            rouge(got[kind, mode], ref)
                        )
            agree[name].append(rouge(got["3", "stripped"], got["3", "punctuated"]))
        lead = {mode: (gold_seg or seg).segment(text).sentences for mode, text in texts.items()}
        for kind, k in counts.items():
            for mode, sents in lead.items():
                got["lead", kind, mode] = " ".join(sents[: summary_length(len(sents), k)])
                if ref is not None:
                    ref_scores.setdefault(("lead", kind, mode), []).append(
                        rouge(got["lead", kind, mode], ref)
                    )
        agree["lead3"].append(rouge(got["lead", "3", "stripped"], got["lead", "3", "punctuated"]))

    p, r, f = boundary_prf(gold_all, pred_all)
    hp, hr, hf = boundary_prf(gold_all, heur_all)
    print("\nboundary restoration on stripped, flattened articles (gold: Punkt on the original)")
    print(f"  learned model     P={p:.3f} R={r:.3f} F1={f:.3f}")
    print(f"  capital heuristic P={hp:.3f} R={hr:.3f} F1={hf:.3f}")
    print("\nROUGE F1 of summary(stripped) against summary(original): R-1  R-2  R-L")
    for name, rows in agree.items():
        print(f"  {name:10s} {_mean3(rows)}")
    if ref_scores:
        _print_reference_table(ref_scores, seconds, calls, args.sentences)
    if asked["summaries"]:
        n = asked["summaries"]
        print(
            f"  at the reference count: {asked['asked'] / n:.2f} sentences asked, "
            f"{asked['given'] / n:.2f} given on average"
        )

    long_text, i = "", 0
    while len(long_text.split()) < 5_000 and i < len(test):
        long_text += "\n\n" + test[i].text
        i += 1
    long_text = " ".join(long_text.split()[:5_000])
    summarize(long_text, segmenter=seg)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        summarize(long_text, segmenter=seg)
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    summarize(" ".join(words_of(long_text)), segmenter=seg)
    t_stripped = time.perf_counter() - t0
    print(
        f"\n5,000-word article, {DEFAULT_SUMMARIZER}: {min(times):.3f}s punctuated, "
        f"{t_stripped:.3f}s stripped"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
