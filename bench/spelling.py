"""Spelling suggestions on the BBC corpus: how often the suggestion is the word meant, and cost.

500 typos (one insertion, deletion, substitution or transposition; seed fixed) of words from
the articles' text, each searched as a one-word query on an index built with ``archive index``,
or on an index already built (``--index-dir``: the 20,000 articles of bench/hostile_queries.py).

Usage: python bench/spelling.py [--bbc ../shared/corpora/bbc] [--limit N] [--typos 500]
       python bench/spelling.py --index-dir bench/out/hostile-index-20000
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import string
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
SEED = 7


def typo(word: str, rng: random.Random) -> str:
    """``word`` with one random edit (never the word itself)."""
    while True:
        i = rng.randrange(len(word))
        kind = rng.choice(("insert", "delete", "substitute", "transpose"))
        letter = rng.choice(string.ascii_lowercase)
        if kind == "insert":
            out = word[:i] + letter + word[i:]
        elif kind == "delete":
            out = word[:i] + word[i + 1 :]
        elif kind == "substitute":
            out = word[:i] + letter + word[i + 1 :]
        else:
            out = word[:i] + word[i + 1 : i + 2] + word[i] + word[i + 2 :]
        if out != word:
            return out


def main() -> None:
    """Print the share of right suggestions and the cost per suggestion."""
    import _corpus
    from relevance import archive_index, write_jsonl
    from whoosh.analysis import STOP_WORDS

    from index.schema import SEARCH_FIELDS
    from index.searcher import ArchiveSearcher
    from index.spelling import suggest, vocabulary

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bbc", type=Path, default=REPO.parent / "shared/corpora/bbc")
    parser.add_argument("--limit", type=int, default=None, help="index only N articles")
    parser.add_argument("--typos", type=int, default=500)
    parser.add_argument("--workdir", type=Path, default=REPO / "bench" / "out" / "spelling")
    parser.add_argument("--index-dir", type=Path, help="an index already built to search")
    args = parser.parse_args()
    articles = _corpus.load(args.bbc, args.limit)
    docs = [{"id": f"bbc-{a.rel}", "title": a.title, "text": a.text} for a in articles]
    name = f"bbc-{args.limit}" if args.limit else "bbc"
    index_dir = args.index_dir or args.workdir / f"{name}-index"
    print(f"== spelling: typos of {len(docs)} BBC articles' words, {args.typos} typos ==")
    if args.index_dir is None:
        source = write_jsonl(docs, args.workdir / f"{name}.jsonl")
        print(f"  archive index: {archive_index(source, index_dir)}")

    rng = random.Random(SEED)
    cases = []
    while len(cases) < args.typos:
        words = re.findall(r"\b[a-z]{4,}\b", rng.choice(docs)["text"].lower())
        words = [w for w in words if w not in STOP_WORDS]
        if words:
            word = rng.choice(words)
            cases.append((word, typo(word, rng)))
    right = real_words = offered = 0
    times, cpu = [], []
    with ArchiveSearcher.open(index_dir) as opened:
        searcher = opened.searcher
        started, cpu_started = time.perf_counter(), time.process_time()
        vocabulary(searcher.reader(), "text")
        print(
            f"  {opened.doc_count} articles; text vocabulary read once per process: "
            f"{time.perf_counter() - started:.2f} s ({time.process_time() - cpu_started:.2f} "
            "CPU-s)"
        )
        for word, wrong in cases:
            query = opened.parse(wrong)[0]
            started, cpu_started = time.perf_counter(), time.process_time()
            fixed = suggest(searcher, query, wrong, SEARCH_FIELDS)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
            real_words += any(searcher.doc_frequency(f, t.text) for f, t in _terms(query))
            offered += fixed is not None
            right += fixed == word
        # The whole path as the search page runs it, for the cost of a typo query.
        started = time.perf_counter()
        right_in_search = sum(opened.search(w, facets=False).corrected == o for o, w in cases)
        search_ms = (time.perf_counter() - started) * 1000 / len(cases)
    times.sort()
    cpu.sort()
    n = len(cases)
    print(f"  suggestion is the word meant: {right / n:.3f} ({right}/{n}); offered {offered}")
    print(f"  typos that are themselves indexed words (never corrected): {real_words}")
    print(
        f"  cost per suggestion: median {statistics.median(times):.1f} ms, "
        f"p95 {times[int(n * 0.95) - 1]:.1f} ms; CPU median {statistics.median(cpu):.1f} ms, "
        f"p95 {cpu[int(n * 0.95) - 1]:.1f} ms"
    )
    print(f"  load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(
        f"  through search() (also checks the correction finds more): right "
        f"{right_in_search / n:.3f}, {search_ms:.1f} ms per query"
    )


def _terms(query):  # type: ignore[no-untyped-def]
    return [(t.fieldname, t) for t in query.leaves() if hasattr(t, "text")]


if __name__ == "__main__":
    main()
