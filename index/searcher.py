"""Searching the archive: parsing, filters, facets, sorting, snippets and suggestions."""

from __future__ import annotations

import functools
import itertools
import re
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any

from whoosh import collectors, sorting
from whoosh import query as wq
from whoosh.fields import Schema
from whoosh.index import FileIndex
from whoosh.qparser import MultifieldParser
from whoosh.reading import IndexReader
from whoosh.searching import Hit as WhooshHit
from whoosh.searching import ResultsPage, Searcher

from index.document import ARTICLE_FIELDS
from index.errors import QueryTooExpensive
from index.expand import expand
from index.highlight import lead, snippet
from index.limits import (
    DEFAULT_LIMITS,
    DeadlineCollector,
    QueryLimits,
    bound_query,
    costly_turn,
)
from index.marking import Marker, query_terms
from index.relax import relax, relaxed_note
from index.schema import FACET_FIELDS, SEARCH_FIELDS, make_schema, scoring
from index.settings import FACET_SIZE, PAGE_SIZE, SORTS
from index.spelling import suggest
from index.store import (
    folder_identity,
    index_exists,
    index_size,
    last_update,
    live_dir,
    open_index,
    retry_during_commit,
)

MAX_QUERY_CHARS = 1000
MAX_CORRECTION_CHARS = 200
_UNDATED = 2**64 - 1  # the sort key Whoosh's date column gives a missing date
#: The fields a query can name, for the note about a field that does not exist.
QUERY_FIELDS = ("title", "text", "author", "source", "category", "year", "date", "id")
#: Values of a facet looked through for one that differs only in case from a missing value.
CASE_SCAN = 10_000


@dataclass
class Hit:
    """One ranked result, ready for JSON or a template (snippet is safe HTML)."""

    id: str
    title: str
    author: str
    date: str | None
    source: str
    category: str
    url: str
    score: float | None
    snippet: str
    summary: str


