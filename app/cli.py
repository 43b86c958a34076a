"""The ``archive`` command line: a thin layer over the library that reports errors plainly."""

from __future__ import annotations

import codecs
import json
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from html import unescape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from app.progress import Progress

# Only light modules at the top: each command imports what it needs, so that search, show and
# stats do not pay for the readers, sumy, numpy and NLTK (over a second before), and the
# options' choices come from archive.choices rather than the modules that implement them.
from archive.choices import (
    DEFAULT_SENTENCES,
    DEFAULT_SUMMARIZER,
    FORMATS,
    MAX_ARTICLE_BYTES,
    SUMMARIZERS,
)
from archive.errors import ArchiveError
from index.errors import SearchIndexError
from index.settings import EXPORT_TIME_LIMIT, HELP, INDEX_DIR, SORTS, TIME_LIMIT

if TYPE_CHECKING:
    from index.timeline import TimeBucket

#: What ``archive search`` can write; csv, jsonl and json are index.export's formats.
OUTPUT_FORMATS = ("text", "csv", "jsonl", "json")
#: Seconds between progress lines when a run prints lines rather than a bar.
PROGRESS_EVERY = 30.0
# Control characters (ESC starts terminal sequences) and bidi overrides in untrusted text.
_UNPRINTABLE = r"\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069"
_UNPRINTABLE_IN_LINE = re.compile(f"[\n{_UNPRINTABLE}]")
_UNPRINTABLE_IN_TEXT = re.compile(f"[{_UNPRINTABLE}]")


def printable(text: object, lines: bool = False) -> str:
    """Untrusted text with control characters shown as escapes, so it cannot drive the terminal."""
    pattern = _UNPRINTABLE_IN_TEXT if lines else _UNPRINTABLE_IN_LINE
    return pattern.sub(lambda m: m.group().encode("unicode_escape").decode(), str(text))


class Context:
    """What every command shares: where the index lives."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir


def expected_errors(command):
    """Turn the library's expected errors into a message and exit status 1."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (ArchiveError, SearchIndexError) as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--index-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=INDEX_DIR,
    envvar="ARCHIVE_INDEX_DIR",
    show_default=True,
    show_envvar=True,
    help=HELP["index_dir"],
)
@click.pass_context
def cli(ctx: click.Context, index_dir: Path) -> None:
    """A searchable archive of news articles with extractive summaries.

    Example: archive index ./articles && archive search "flood defences"
    """
    ctx.obj = Context(index_dir)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="auto", show_default=True)
