"""Compare this archive with Tantivy and SQLite FTS5, and with a plain summarise-and-index loop.

For each corpus size, every engine indexes the same articles in a fresh subprocess (so peak
RSS is its own), then the same seeded queries run against each index. The archive's index
time includes cleaning and summarising every article; Tantivy's and FTS5's do not.

The indexing comparison runs the archive (2 workers) and the plain loop a user would write in
an afternoon (one process: read each file, split sentences with a regex, sumy Luhn or LexRank,
one Whoosh writer with a plain schema, one commit) interleaved, A B A B A B, and gives the wall
time and CPU-seconds of each whole process tree (start-up and imports included) per article.

Usage: python bench/compare_engines.py [--quick] [--sizes bbc,20000] [--queries 500]
       [--engines archive,tantivy,fts5] [--skip-plain] [--indexing-only] [--rounds 3]
       [--archive-luhn] [--corpus DIR] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive.choices import DEFAULT_SUMMARIZER
from archive.model import Article
from archive.readers import read_paths

REPO = Path(__file__).resolve().parent.parent
ENGINES = ("archive", "tantivy", "fts5")
ARCHIVE_WORKERS = 2
TANTIVY_HEAP = 128_000_000
TOP = 10
SUMMARY_SENTENCES = 3
# Goals from the issue.
GOAL_SPEEDUP = 3.0  # wall time per article, archive on 2 workers against the plain loop
GOAL_CPU_SHARE = 0.6  # CPU-seconds per article, archive against the plain loop
PLAIN_VARIANTS = ("plain-luhn", "plain-lexrank")
#: The archive with the plain Luhn loop's summariser: what the rest of its pipeline costs.
ARCHIVE_LUHN = "archive-luhn"
GOAL_RERUN = 20.0
GOAL_RSS_MB = 400.0

Query = list[str]
QueryFn = Callable[[Query], list[Any]]


@dataclass
class IndexRun:
    """What indexing one corpus with one engine cost."""

    engine: str
    articles: int
    seconds: float
    size_mb: float
    rss_mb: float
    children_rss_mb: float
    extra: dict[str, float] = field(default_factory=dict)
    #: Wall time and CPU-seconds of the whole process tree, start-up included.
    tree_seconds: float = 0.0
    cpu_seconds: float = 0.0

    @property
    def rate(self) -> float:
        """Articles indexed per second."""
        return self.articles / self.seconds if self.seconds else 0.0


@dataclass
class Latency:
    """Per-query times of one engine (or archive variant) over the query set."""

    name: str
    times: list[float]
    empty: int

    @property
    def median_ms(self) -> float:
        """Median query time in milliseconds."""
        return statistics.median(self.times) * 1000

    @property
    def p95_ms(self) -> float:
        """95th percentile query time in milliseconds."""
        return statistics.quantiles(self.times, n=100)[94] * 1000


# --- worker side: runs in a fresh subprocess per engine ---------------------------------


def articles(source: Path) -> Iterator[Article]:
    """Articles the archive's readers find under ``source``, problems skipped."""
    for item in read_paths([source]):
        if isinstance(item, Article):
            yield item


def figures(articles: int, seconds: float, extra: dict[str, float] | None = None) -> dict[str, Any]:
    """What an indexing run cost, with the peak RSS (MB) of this process and its largest child."""
    return {
        "articles": articles,
        "seconds": seconds,
        "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "children_rss": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "extra": extra or {},
    }


def index_archive(
    source: Path, index_dir: Path, rerun: bool, summarizer: str = DEFAULT_SUMMARIZER
) -> dict[str, Any]:
    """Index with the archive's own pipeline (clean + summarise in workers, one writer)."""
    from app.indexer import Settings, index_paths

    started = time.perf_counter()
    settings = Settings(workers=ARCHIVE_WORKERS, summarizer=summarizer)
    report = index_paths([source], index_dir, settings)
    # Measured before the re-run so the figures are the first run's alone.
    result = figures(report.indexed + report.updated, time.perf_counter() - started)
    if rerun:
        started = time.perf_counter()
        again = index_paths([source], index_dir, settings)
        result["extra"]["rerun_seconds"] = time.perf_counter() - started
        result["extra"]["rerun_unchanged"] = again.unchanged
    reap_fork_server()
    return result