@dataclass
class Results:
    """One page of results with the totals, facets and notes about the query."""

    query: str
    total: int
    page: int
    pagelen: int
    hits: list[Hit]
    took_ms: float
    sort: str = "relevance"
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    corrected: str | None = None
    notes: list[str] = field(default_factory=list)
    #: True when the time limit stopped the search: total and hits cover what was found.
    partial: bool = False
    #: True when no article had all the words and these have most of them.
    relaxed: bool = False

    @property
    def pages(self) -> int:
        """Number of result pages."""
        return max(1, -(-self.total // self.pagelen))

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape shared by the CLI and the web API."""
        data = asdict(self)
        data["facets"] = {
            name: [{"value": v, "count": c} for v, c in values]
            for name, values in self.facets.items()
        }
        data["pages"] = self.pages
        return data


def format_date(value: datetime | None) -> str | None:
    """ISO date, with the time only when the article has one."""
    if value is None:
        return None
    if value.time() == dtime(0, 0):
        return value.date().isoformat()
    return value.isoformat(timespec="minutes")


class ReaderCache:
    """One open reader per thread, reopened only when a commit or a rebuild made it stale.

    Opening a reader reads every segment's metadata (tens of milliseconds on a large
    index); a search server would otherwise pay that on every request. Readers are not
    shared between threads because Whoosh's file readers are not thread-safe. Every call
    checks which generation folder is live, so a rebuild's swap is seen at the next request.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._ix: FileIndex | None = None
        self._identity: tuple[str, int, int] | None = None

    def index(self) -> FileIndex:
        """The live index, reopened when a rebuild has put another generation in place."""
        identity = folder_identity(live_dir(self.path)) if index_exists(self.path) else None
        with self._lock:
            if self._ix is None or identity != self._identity:
                ix = open_index(self.path)
                self._ix, self._identity = ix, folder_identity(Path(ix.storage.folder))
            return self._ix

    def reader(self) -> tuple[FileIndex, IndexReader]:
        """This thread's reader of the latest commit, with the index it reads."""
        return retry_during_commit(self._reader)

    def _reader(self) -> tuple[FileIndex, IndexReader]:
        local = self._local
        ix = self.index()
        current: IndexReader | None = getattr(local, "reader", None)
        generation = ix.latest_generation()
        if current is not None and local.ix is ix and local.generation == generation:
            return ix, current
        fresh = ix.refresh().reader()
        if current is not None:
            current.close()
        local.ix, local.reader, local.generation = ix, fresh, generation
        return ix, fresh

    def searcher(self) -> ArchiveSearcher:
        """A searcher over this thread's reader; closing it leaves the reader open."""
        return ArchiveSearcher(*self.reader())


@functools.cache
def _parser() -> MultifieldParser:
    # Building a parser assembles its plugin chain; every index has the same schema, so
    # one parser serves every query.
    return MultifieldParser(list(SEARCH_FIELDS), make_schema())


_UNSAFE_SYNTAX = re.compile(r"[\"()\[\]{}:^~*?\\]|\b(AND|OR|NOT|ANDNOT|ANDMAYBE|TO)\b")


class ArchiveSearcher:
    """A read-only view of the index at one commit; close it when done."""

    def __init__(self, ix: FileIndex, reader: IndexReader | None = None) -> None:
        self.ix = ix
        if reader is None:
            self.searcher = retry_during_commit(lambda: ix.refresh().searcher(weighting=scoring()))
        else:
            # Over a shared reader, opening and closing a searcher costs next to nothing.
            self.searcher = Searcher(reader, weighting=scoring(), fromindex=ix, closereader=False)
        self.parser = _parser()

    @classmethod
    def open(cls, path: Path) -> ArchiveSearcher:
        """Open a searcher on the index at ``path``."""
        # Retried as a whole: a rebuild may remove the generation just opened.
        return retry_during_commit(lambda: cls(open_index(path)))

    def close(self) -> None:
        """Release the index files."""
        self.searcher.close()

    def __enter__(self) -> ArchiveSearcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def doc_count(self) -> int:
        """Number of articles in the index."""
        return self.searcher.doc_count()

    def parse(self, text: str) -> tuple[wq.Query, list[str]]:
        """Parse user query syntax, degrading to plain words when the syntax is broken."""
        notes: list[str] = []
        text = text.strip()
        if len(text) > MAX_QUERY_CHARS:
            text = text[:MAX_QUERY_CHARS]
            notes.append(f"The query was cut to its first {MAX_QUERY_CHARS} characters.")
        if not text or text == "*":
            return wq.Every(), notes
        text, unknown = _drop_unknown_fields(text, self.parser.schema)
        if unknown:
            names = ", ".join(f"'{name}'" for name in unknown)
            notes.append(
                f"There is no searchable field {names} (fields: {', '.join(QUERY_FIELDS)}); "
                "searched for the value in title and text instead."
            )
        problem = _syntax_problem(text)
        if problem:
            notes.append(f"{problem}; searched for the words instead.")
            text = _UNSAFE_SYNTAX.sub(" ", text)
        try:
            parsed = self.parser.parse(text)
        except Exception as exc:  # Whoosh raises assorted errors on odd syntax
            notes.append(f"Could not parse the query ({exc}); searched for the words instead.")
            parsed = self.parser.parse(_UNSAFE_SYNTAX.sub(" ", text))
        if parsed is wq.NullQuery or isinstance(parsed, type(wq.NullQuery)):
            notes.append("The query has no searchable words.")
        return parsed, notes

    def search(
        self,
        text: str = "",
        *,
        page: int = 1,
        pagelen: int = PAGE_SIZE,
        sort: str = "relevance",
        filters: dict[str, list[str]] | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
        facets: bool = True,
        snippets: bool = True,
        limits: QueryLimits = DEFAULT_LIMITS,
    ) -> Results:
        """Run a query and return one page of results.

        Raises QueryTooExpensive past ``limits``, and SearchBusy for a costly query while
        another costly search runs in this process.
        """
        started = time.perf_counter()
        query, notes = self.parse(text)
        query, costly = bound_query(query, self.searcher.reader(), limits)
        if sort not in SORTS:
            notes.append(f"Unknown sort {sort!r}; sorted by relevance.")
            sort = "relevance"
        if isinstance(query, wq.Every) and sort == "relevance":
            sort = "newest"
        page = max(1, page)
        notes.extend(self._missing_values(query, filters or {}))
        restrict = _filter_query(filters or {}, date_from, date_to)

        def collect(q: wq.Query, terms: bool) -> tuple[ResultsPage, bool]:
            # limit=None collects every match: Whoosh's top-N collector drops sub-queries that
            # can no longer reach the top N, so its total undercounted and changed with the
            # page length ('the new year': 14 with a page of 1, 20 with 10).
            collector = self.searcher.collector(
                limit=None,
                sortedby=_date_order(newest=sort == "newest") if sort != "relevance" else None,
                optimize=False,
            )
            # The deadline wraps the innermost collector so facets, terms and filters all see
            # the same documents when it stops the search (the order Searcher.collector uses).
            deadline = DeadlineCollector(collector, started + limits.time_limit)
            collector = deadline
            if facets:
                groups = {
                    name: sorting.FieldFacet(name, maptype=sorting.Count) for name in FACET_FIELDS
                }
                collector = collectors.FacetCollector(collector, groups)
            if terms:
                collector = collectors.TermsCollector(collector)
            if restrict is not None:
                collector = collectors.FilterCollector(collector, restrict, None)
            try:
                with costly_turn(costly):
                    self.searcher.search_with_collector(q, collector)
            except collectors.TimeLimit:
                notes.append(
                    f"The search took longer than {limits.time_limit:g} s and was stopped: "
                    "these are the best of the articles found until then."
                )
            return ResultsPage(collector.results(), page, pagelen), deadline.timed_out

        results, partial = collect(query, snippets)
        strict_total = results.total
        # Positions in the parsed query refer to the text as parse() saw it.
        relaxed = relax(query, text.strip()[:MAX_QUERY_CHARS]) if results.total == 0 else None
        if relaxed is not None:
            # Feedback terms only re-rank, so snippets mark the user's words (results.q).
            results, partial = collect(expand(self.searcher, relaxed[0], restrict), False)
            results.results.q = relaxed[0]
            if results.total:
                notes.append(relaxed_note(relaxed[1]))
        hits = [self._hit(h, snippets) for h in results]
        found = Results(
            query=text,
            total=results.total,
            page=max(1, results.pagenum),
            pagelen=pagelen,
            hits=hits,
            took_ms=0.0,
            sort=sort,
            notes=notes,
            partial=partial,
            relaxed=relaxed is not None and results.total > 0,
        )
        if facets:
            found.facets = {name: _top(results.results.groups(name)) for name in FACET_FIELDS}
        found.corrected = self._correction(query, text, strict_total, restrict)
        found.took_ms = round((time.perf_counter() - started) * 1000, 2)
        return found

    def _missing_values(self, query: wq.Query, filters: dict[str, list[str]]) -> list[str]:
        """A note for each facet value, searched or filtered on, that no article has."""
        wanted = [
            (leaf.fieldname, leaf.text)
            for leaf in query.leaves()
            if isinstance(leaf, wq.Term) and leaf.fieldname in FACET_FIELDS
        ]
        for name, values in filters.items():
            wanted += [(name, v) for v in values if v and name in FACET_FIELDS]
        reader = self.searcher.reader()
        notes = []
        for name, value in dict.fromkeys(wanted):
            if (name, value) in reader:
                continue
            # Facet values are matched exactly, so "Sport" finds nothing where "sport" would.
            folded = str(value).casefold()
            near = next(
                (
                    v
                    for v in itertools.islice(reader.field_terms(name), CASE_SCAN)
                    if v.casefold() == folded
                ),
                None,
            )
            hint = f" (did you mean '{near}'?)" if near else ""
            notes.append(f"No article has {name} '{value}'{hint}.")
        return notes

    def _correction(
        self, query: wq.Query, text: str, found: int, restrict: wq.Query | None
    ) -> str | None:
        if isinstance(query, wq.Every) or not text.strip():
            return None
        if len(text) > MAX_CORRECTION_CHARS:
            # Suggesting costs an edit scan per unknown word: too slow for a long query, and
            # a "Did you mean" that long would not help anyone.
            return None
        try:
            # Positions in the parsed query refer to the text as parse() saw it.
            corrected = suggest(self.searcher, query, text.strip(), SEARCH_FIELDS)
            if corrected is None:
                return None
            # Offered only when it finds more articles with all the words than the original.
            better = self.searcher.search(self.parse(corrected)[0], limit=1, filter=restrict)
        except Exception:  # a suggestion is optional; odd queries must not break search
            return None
        return corrected if len(better) > found else None

    def _hit(self, hit: WhooshHit, snippets: bool) -> Hit:
        return Hit(
            id=hit["id"],
            title=hit.get("title", ""),
            author=hit.get("author", ""),
            date=format_date(hit.get("date")),
            source=hit.get("source", ""),
            category=hit.get("category", ""),
            url=hit.get("url", ""),
            score=round(hit.score, 4) if hit.score is not None else None,
            snippet=snippet(hit) if snippets else lead(hit.get("text", "")),
            summary=hit.get("summary", ""),
        )

    @property
    def schema(self) -> Schema:
        """The schema of the commit this searcher reads (no disk access, unlike the index's)."""
        return self.searcher.schema

    def article(self, doc_id: str) -> dict[str, Any] | None:
        """An article's public fields in a fixed order, for JSON output; None if unknown."""
        doc = self.document(doc_id)
        if doc is None:
            return None
        record = {name: doc.get(name, "") for name in ARTICLE_FIELDS}
        record["summary_sentences"] = list(record["summary_sentences"] or [])
        return record

    def marker(self, text: str, limits: QueryLimits = DEFAULT_LIMITS) -> Marker:
        """What marks the terms of the query ``text`` in an article's title and paragraphs."""
        terms: set[str] = set()
        if text:
            reader = self.searcher.reader()
            query, _ = self.parse(text)
            try:
                query, _ = bound_query(query, reader, limits)
            except QueryTooExpensive:
                pass  # too costly to expand for marks; the article shows unmarked
            else:
                terms = query_terms(query, reader)
        return Marker(terms, self.schema["text"].analyzer)

    def document(self, doc_id: str) -> dict[str, Any] | None:
        """All stored fields of one article, or None for an unknown id."""
        doc = self.searcher.document(id=doc_id)
        if doc is None:
            return None
        doc["date"] = format_date(doc.get("date"))
        doc.pop("indexed_at", None)
        return doc

    def more_like(self, doc_id: str, top: int = 5) -> list[Hit]:
        """Articles most similar to ``doc_id`` by their distinctive text terms."""
        docnum = self.searcher.document_number(id=doc_id)
        if docnum is None:
            return []
        similar = self.searcher.more_like(docnum, "text", top=top, numterms=25)
        return [self._hit(h, snippets=False) for h in similar]

    def stats(self, path: Path | None = None) -> dict[str, Any]:
        """Article count, per-facet counts and, given the index path, size and last update."""
        groups = {name: sorting.FieldFacet(name, maptype=sorting.Count) for name in FACET_FIELDS}
        results = self.searcher.search(wq.Every(), limit=1, groupedby=groups)
        data: dict[str, Any] = {"articles": self.searcher.doc_count()}
        if path is not None:
            updated = last_update(path)
            data["size_bytes"] = index_size(path)
            data["last_update"] = (
                datetime.fromtimestamp(updated).isoformat(timespec="seconds") if updated else None
            )
        for name in FACET_FIELDS:
            data[name] = dict(_top(results.groups(name), limit=None))
        return data


def _date_order(newest: bool) -> sorting.FacetType:
    date_facet = sorting.FieldFacet("date")
    if not newest:
        return date_facet
    # An undated article is stored with the column's maximum, which a plain reversed sort
    # would put first; keep undated articles last when listing the newest.
    return sorting.TranslateFacet(lambda key: 1 if key == _UNDATED else -key, date_facet)


# A field prefix outside quotes; a quoted phrase is matched first so its colons are left alone.
_FIELD_PREFIX = re.compile(r'"[^"]*"|(?<![\w\\])([A-Za-z_]\w*):(?=[^\s:])')


def _drop_unknown_fields(text: str, schema: Schema) -> tuple[str, list[str]]:
    """Remove ``name:`` prefixes naming no searchable field; return the text and those names."""
    unknown: list[str] = []

    def drop(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None or (name in schema and schema[name].format is not None):
            return match.group(0)
        unknown.append(name)
        # Blanks of the same length keep the query's character offsets, which spelling
        # suggestions use to rewrite the text the user typed.
        return " " * len(match.group(0))

    return _FIELD_PREFIX.sub(drop, text), list(dict.fromkeys(unknown))


def _syntax_problem(text: str) -> str | None:
    if text.count('"') % 2:
        return "Unbalanced quote"
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return "Unbalanced parenthesis"
    if depth:
        return "Unbalanced parenthesis"
    if re.search(r"\b\w+:(\s|$)", text):
        return "A field name has no value"
    return None


def _filter_query(
    filters: dict[str, list[str]], date_from: date | None, date_to: date | None
) -> wq.Query | None:
    parts: list[wq.Query] = []
    for name, values in filters.items():
        values = [v for v in values if v]
        if name in FACET_FIELDS and values:
            parts.append(wq.Or([wq.Term(name, v) for v in values]))
    if date_from or date_to:
        start = datetime.combine(date_from, dtime.min) if date_from else None
        end = datetime.combine(date_to, dtime.max) if date_to else None
        parts.append(wq.DateRange("date", start, end))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else wq.And(parts)


def _top(counts: dict[Any, int], limit: int | None = FACET_SIZE) -> list[tuple[str, int]]:
    # Articles with no value for a facet are grouped under None; they are not a choice.
    items = [(str(k), n) for k, n in counts.items() if k not in (None, "")]
    items.sort(key=lambda kv: (-kv[1], kv[0]))
    return items[:limit] if limit else items