@click.option(
    "--workers", type=click.IntRange(min=0), default=0, help="Processes (0: one per core)."
)
@click.option("--rebuild", is_flag=True, help="Start from an empty index.")
@click.option("--strict", is_flag=True, help="Fail (exit 1) when any record is skipped.")
@click.option(
    "--summarizer", type=click.Choice(SUMMARIZERS), default=DEFAULT_SUMMARIZER, show_default=True
)
@click.option(
    "--sentences", type=click.IntRange(min=1, max=20), default=DEFAULT_SENTENCES, show_default=True
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Articles per commit.",
)
@click.option(
    "--wait",
    "lock_wait",
    type=click.FloatRange(min=0),
    default=0.0,
    help="Seconds to wait for another run's lock.",
)
@click.option(
    "--scheduler", metavar="ADDRESS", help="Run the per-article work on this Dask scheduler."
)
@click.option(
    "--max-article-bytes",
    type=click.IntRange(min=1000),
    default=MAX_ARTICLE_BYTES,
    show_default=True,
    help="Text kept per article; the rest is dropped with a warning.",
)
@click.option("--follow-links", is_flag=True, help="Read linked files outside the folders given.")
@click.option(
    "--encoding",
    callback=lambda ctx, param, value: _encoding(value),
    help="Encoding of text that is not UTF-8 (default: cp1252, else latin-1, with a warning).",
)
@click.option("--dayfirst", is_flag=True, help="Read 01/02/2024 as 1 February.")
@click.option(
    "--include",
    metavar="GLOB",
    multiple=True,
    help="Also read files matching GLOB (README*, LICENSE* and dot-files are not read).",
)
@click.option("--exclude", metavar="GLOB", multiple=True, help="Do not read files matching GLOB.")
@click.option(
    "--progress",
    is_flag=True,
    help="Print progress lines even on a terminal (where a bar is the default).",
)
@click.option(
    "--progress-every",
    type=click.FloatRange(min=0),
    default=PROGRESS_EVERY,
    show_default=True,
    metavar="SECONDS",
    help="Seconds between progress lines (printed when the output is not a terminal).",
)
@click.pass_obj
@expected_errors
def index(
    obj: Context,
    paths: tuple[Path, ...],
    fmt: str,
    workers: int,
    rebuild: bool,
    strict: bool,
    summarizer: str,
    sentences: int,
    batch_size: int,
    lock_wait: float,
    scheduler: str | None,
    max_article_bytes: int,
    follow_links: bool,
    encoding: str | None,
    dayfirst: bool,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    progress: bool,
    progress_every: float,
) -> None:
    """Index articles from files and folders (.txt, .csv, .jsonl, optionally .gz).

    Unchanged articles are skipped, changed ones updated, and articles whose file is gone
    from an indexed folder deleted.

    Example: archive index ./articles news.csv.gz --workers 4
    """
    from app.indexer import Settings, count_input, index_paths

    settings = Settings(
        fmt=fmt,
        summarizer=summarizer,
        sentences=sentences,
        workers=workers,
        rebuild=rebuild,
        batch_size=batch_size,
        lock_wait=lock_wait,
        scheduler=scheduler,
        max_article_bytes=max_article_bytes,
        follow_links=follow_links,
        encoding=encoding,
        dayfirst=dayfirst,
        include=include,
        exclude=exclude,
    )
    path_list = list(paths)
    interactive = sys.stderr.isatty() and not progress
    total = count_input(path_list, fmt, settings.read_options())
    with _progress(total, None if interactive else progress_every) as advance:

        def on_problem(problem: Any) -> None:
            click.echo(("\n" if interactive else "") + printable(problem), err=True)

        report = index_paths(
            path_list, obj.index_dir, settings, on_problem=on_problem, on_progress=advance
        )
    if report.stale_lock_pid:
        click.echo(
            f"note: a previous run (pid {report.stale_lock_pid}) was interrupted; "
            "its lock was cleared and the index is at its last commit",
            err=True,
        )
    if report.trained_segmenter:
        click.echo("note: learned sentence boundaries from this collection", err=True)
    click.echo(report.line())
    if strict and report.skipped:
        raise click.ClickException(f"{report.skipped} record(s) skipped (--strict)")


def _encoding(name: str | None) -> str | None:
    """The codec's canonical name, or a usage error for an unknown one."""
    if name is None:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise click.BadParameter(f"unknown encoding {name!r}", param_hint="--encoding") from None


@contextmanager
def _progress(total: int, every: float | None) -> Iterator[Callable[[int], None]]:
    """A bar on a terminal (``every`` None), else a line on stderr every ``every`` seconds."""
    progress = Progress(total)
    if every is None:
        if not total:
            yield progress.advance
            return
        # Click's own ETA extrapolates from the first article, set-up included; ours waits
        # until the rate is measured.
        with click.progressbar(  # type: ignore[var-annotated]  # a length has no item type
            length=total,
            label="Indexing",
            file=sys.stderr,
            show_eta=False,
            show_pos=True,
            item_show_func=lambda _item: progress.speed(),
        ) as bar:

            def advance_bar(n: int) -> None:
                progress.advance(n)
                bar.update(n)

            yield advance_bar
        return
    last = time.monotonic()

    def advance_lines(n: int) -> None:
        nonlocal last
        progress.advance(n)
        now = time.monotonic()
        if now - last >= every:
            last = now
            click.echo(f"indexing: {progress.line()}", err=True)

    yield advance_lines