def reap_fork_server() -> None:
    """End the fork server now, so its workers' CPU time reaches this process's parent.

    The workers are the fork server's children, and an exiting interpreter does not wait for
    the fork server: without this the driver's RUSAGE_CHILDREN would miss every worker.
    """
    from multiprocessing import forkserver

    forkserver._forkserver._stop()  # type: ignore[attr-defined]


def index_tantivy(source: Path, index_dir: Path) -> dict[str, Any]:
    """Index title and body with Tantivy's English stemmer, one commit."""
    import tantivy

    started = time.perf_counter()
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("title", stored=True, tokenizer_name="en_stem")
    builder.add_text_field("body", stored=True, tokenizer_name="en_stem")
    index_dir.mkdir(parents=True, exist_ok=True)
    index = tantivy.Index(builder.build(), path=str(index_dir))
    writer = index.writer(heap_size=TANTIVY_HEAP)
    count = 0
    for article in articles(source):
        writer.add_document(tantivy.Document(id=article.id, title=article.title, body=article.text))
        count += 1
    writer.commit()
    writer.wait_merging_threads()
    return figures(count, time.perf_counter() - started)


def index_fts5(source: Path, index_dir: Path) -> dict[str, Any]:
    """Index title and body in an FTS5 table with the porter stemmer, one transaction."""
    started = time.perf_counter()
    index_dir.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(index_dir / "fts5.db")
    con.execute(
        "CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, body, tokenize='porter')"
    )
    # Weigh titles twice as much as bodies, like the archive's field boost.
    con.execute("INSERT INTO docs(docs, rank) VALUES ('rank', 'bm25(0.0, 2.0, 1.0)')")
    with con:
        cursor = con.executemany(
            "INSERT INTO docs VALUES (?, ?, ?)",
            ((a.id, a.title, a.text) for a in articles(source)),
        )
    count = cursor.rowcount
    con.close()
    return figures(count, time.perf_counter() - started)


class RegexWords:
    """The word tokenizer sumy needs, as a regex (sumy's own needs downloaded NLTK data)."""

    language = "english"

    @staticmethod
    def to_words(sentence: str) -> tuple[str, ...]:
        """Word tokens of a sentence."""
        return tuple(re.findall(r"[^\W_]+(?:['’][^\W_]+)*", sentence))


def plain_files(source: Path) -> Iterator[tuple[str, str, str]]:
    """(id, title, body) of each .txt file under ``source``: first line title, rest body."""
    for path in sorted(source.rglob("*.txt")):
        title, _, body = path.read_text(encoding="utf-8", errors="replace").strip().partition("\n")
        yield str(path.relative_to(source)), title.strip(), body.strip()


def index_plain(source: Path, index_dir: Path, variant: str) -> dict[str, Any]:
    """The plain loop: read a file, regex sentences, sumy Luhn or LexRank, one Whoosh commit."""
    from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
    from sumy.nlp.stemmers import Stemmer
    from sumy.summarizers.lex_rank import LexRankSummarizer
    from sumy.summarizers.luhn import LuhnSummarizer
    from sumy.utils import get_stop_words
    from whoosh.analysis import StemmingAnalyzer
    from whoosh.fields import ID, STORED, TEXT, Schema
    from whoosh.index import create_in

    started = time.perf_counter()
    method = LuhnSummarizer if variant == "plain-luhn" else LexRankSummarizer
    summarizer = method(Stemmer("english"))
    summarizer.stop_words = get_stop_words("english")
    words = RegexWords()
    # What the archive's schema does for search and snippets; its facet and hash columns left out.
    schema = Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(analyzer=StemmingAnalyzer(), stored=True),
        text=TEXT(analyzer=StemmingAnalyzer(), stored=True, chars=True),
        summary=STORED(),
    )
    index_dir.mkdir(parents=True, exist_ok=True)
    writer = create_in(str(index_dir), schema).writer()
    count = 0
    summary_seconds = 0.0
    for doc_id, title, body in plain_files(source):
        summarising = time.perf_counter()
        split = re.split(r"(?<=[.!?])\s+|\n\s*\n", body)
        sentences = [Sentence(s, words) for s in split if s.strip()]
        picked = summarizer(ObjectDocumentModel([Paragraph(sentences)]), SUMMARY_SENTENCES)
        summary = " ".join(str(s) for s in picked)
        summary_seconds += time.perf_counter() - summarising
        writer.add_document(id=doc_id, title=title, text=body, summary=summary)
        count += 1
    writer.commit()
    return figures(count, time.perf_counter() - started, {"summary_seconds": summary_seconds})


