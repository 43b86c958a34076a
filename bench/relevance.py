"""Ranking quality: Cranfield judgments and a BBC known-item test, next to SQLite FTS5.

Both collections are written as JSON Lines and indexed with the real ``archive index``; every
query runs through ``ArchiveSearcher.search`` with its default settings (the path a user's
query takes), and the same records go into an FTS5 table (porter stemmer, bm25 with the title
weighed twice, like the archive's field boost) queried in the same run.

Usage: python bench/relevance.py [--collection ../shared/relevance/cranfield]
       [--bbc ../shared/corpora/bbc] [--known-items 300] [--bbc-limit N] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
DEPTH = 1000  # ranks scored for MAP, like trec_eval
SEED = 11

Ranker = Callable[[str], list[str]]


@dataclass
class Collection:
    """Documents, queries in file order, and graded judgments keyed by query position."""

    docs: list[dict[str, str]]
    queries: list[str]
    qrels: dict[int, dict[str, int]]  # query number (1-based) -> doc id -> gain


def read_cranfield(root: Path) -> Collection:
    """Parse cran.all.1400, cran.qry and cranqrel (queries numbered by position, 1..225)."""
    docs = [
        {"id": f"cran-{fields['I']}", "title": fields.get("T", ""), "author": fields.get("A", "")}
        | {"text": fields.get("W", "")}
        for fields in _sections((root / "cran.all.1400").read_text())
    ]
    queries = [fields.get("W", "") for fields in _sections((root / "cran.qry").read_text())]
    qrels: dict[int, dict[str, int]] = {}
    for line in (root / "cranqrel").read_text().splitlines():
        parts = line.split()
        if len(parts) < 3 or int(parts[2]) < 1:
            continue  # -1: judged not relevant
        # Grade 1 is the most relevant, 4 the least: gains 4..1 for nDCG.
        qrels.setdefault(int(parts[0]), {})[f"cran-{parts[1]}"] = 5 - int(parts[2])
    return Collection(docs, queries, qrels)


def _sections(raw: str) -> Iterable[dict[str, str]]:
    """The ``.I n`` records of a SMART-format file as {field letter: text}."""
    for block in re.split(r"^\.I ", raw, flags=re.M)[1:]:
        number, _, rest = block.partition("\n")
        fields = {"I": number.strip()}
        for part in re.split(r"^\.(?=[A-Z]\s*$)", rest, flags=re.M)[1:]:
            letter, _, body = part.partition("\n")
            fields[letter.strip()] = " ".join(body.split())
        yield fields


def write_jsonl(docs: list[dict[str, str]], path: Path) -> Path:
    """One JSON object per line, as ``archive index`` reads them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for doc in docs:
            out.write(json.dumps(doc) + "\n")
    return path