@cli.command()
@click.argument("query", required=False, default="")
@click.option("--limit", type=click.IntRange(min=1, max=1000), default=10, show_default=True)
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--sort", type=click.Choice(SORTS), default=SORTS[0], help=HELP["sorts"])
@click.option(
    "--format",
    "fmt",
    type=click.Choice(OUTPUT_FORMATS),
    default="text",
    show_default=True,
    help="csv, jsonl and json write hits with plain-text snippets; json alone is one page.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (same as --format json).")
@click.option("--all", "every", is_flag=True, help="Every hit, not one page (streamed).")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to this file instead of the terminal.",
)
@click.option("--source", multiple=True, help="Only this source (repeat for any of several).")
@click.option("--author", multiple=True, help="Only this author (repeatable).")
@click.option("--category", multiple=True, help="Only this category (repeatable).")
@click.option("--year", multiple=True, help="Only this year (repeatable).")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="From this date.")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Up to this date.")
@click.option(
    "--timeline",
    "show_timeline",
    is_flag=True,
    help="After the hits, chart how many fall in each day, month or year (same output as the "
    "hits); with --format json, the buckets under 'timeline'.",
)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0),
    help=f"{HELP['time_limit']} [default: {TIME_LIMIT:g}; {EXPORT_TIME_LIMIT:g} with --all]",
)
@click.option(
    "--no-collapse",
    is_flag=True,
    help="List every near-copy (one hit per story is the default; --all lists every article).",
)
@click.option("--story", metavar="ID", help="Only the articles of this story.")
@click.pass_obj
@expected_errors
def search(
    obj: Context,
    query: str,
    limit: int,
    page: int,
    sort: str,
    fmt: str,
    as_json: bool,
    every: bool,
    output: Path | None,
    date_from: Any,
    date_to: Any,
    show_timeline: bool,
    time_limit: float | None,
    no_collapse: bool,
    story: str | None,
    **facets: tuple[str, ...],
) -> None:
    """Search the archive; Whoosh syntax works (AND, OR, NOT, "phrases", field:value, wild*).

    Example: archive search 'title:flood AND "river wall"' --limit 5

    Export every hit: archive search flood --all --format csv --output flood.csv
    """
    from index.limits import QueryLimits
    from index.searcher import ArchiveSearcher

    fmt = "json" if as_json else fmt
    if show_timeline and (every or fmt not in ("text", "json")):
        raise click.UsageError("--timeline goes with one page of text or JSON, not an export.")
    filters = {name: list(values) for name, values in facets.items() if values}
    if story:
        filters["story"] = [story]
    found: dict[str, Any] = {  # the arguments search() and iter_hits() share
        "sort": sort,
        "filters": filters,
        "date_from": date_from.date() if date_from else None,
        "date_to": date_to.date() if date_to else None,
    }
    default_limit = EXPORT_TIME_LIMIT if every else TIME_LIMIT
    limits = QueryLimits(time_limit=default_limit if time_limit is None else time_limit)
    with ArchiveSearcher.open(obj.index_dir) as searcher, _output(output) as out:
        searcher.vectored = False  # one search: numpy and whole posting lists cost more
        if every:
            hits = searcher.iter_hits(query, limits=limits, **found)
            if fmt == "text":
                for rank, hit in enumerate(hits, start=1):
                    _echo_hit(rank, hit, out)
            else:
                _write_hits(fmt, hits, out)
            return
        results = searcher.search(
            query,
            page=page,
            pagelen=limit,
            facets=fmt == "json",
            timeline=show_timeline,
            limits=limits,
            collapse_stories=not no_collapse,
            **found,
        )
        if results.page < page:  # Whoosh shows the last page instead; the API answers 400
            raise click.ClickException(
                f"page {page} is past the last page ({_count(results.total, 'result')}, "
                f"{_count(results.pages, 'page')} of {limit})"
            )
        if fmt == "json":
            click.echo(json.dumps(results.to_dict(), ensure_ascii=False, indent=2), file=out)
            return
        if fmt != "text":
            _write_hits(fmt, results.hits, out)
            return
        for note in results.notes:
            click.echo(f"note: {printable(note)}", err=True)
        if results.corrected:
            click.echo(f"Did you mean: {printable(results.corrected)}?", file=out)
        first = (results.page - 1) * results.pagelen
        took = f"{results.took_ms:.0f} ms"
        pages = f"page {results.page} of {results.pages}"
        grouped = f" from {results.articles} articles" if results.articles != results.total else ""
        click.echo(f"{_count(results.total, 'result')}{grouped} ({took}), {pages}", file=out)
        for rank, hit in enumerate(results.hits, start=first + 1):
            _echo_hit(rank, hit, out)
            told = results.stories.get(hit.id)
            if told and told.similar:
                sources = f" from {_count(told.sources, 'source')}" if told.sources else ""
                similar = _count(told.similar, "similar article")
                click.echo(f"   and {similar}{sources}: --story {printable(hit.story)}", file=out)
        if show_timeline:
            _echo_timeline(results.timeline, out)