def run_worker(engine: str, source: Path, index_dir: Path, rerun: bool) -> None:
    """Index with one engine and print the result as one JSON line."""
    if engine == "archive":
        result = index_archive(source, index_dir, rerun)
    elif engine == ARCHIVE_LUHN:
        result = index_archive(source, index_dir, rerun, summarizer="luhn")
    elif engine == "tantivy":
        result = index_tantivy(source, index_dir)
    elif engine == "fts5":
        result = index_fts5(source, index_dir)
    else:
        result = index_plain(source, index_dir, engine)
    print(json.dumps(result))


# --- driver side ------------------------------------------------------------------------


def dir_size_mb(path: Path) -> float:
    """Megabytes the files under ``path`` take."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def index_in_subprocess(engine: str, source: Path, index_dir: Path, rerun: bool) -> IndexRun:
    """Run one engine's indexing in a fresh interpreter so its peak RSS is its own."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", engine]
    command += ["--source", str(source), "--index-dir", str(index_dir)]
    if rerun:
        command.append("--rerun")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True, cwd=REPO)
    tree_seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return IndexRun(
        engine=engine,
        articles=data["articles"],
        seconds=data["seconds"],
        size_mb=dir_size_mb(index_dir),
        rss_mb=data["rss"],
        children_rss_mb=data["children_rss"],
        extra=data.get("extra", {}),
        tree_seconds=tree_seconds,
        cpu_seconds=cpu,
    )


def write_repeated(corpus: Path, target: Path, count: int) -> Path:
    """Write ``count`` articles as JSON Lines, repeating the corpus with ids r{k}-{id}."""
    base = list(articles(corpus))
    with target.open("w", encoding="utf-8") as out:
        for n in range(count):
            article = base[n % len(base)]
            record = {
                "id": f"r{n // len(base)}-{article.id}",
                "title": article.title,
                "text": article.text,
            }
            out.write(json.dumps(record) + "\n")
    return target


def stop_words() -> frozenset[str]:
    """Words no query uses: dropped by the archive's analyser or by sumy's English list."""
    from sumy.utils import get_stop_words
    from whoosh.analysis import STOP_WORDS

    return frozenset(STOP_WORDS) | frozenset(get_stop_words("english"))


def make_queries(titles: list[str], count: int, seed: int) -> list[Query]:
    """Seeded queries of 1-3 distinct title words, all of which must match."""
    rng = random.Random(seed)
    stops = stop_words()
    candidates = []
    for title in titles:
        words = list(dict.fromkeys(re.findall(r"[a-z0-9]+", title.lower())))
        words = [w for w in words if len(w) >= 3 and w not in stops]
        if words:
            candidates.append(words)
    queries = []
    for _ in range(count):
        words = rng.choice(candidates)
        queries.append(rng.sample(words, min(len(words), rng.randint(1, 3))))
    return queries


@contextmanager
def archive_queries(index_dir: Path) -> Iterator[dict[str, QueryFn]]:
    """The archive's three query variants over one searcher kept open for the whole run."""
    from index.searcher import ArchiveSearcher

    searcher = ArchiveSearcher.open(index_dir)

    def variant(snippets: bool, facets: bool) -> QueryFn:
        def run(words: Query) -> list[Any]:
            found = searcher.search(" ".join(words), pagelen=TOP, snippets=snippets, facets=facets)
            return [(hit.title, hit.snippet) for hit in found.hits]

        return run

    try:
        yield {
            "archive plain": variant(snippets=False, facets=False),
            "archive +snippets": variant(snippets=True, facets=False),
            "archive web (snip+facets)": variant(snippets=True, facets=True),
        }
    finally:
        searcher.close()


@contextmanager
def tantivy_queries(index_dir: Path) -> Iterator[dict[str, QueryFn]]:
    """Conjunctive Tantivy queries over title (boosted like the archive's) and body."""
    import tantivy

    index = tantivy.Index.open(str(index_dir))
    searcher = index.searcher()

    def run(words: Query) -> list[Any]:
        query = index.parse_query(
            " ".join(words),
            ["title", "body"],
            field_boosts={"title": 2.0},
            conjunction_by_default=True,
        )
        hits = searcher.search(query, TOP).hits
        return [searcher.doc(address).get_first("title") for _score, address in hits]

    yield {"tantivy": run}