def archive_index(source: Path, index_dir: Path) -> str:
    """Index with the real CLI of this checkout's venv; returns its summary line."""
    command = [str(Path(sys.executable).with_name("archive")), "--index-dir", str(index_dir)]
    command += ["index", str(source), "--workers", "1"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    if done.returncode != 0:
        sys.exit(f"archive index failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr.strip()


def fts5_index(docs: list[dict[str, str]], path: Path) -> sqlite3.Connection:
    """An FTS5 table of the same records: porter stemmer, title weighed twice."""
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    con.execute(
        "CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, body, tokenize='porter')"
    )
    con.execute("INSERT INTO docs(docs, rank) VALUES ('rank', 'bm25(0.0, 2.0, 1.0)')")
    with con:
        con.executemany(
            "INSERT INTO docs VALUES (?, ?, ?)", ((d["id"], d["title"], d["text"]) for d in docs)
        )
    return con


def fts5_ranker(con: sqlite3.Connection, operator: str) -> Ranker:
    """Rank with bm25; the query's words joined by ``operator`` (OR or AND)."""

    def run(text: str) -> list[str]:
        words = re.findall(r"\w+", text.lower())
        if not words:
            return []
        match = f" {operator} ".join(f'"{w}"' for w in words)
        sql = "SELECT id FROM docs WHERE docs MATCH ? ORDER BY rank LIMIT ?"
        return [row[0] for row in con.execute(sql, (match, DEPTH))]

    return run


def archive_ranker(searcher: object, depth: int = DEPTH) -> Ranker:
    """The user's path: ``search`` with default settings, one page of ``depth`` results.

    Facets and snippets do not change the order; they are left out of the ranking runs and
    timed separately (``page_ms``).
    """

    def run(text: str) -> list[str]:
        found = refusable(searcher, text, pagelen=depth, facets=False, snippets=False)
        return [hit.id for hit in found.hits] if found is not None else []

    return run


def refusable(searcher: object, text: str, **kwargs: object) -> Any:
    """``searcher.search(text, **kwargs)``, or None for a query the limits refuse.

    A refused query (one Cranfield query has "?transvers") finds nothing for its user
    either: it counts as a ranking with no hits, not as a crash of the run.
    """
    from index.errors import QueryTooExpensive

    try:
        return searcher.search(text, **kwargs)  # type: ignore[attr-defined]
    except QueryTooExpensive:
        return None


def page_ms(searcher: object, queries: list[str]) -> tuple[float, float]:
    """Median and p95 ms of a default result page (10 hits, snippets, facets)."""
    times = []
    for text in queries:
        started = time.perf_counter()
        refusable(searcher, text)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


@dataclass
class Scores:
    """Mean metrics over the judged queries."""

    map: float
    ndcg10: float
    p10: float
    r100: float
    zero_hits: int
    ms: float


def evaluate(rank: Ranker, collection: Collection) -> Scores:
    """MAP (depth 1000), nDCG@10 (graded), P@10, R@100, queries with no hit, mean ms."""
    aps, ndcgs, p10s, r100s, zero, elapsed = [], [], [], [], 0, 0.0
    for number, text in enumerate(collection.queries, start=1):
        judged = collection.qrels.get(number)
        if not judged:
            continue
        started = time.perf_counter()
        ranked = rank(text)
        elapsed += time.perf_counter() - started
        zero += not ranked
        hits = [doc in judged for doc in ranked]
        precisions = [sum(hits[: i + 1]) / (i + 1) for i, hit in enumerate(hits) if hit]
        aps.append(sum(precisions) / len(judged))
        dcg = sum(judged.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranked[:10]))
        ideal = sorted(judged.values(), reverse=True)[:10]
        ndcgs.append(dcg / sum(g / math.log2(i + 2) for i, g in enumerate(ideal)))
        p10s.append(sum(hits[:10]) / 10)
        r100s.append(sum(hits[:100]) / len(judged))
    n = len(aps)
    return Scores(
        map=sum(aps) / n,
        ndcg10=sum(ndcgs) / n,
        p10=sum(p10s) / n,
        r100=sum(r100s) / n,
        zero_hits=zero,
        ms=elapsed * 1000 / n,
    )


def print_relevance(rows: dict[str, Scores], baseline: str) -> None:
    """One line per engine, with ratios to the baseline's MAP and nDCG@10."""
    base = rows[baseline]
    print(
        f"  {'engine':<24}{'MAP':>7}{'nDCG@10':>9}{'P@10':>7}{'R@100':>7}{'no hit':>8}{'ms/q':>7}"
    )
    for name, s in rows.items():
        ratio = f"  MAP x{s.map / base.map:.3f}, nDCG@10 x{s.ndcg10 / base.ndcg10:.3f}"
        print(
            f"  {name:<24}{s.map:7.3f}{s.ndcg10:9.3f}{s.p10:7.3f}{s.r100:7.3f}"
            f"{s.zero_hits:8d}{s.ms:7.1f}" + (ratio if name != baseline else "")
        )


def run_cranfield(root: Path, workdir: Path) -> None:
    """Index Cranfield into the archive and FTS5 and print both engines' scores."""
    from index.searcher import ArchiveSearcher

    collection = read_cranfield(root)
    judged = sum(1 for n in range(1, len(collection.queries) + 1) if n in collection.qrels)
    source = write_jsonl(collection.docs, workdir / "cranfield.jsonl")
    print(f"== Cranfield: {len(collection.docs)} documents, {judged} judged queries ==")
    print(f"  archive index: {archive_index(source, workdir / 'cranfield-index')}")
    con = fts5_index(collection.docs, workdir / "cranfield-fts5.db")
    with ArchiveSearcher.open(workdir / "cranfield-index") as searcher:
        rows = {
            "FTS5 (OR, bm25)": evaluate(fts5_ranker(con, "OR"), collection),
            "archive (default search)": evaluate(archive_ranker(searcher), collection),
        }
        median, p95 = page_ms(searcher, collection.queries)
    con.close()
    print_relevance(rows, "FTS5 (OR, bm25)")
    print(
        "  archive default result page (10 hits, snippets, facets): "
        f"median {median:.1f} ms, p95 {p95:.1f} ms"
    )


def known_items(docs: list[dict[str, str]], count: int, seed: int) -> list[tuple[str, str]]:
    """Queries of 3-4 distinctive words (in at most 1% of articles) from random articles."""
    from whoosh.analysis import STOP_WORDS

    words_of = [set(re.findall(r"[a-z]{4,}", d["text"].lower())) - STOP_WORDS for d in docs]
    df: dict[str, int] = {}
    for words in words_of:
        for word in words:
            df[word] = df.get(word, 0) + 1
    rare = max(2, len(docs) // 100)
    rng = random.Random(seed)
    queries = []
    while len(queries) < count:
        i = rng.randrange(len(docs))
        # Words in two or more articles: a word only one article has would make it trivial.
        distinctive = sorted(w for w in words_of[i] if 2 <= df[w] <= rare)
        size = rng.choice((3, 4))
        if len(distinctive) >= size:
            queries.append((" ".join(rng.sample(distinctive, size)), docs[i]["id"]))
    return queries


def score_known(rank: Ranker, queries: list[tuple[str, str]]) -> tuple[float, float, float]:
    """success@1, MRR (over the top 100) and mean ms per query."""
    first, reciprocal, elapsed = 0, 0.0, 0.0
    for text, target in queries:
        started = time.perf_counter()
        ranked = rank(text)[:100]
        elapsed += time.perf_counter() - started
        if target in ranked:
            position = ranked.index(target) + 1
            first += position == 1
            reciprocal += 1 / position
    n = len(queries)
    return first / n, reciprocal / n, elapsed * 1000 / n


def run_bbc(root: Path, workdir: Path, count: int, limit: int | None) -> None:
    """Known-item test: the article a query's words come from should rank first."""
    import _corpus

    from index.searcher import ArchiveSearcher

    articles = _corpus.load(root, limit)
    docs = [{"id": f"bbc-{a.rel}", "title": a.title, "text": a.text} for a in articles]
    source = write_jsonl(docs, workdir / "bbc.jsonl")
    queries = known_items(docs, count, SEED)
    print(f"\n== BBC known items: {len(docs)} articles, {len(queries)} queries of 3-4 words ==")
    print(f"  archive index: {archive_index(source, workdir / 'bbc-index')}")
    con = fts5_index(docs, workdir / "bbc-fts5.db")
    with ArchiveSearcher.open(workdir / "bbc-index") as searcher:
        rows = {
            "FTS5 (AND, bm25)": score_known(fts5_ranker(con, "AND"), queries),
            "FTS5 (OR, bm25)": score_known(fts5_ranker(con, "OR"), queries),
            "archive (default search)": score_known(archive_ranker(searcher, 100), queries),
        }
    con.close()
    print(f"  {'engine':<26}{'success@1':>10}{'MRR':>7}{'ms/q':>7}")
    for name, (s1, mrr, ms) in rows.items():
        print(f"  {name:<26}{s1:10.3f}{mrr:7.3f}{ms:7.1f}")


def main() -> None:
    """Print the tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--collection", type=Path, default=REPO.parent / "shared/relevance/cranfield"
    )
    parser.add_argument("--bbc", type=Path, default=REPO.parent / "shared/corpora/bbc")
    parser.add_argument("--known-items", type=int, default=300)
    parser.add_argument("--bbc-limit", type=int, default=None, help="index only N BBC articles")
    parser.add_argument("--skip-bbc", action="store_true")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/archive-relevance"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    run_cranfield(args.collection, args.workdir)
    if not args.skip_bbc:
        run_bbc(args.bbc, args.workdir, args.known_items, args.bbc_limit)


if __name__ == "__main__":
    main()