#: Characters of the longest bar in ``archive search --timeline``.
TIMELINE_WIDTH = 50


def _echo_timeline(buckets: list[TimeBucket], out: Any) -> None:
    """Print hits per day, month or year as a text bar chart."""
    if not buckets:
        click.echo("\ntimeline: none of the hits has a date", file=out)
        return
    tallest = max(b.count for b in buckets)
    click.echo("\ntimeline:", file=out)
    for bucket in buckets:
        # A bucket with any hits gets at least one mark, so it never looks empty.
        bar = "#" * max(round(TIMELINE_WIDTH * bucket.count / tallest), bool(bucket.count))
        click.echo(f"  {bucket.label:<10} {bucket.count:>6} {bar}", file=out)


@contextmanager
def _output(path: Path | None) -> Iterator[Any]:
    """The file to write to: ``path`` (UTF-8, no newline translation) or standard output."""
    if path is None:
        yield None  # click.echo's default, the terminal
        return
    try:
        handle = path.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror}") from exc
    with handle:
        yield handle


def _write_hits(fmt: str, hits: Any, out: Any) -> None:
    """Write ``hits`` to ``out`` in an export format, a chunk at a time."""
    from index.export import WRITERS

    for chunk in WRITERS[fmt](hits):
        click.echo(chunk, file=out, nl=False)


def _echo_hit(rank: int, hit: Any, out: Any) -> None:
    """One hit as the terminal listing shows it."""
    meta = printable(" | ".join(x for x in (hit.date, hit.source, hit.author, hit.category) if x))
    click.echo(
        f"\n{rank}. {click.style(printable(hit.title), bold=True)}  [{printable(hit.id)}]",
        file=out,
    )
    if meta:
        click.echo(f"   {meta}", file=out)
    click.echo(f"   {_terminal_marks(hit.snippet)}", file=out)
    if hit.summary:
        click.echo(f"   Summary: {printable(hit.summary)}", file=out)