@contextmanager
def fts5_queries(index_dir: Path) -> Iterator[dict[str, QueryFn]]:
    """FTS5 queries with every word required, ranked by bm25."""
    con = sqlite3.connect(index_dir / "fts5.db")

    def run(words: Query) -> list[Any]:
        match = " AND ".join(f'"{w}"' for w in words)
        sql = "SELECT title FROM docs WHERE docs MATCH ? ORDER BY rank LIMIT ?"
        return [row[0] for row in con.execute(sql, (match, TOP))]

    try:
        yield {"fts5": run}
    finally:
        con.close()


QUERY_RUNNERS = {"archive": archive_queries, "tantivy": tantivy_queries, "fts5": fts5_queries}


def time_queries(name: str, run: QueryFn, queries: list[Query]) -> tuple[Latency, list[Any]]:
    """Time each query after a warm-up pass over the whole set."""
    for words in queries:
        run(words)
    times = []
    results = []
    for words in queries:
        started = time.perf_counter()
        results.append(run(words))
        times.append(time.perf_counter() - started)
    return Latency(name, times, sum(1 for hits in results if not hits)), results


def ratio(value: float, base: float) -> str:
    """``value / base`` as a short multiplier."""
    return f"{value / base:.3g}x" if base else "n/a"


def print_index_table(runs: list[IndexRun]) -> None:
    """Index time, rate, size and peak RSS per engine, with ratios to the archive."""
    print(
        f"  {'engine':<10}{'articles':>9}{'index s':>10}{'art/s':>9}{'size MB':>9}"
        f"{'RSS MB':>9}{'workers MB':>12}"
    )
    for run in runs:
        print(
            f"  {run.engine:<10}{run.articles:>9}{run.seconds:>10.2f}{run.rate:>9.0f}"
            f"{run.size_mb:>9.1f}{run.rss_mb:>9.0f}{run.children_rss_mb:>12.0f}"
        )
    base = next((r for r in runs if r.engine == "archive"), None)
    if base is None:
        return
    for run in runs:
        if run is not base:
            print(
                f"  {run.engine} / archive: index time {ratio(run.seconds, base.seconds)}, "
                f"size {ratio(run.size_mb, base.size_mb)}, RSS {ratio(run.rss_mb, base.rss_mb)}"
            )


def print_latency_table(latencies: list[Latency], count: int) -> None:
    """Median and p95 per engine, with ratios to the archive's plain and snippet variants."""
    print(f"  queries: {count}, top {TOP}, all words required, timed after a warm-up pass")
    print(f"  {'engine':<27}{'median ms':>10}{'p95 ms':>9}{'no hit':>8}  p95 vs archive")
    by_name = {lat.name: lat for lat in latencies}
    plain = by_name.get("archive plain")
    snippets = by_name.get("archive +snippets")
    for lat in latencies:
        versus = ""
        if plain and snippets and not lat.name.startswith("archive"):
            versus = (
                f"{ratio(lat.p95_ms, plain.p95_ms)} of plain, "
                f"{ratio(lat.p95_ms, snippets.p95_ms)} of +snippets"
            )
        print(f"  {lat.name:<27}{lat.median_ms:>10.2f}{lat.p95_ms:>9.2f}{lat.empty:>8}  {versus}")


def measure_size(
    label: str, source: Path, engines: list[str], queries: list[Query], workdir: Path, rerun: bool
) -> tuple[list[IndexRun], list[Latency]]:
    """Index one corpus with every engine, then time the same queries against each."""
    runs = []
    for engine in engines:
        runs.append(index_in_subprocess(engine, source, workdir / label / engine, rerun))
    print_index_table(runs)
    latencies: list[Latency] = []
    examples: list[tuple[str, list[Any]]] = []
    for engine in engines:
        with QUERY_RUNNERS[engine](workdir / label / engine) as variants:
            for name, run in variants.items():
                latency, results = time_queries(name, run, queries)
                latencies.append(latency)
                examples.append((name, results[0]))
    print_latency_table(latencies, len(queries))
    print(f"  example {' '.join(queries[0])!r}, first hit per engine:")
    for name, hits in examples:
        print(f"    {name:<27}{str(hits[0]) if hits else '(no hit)'}"[:160])
    return runs, latencies


def goal_line(goal: str, figure: str, passed: bool | None) -> None:
    """One line of the Goals block."""
    verdict = "n/a" if passed is None else ("PASS" if passed else "MISS")
    print(f"  [{verdict:<4}] {goal}: {figure}")