def _count(n: int, noun: str) -> str:
    """``n`` and the noun, plural unless ``n`` is 1."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _terminal_marks(snippet: str) -> str:
    """Show HTML snippet marks as bold text on a terminal."""
    bold = click.style("\0", bold=True).split("\0")
    text = unescape(snippet.replace("<mark>", "\ue000").replace("</mark>", "\ue001"))
    # One line per snippet: paragraph breaks become spaces before escaping, not "\n".
    marked = printable(" ".join(text.split()))
    return marked.replace("\ue000", bold[0]).replace("\ue001", bold[1])


@cli.command()
@click.argument("doc_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
@expected_errors
def show(obj: Context, doc_id: str, as_json: bool) -> None:
    """Show one article with its summary.

    Example: archive show csv-0003
    """
    from index.searcher import ArchiveSearcher

    with ArchiveSearcher.open(obj.index_dir) as searcher:
        record = searcher.article(doc_id)
    if record is None:
        raise click.ClickException(f"no article with id {doc_id!r}")
    if as_json:
        click.echo(json.dumps(record, ensure_ascii=False, indent=2))
        return
    click.echo(click.style(printable(record["title"]), bold=True))
    for name in ("id", "author", "date", "source", "category", "url", "story"):
        if record[name]:
            click.echo(f"{name}: {printable(record[name])}")
    # How the sentences were found is a detail for the curious, not part of the summary.
    click.echo(f"sentences: {record['segmented'] or 'none'}")
    click.echo(f"\nSummary: {printable(record['summary'])}")
    if record["summary_note"]:
        click.echo(f"note: {printable(record['summary_note'])}")
    click.echo(f"\n{printable(record['text'], lines=True)}")


@cli.command()
@click.argument("doc_id")
@click.pass_obj
@expected_errors
def history(obj: Context, doc_id: str) -> None:
    """List the versions of an article: number, first seen, hash, words changed and title.

    Example: archive history bbc/business/001
    """
    from index.diffing import changed_words

    versions = _versions(obj.index_dir, doc_id)
    click.echo(f"{'v':>3}  {'first seen':19}  {'hash':12}  {'change':14}  title")
    for n, version in enumerate(versions):
        change = ""
        if n:
            deleted, inserted = changed_words(_diff(versions[n - 1], version)[1])
            change = f"-{deleted} +{inserted} words"
        click.echo(
            f"{version.number:>3}  {_seen(version):19}  {version.hash[:12]:12}  {change:14}  "
            f"{printable(version.title)}"
        )


@cli.command()
@click.argument("doc_id")
@click.argument("numbers", nargs=-1, type=click.IntRange(min=1), metavar="[V1 V2]")
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colour the changes (auto: on a terminal); else mark them [-deleted-]{+inserted+}.",
)
@click.pass_obj
@expected_errors
def diff(obj: Context, doc_id: str, numbers: tuple[int, ...], color: str) -> None:
    """Show the words changed between two versions of an article (default: previous, current).

    Example: archive diff bbc/business/001 1 3
    """
    from index.versions import pick

    if len(numbers) not in (0, 2):
        raise click.UsageError("give two version numbers, or none for the previous and current")
    versions = _versions(obj.index_dir, doc_id)
    if len(versions) < 2:
        click.echo(f"note: {printable(doc_id)} has one version: nothing to compare", err=True)
        return
    old, new = pick(versions, *(numbers or (None, None)))
    colour = color == "always" or (color == "auto" and sys.stdout.isatty())
    title, text = _diff(old, new)
    click.echo(f"version {old.number} ({_seen(old)}) -> version {new.number} ({_seen(new)})")
    click.echo(f"title: {_marked(title, colour)}\n", color=colour)
    click.echo(_marked(text, colour), color=colour)


def _versions(index_dir: Path, doc_id: str) -> list[Any]:
    """Every version of an article, or a clear error for an unknown id."""
    from index.searcher import ArchiveSearcher

    with ArchiveSearcher.open(index_dir) as searcher:
        versions = searcher.versions(doc_id)
    if versions is None:
        raise click.ClickException(f"no article with id {printable(doc_id)!r}")
    return versions


def _seen(version: Any) -> str:
    """When a version was first seen, as the listings show it."""
    return (version.seen or "unknown").replace("T", " ")


def _diff(old: Any, new: Any) -> tuple[list[Any], list[Any]]:
    """Word-level changes from one version to another: in the title, and in the text."""
    from index.diffing import word_diff

    return word_diff(old.title, new.title), word_diff(old.text, new.text)


#: How ``archive diff`` marks a deletion and an insertion, without and with colour.
DIFF_MARKS = {"delete": ("[-", "-]"), "insert": ("{+", "+}")}
DIFF_STYLES: dict[str, dict[str, Any]] = {
    "delete": {"fg": "red", "strikethrough": True},
    "insert": {"fg": "green"},
}


def _marked(segments: list[Any], colour: bool) -> str:
    """A diff as text: changes marked or coloured, untrusted text escaped."""
    from index.diffing import for_display

    parts = []
    for segment in for_display(segments):
        text = printable(segment.text, lines=True)
        if segment.kind == "equal":
            parts.append(text)
        elif colour:
            parts.append(click.style(text, **DIFF_STYLES[segment.kind]))
        else:
            start, end = DIFF_MARKS[segment.kind]
            parts.append(f"{start}{text}{end}")
    return "".join(parts)


@cli.command()
@click.argument("doc_ids", nargs=-1, required=True)
@click.pass_obj
@expected_errors
def delete(obj: Context, doc_ids: tuple[str, ...]) -> None:
    """Delete articles by id.

    Example: archive delete csv-0003 jl-0007
    """
    from app.indexer import delete_ids

    deleted, missing = delete_ids(obj.index_dir, list(doc_ids))
    for doc_id in missing:
        click.echo(f"no article with id {doc_id!r}", err=True)
    click.echo(f"deleted {deleted}")
    if missing and not deleted:
        sys.exit(1)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
@expected_errors
def stats(obj: Context, as_json: bool) -> None:
    """Show the article count, size on disk, last update and counts per source and category.

    Example: archive stats --json
    """
    from index.searcher import ArchiveSearcher

    with ArchiveSearcher.open(obj.index_dir) as searcher:
        data = searcher.stats(obj.index_dir)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(f"articles:    {data['articles']}")
    click.echo(f"size:        {data['size_bytes'] / 1e6:.1f} MB")
    click.echo(f"last update: {data['last_update']}")
    for facet in ("source", "category", "year"):
        if data[facet]:
            click.echo(f"\nper {facet}:")
            for value, count in data[facet].items():
                click.echo(f"  {count:>7}  {printable(value)}")


@cli.command()
@click.argument("file", type=click.File("r", encoding="utf-8", errors="replace"))
@click.option(
    "--summarizer", type=click.Choice(SUMMARIZERS), default=DEFAULT_SUMMARIZER, show_default=True
)
@click.option(
    "--sentences", type=click.IntRange(min=1, max=20), default=DEFAULT_SENTENCES, show_default=True
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
@expected_errors
def summarize(obj: Context, file: Any, summarizer: str, sentences: int, as_json: bool) -> None:
    """Summarise one text file (or - for standard input), using the index's sentence model if any.

    Example: archive summarize article.txt --summarizer textrank --json
    """
    from app.indexer import collection_segmenter
    from archive.clean import clean_text
    from archive.summarize import split_heading
    from archive.summarize import summarize as run_summary

    title, text = split_heading(clean_text(file.read()))
    summary = run_summary(
        text,
        title=title,
        summarizer=summarizer,
        sentences=sentences,
        segmenter=collection_segmenter(obj.index_dir),
    )
    if as_json:
        data = {
            "sentences": summary.sentences,
            "summary": summary.summary,
            "segmented": summary.segmented,
        }
        if summary.note:
            data["note"] = summary.note
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    if summary.note:
        click.echo(f"note: {printable(summary.note)}", err=True)
    for sentence in summary.sentences:
        click.echo(f"- {printable(sentence)}")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True)
@click.option("--threads", type=click.IntRange(1, 64), default=16, show_default=True)
@click.pass_obj
@expected_errors
def serve(obj: Context, host: str, port: int, threads: int) -> None:
    """Serve the web interface with waitress.

    Example: archive serve --port 8080
    """
    import waitress

    from index.store import open_index
    from web import create_app
    from web.costly import start_worker

    open_index(obj.index_dir)  # a clear error now rather than on the first request
    app = create_app({"INDEX_DIR": str(obj.index_dir.resolve())})
    start_worker(app)
    click.echo(f"Serving the archive at http://{host}:{port}/ (Ctrl-C to stop)")
    waitress.serve(app, host=host, port=port, threads=threads)


def main() -> None:
    """Entry point of the console script."""
    cli(prog_name="archive")