def main() -> None:
    """Run the comparison and print the figures and the goals."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared/corpora/bbc")
    parser.add_argument("--sizes", default="bbc,20000", help="'bbc' and/or article counts")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--skip-plain", action="store_true", help="no indexing comparison")
    parser.add_argument("--indexing-only", action="store_true", help="only the indexing comparison")
    parser.add_argument("--rounds", type=int, default=3, help="of the indexing comparison")
    parser.add_argument(
        "--archive-luhn",
        action="store_true",
        help="also run the archive with sumy Luhn, the plain Luhn loop's summariser",
    )
    parser.add_argument("--workdir", type=Path, help="kept afterwards; default a temp dir")
    parser.add_argument("--quick", action="store_true", help="BBC only, 100 queries")
    parser.add_argument(
        "--worker", choices=(*ENGINES, *PLAIN_VARIANTS, ARCHIVE_LUHN), help=argparse.SUPPRESS
    )
    parser.add_argument("--source", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--index-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--rerun", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run_worker(args.worker, args.source, args.index_dir, args.rerun)
        return
    if args.quick:
        args.sizes, args.queries = "bbc", 100
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = set(engines) - set(ENGINES)
    if unknown:
        parser.error(f"unknown engine(s): {', '.join(sorted(unknown))}")
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="compare-engines-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        run_all(args, engines, sizes, workdir)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


def run_all(args: argparse.Namespace, engines: list[str], sizes: list[str], workdir: Path) -> None:
    """Measure every size, the indexing comparison, and print the goals."""
    began = time.perf_counter()
    titles = [a.title for a in articles(args.corpus)]
    queries = make_queries(titles, args.queries, args.seed)
    if args.indexing_only:
        sizes = []
    print(f"corpus: {args.corpus} ({len(titles)} articles); engines: {', '.join(engines)}")
    print(
        f"The archive's index time includes cleaning and summarising every article "
        f"(its default summariser, {ARCHIVE_WORKERS} worker processes) and learning the "
        "collection's sentence model; Tantivy and FTS5 only tokenise and index."
    )
    print("RSS MB = peak of the indexing process; workers MB = peak of its largest child.")
    # The largest size carries the re-run and memory goals.
    largest = max(sizes, key=lambda s: len(titles) if s == "bbc" else int(s), default="")
    results: dict[str, tuple[list[IndexRun], list[Latency]]] = {}
    for size in sizes:
        if size == "bbc":
            source = args.corpus
        else:
            source = write_repeated(args.corpus, workdir / f"corpus-{size}.jsonl", int(size))
        print(f"\n== {size} ({source.name}) ==")
        results[size] = measure_size(size, source, engines, queries, workdir, rerun=size == largest)
    indexing = (
        []
        if args.skip_plain
        else compare_indexing(args.corpus, workdir, args.rounds, args.archive_luhn)
    )
    print_goals(results, indexing, largest)
    print(f"\ntotal wall time {time.perf_counter() - began:.0f} s")


Goal = tuple[str, str, bool | None]


def compare_indexing(
    corpus: Path, workdir: Path, rounds: int, archive_luhn: bool = False
) -> list[Goal]:
    """Index with the archive and the plain loop interleaved; print per-article cost and goals."""
    names = ("archive", *((ARCHIVE_LUHN,) if archive_luhn else ()), *PLAIN_VARIANTS)
    print(
        f"\n== indexing with summaries, side by side: {rounds} rounds of "
        f"{', '.join(names)} ==\n"
        f"  archive: {ARCHIVE_WORKERS} workers, its default summariser, learning the "
        "collection's sentence model; plain: one process, regex sentences, sumy "
        f"({SUMMARY_SENTENCES} sentences), one Whoosh writer, one commit.\n"
        "  Wall and CPU of the whole process tree (start-up and imports included), per article."
    )
    runs: dict[str, list[IndexRun]] = {name: [] for name in names}
    for round_no in range(1, rounds + 1):
        for name in names:
            index_dir = workdir / "indexing" / f"{name}-{round_no}"
            run = index_in_subprocess(name, corpus, index_dir, rerun=False)
            shutil.rmtree(index_dir, ignore_errors=True)
            runs[name].append(run)
            print(
                f"  round {round_no} {name:<14}{run.articles:>6} articles  wall "
                f"{run.tree_seconds:6.1f} s  CPU {run.cpu_seconds:6.1f} s  "
                f"({run.cpu_seconds / run.tree_seconds:.2f} cores)"
            )

    def per_article(name: str, figure: str) -> float:
        return statistics.median(getattr(r, figure) / r.articles for r in runs[name]) * 1000

    print(f"  {'median of rounds':<16}{'wall ms/article':>16}{'CPU ms/article':>16}")
    for name in names:
        wall, cpu = per_article(name, "tree_seconds"), per_article(name, "cpu_seconds")
        print(f"  {name:<16}{wall:>16.2f}{cpu:>16.2f}")
    goals: list[Goal] = []
    ours_wall, ours_cpu = (
        per_article("archive", "tree_seconds"),
        per_article("archive", "cpu_seconds"),
    )
    for name in PLAIN_VARIANTS:
        wall, cpu = per_article(name, "tree_seconds"), per_article(name, "cpu_seconds")
        speedup, share = wall / ours_wall, ours_cpu / cpu
        goals.append(
            (
                f"indexing wall time, {ARCHIVE_WORKERS} workers >= {GOAL_SPEEDUP:g}x faster "
                f"than {name}",
                f"{ours_wall:.2f} vs {wall:.2f} ms/article = {speedup:.2f}x faster",
                speedup >= GOAL_SPEEDUP,
            )
        )
        goals.append(
            (
                f"indexing CPU-seconds <= {GOAL_CPU_SHARE:g}x {name}'s",
                f"{ours_cpu:.2f} vs {cpu:.2f} ms/article = {share:.2f}x",
                share <= GOAL_CPU_SHARE,
            )
        )
    return goals


def find_run(runs: list[IndexRun], engine: str) -> IndexRun | None:
    """The run of ``engine`` in ``runs``, if it was measured."""
    return next((r for r in runs if r.engine == engine), None)


def print_goals(
    results: dict[str, tuple[list[IndexRun], list[Latency]]],
    indexing: list[Goal],
    largest: str,
) -> None:
    """Print each goal with its measured figure and PASS/MISS."""
    if not results:  # --indexing-only
        print("\n== Goals ==")
        for goal in indexing:
            goal_line(*goal)
        return
    print("\n== archive: memory and re-run ==")
    for size, (runs, _) in results.items():
        run = find_run(runs, "archive")
        if run:
            print(
                f"  {size}: {run.articles} articles, writer process {run.rss_mb:.0f} MB, "
                f"largest worker {run.children_rss_mb:.0f} MB"
            )
    big_runs, big_lat = results[largest]
    archive = find_run(big_runs, "archive")
    rerun = archive.extra.get("rerun_seconds") if archive else None
    if archive and rerun:
        print(
            f"  {largest}: first run {archive.seconds:.1f} s, unchanged re-run {rerun:.2f} s "
            f"({int(archive.extra['rerun_unchanged'])} unchanged)"
        )
    print("\n== Goals ==")
    for goal in indexing:
        goal_line(*goal)
    if archive and rerun:
        faster = archive.seconds / rerun
        goal_line(
            f"unchanged re-run >= {GOAL_RERUN:g}x faster than the first run ({largest})",
            f"{archive.seconds:.1f} s / {rerun:.2f} s = {faster:.1f}x",
            faster >= GOAL_RERUN,
        )
    else:
        goal_line("unchanged re-run speed-up", "needs the archive engine", None)
    by_name = {lat.name: lat for lat in big_lat}
    snippets, fts5 = by_name.get("archive +snippets"), by_name.get("fts5")
    if snippets and fts5:
        goal_line(
            f"search with snippets p95 <= FTS5 plain p95 ({largest})",
            f"{snippets.p95_ms:.2f} ms vs {fts5.p95_ms:.2f} ms",
            snippets.p95_ms <= fts5.p95_ms,
        )
    else:
        goal_line("search p95 against FTS5", "needs the archive and fts5 engines", None)
    if archive:
        total = archive.rss_mb + ARCHIVE_WORKERS * archive.children_rss_mb
        goal_line(
            f"peak RSS indexing {archive.articles} articles < {GOAL_RSS_MB:g} MB",
            f"writer {archive.rss_mb:.0f} MB, each worker <= {archive.children_rss_mb:.0f} MB, "
            f"all {ARCHIVE_WORKERS + 1} processes <= {total:.0f} MB (shared pages counted twice)",
            total < GOAL_RSS_MB,
        )
    else:
        goal_line("peak RSS while indexing", "needs the archive engine", None)


if __name__ == "__main__":
    main()
