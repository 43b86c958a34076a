"""Searching the archive at one commit: runs a query with its filters, facets, relaxation and
suggestion, and fetches articles; parsing, facets and result shapes live beside it."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whoosh import collectors
from whoosh import query as wq
from whoosh.fields import Schema
from whoosh.index import FileIndex
from whoosh.reading import IndexReader
from whoosh.searching import Results as WhooshResults
from whoosh.searching import ResultsPage, Searcher

from index.collapse import StoryMember, collapse, story_filter, story_members
from index.document import ARTICLE_FIELDS
from index.errors import QueryTooExpensive, SearchTimedOut
from index.expand import expand
from index.facets import date_order, facet_groups, filter_query, missing_values, top_values
from index.limits import (
    DEFAULT_LIMITS,
    DeadlineCollector,
    QueryLimits,
    bound_query,
    costly_turn,
)
from index.marking import Marker, query_terms
from index.matched import page_results
from index.parsing import MAX_QUERY_CHARS, parse_query, query_parser
from index.relax import relax, relaxed_note
from index.results import Hit, Results, StoryHit, format_date, to_hit
from index.schema import FACET_FIELDS, SEARCH_FIELDS, scoring
from index.settings import PAGE_SIZE, SORTS
from index.spelling import suggest
from index.store import index_size, last_update, open_index, retry_during_commit
from index.timeline import day_timeline
from index.versions import Version, history

if TYPE_CHECKING:
    import numpy as np

    from index.columns import FacetColumns

MAX_CORRECTION_CHARS = 200
#: Hits an export loads and snippets at a time: memory stays flat however many match.
EXPORT_BATCH = 500


class ArchiveSearcher:
    """A read-only view of the index at one commit; close it when done."""

    #: Whether words joined by AND and OR are scored with numpy (index/vectored.py); False
    #: runs every query through Whoosh's matchers: a one-off command, for which importing
    #: numpy and reading whole posting lists costs more than one search, and the tests
    #: comparing the two.
    vectored = True

    def __init__(
        self, ix: FileIndex, reader: IndexReader | None = None, columns: FacetColumns | None = None
    ) -> None:
        """Search ``ix`` (over ``reader`` when given); ``columns`` are its commit's facets,
        shared with other searchers of the same commit."""
        self.ix = ix
        self._columns = columns
        if reader is None:
            self.searcher = retry_during_commit(lambda: ix.refresh().searcher(weighting=scoring()))
        else:
            # Over a shared reader, opening and closing a searcher costs next to nothing.
            self.searcher = Searcher(reader, weighting=scoring(), fromindex=ix, closereader=False)
        self.parser = query_parser()
        # The last query bounded, by its text and limits: the web API asks whether a query
        # is costly and then searches it, and parsing is a good part of a search's time.
        self._last_bounded: tuple[str, QueryLimits, wq.Query, list[str], bool] | None = None

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
    def columns(self) -> FacetColumns:
        """The facet columns of this searcher's commit."""
        if self._columns is None:
            # Imported here: numpy costs a command that counts nothing its start-up time.
            from index.columns import FacetColumns

            self._columns = FacetColumns()
        return self._columns

    @property
    def doc_count(self) -> int:
        """Number of articles in the index."""
        return self.searcher.doc_count()

    def parse(self, text: str) -> tuple[wq.Query, list[str]]:
        """Parse user query syntax, degrading to plain words when the syntax is broken."""
        return parse_query(self.parser, text)

    def costly(self, text: str, limits: QueryLimits = DEFAULT_LIMITS) -> bool:
        """Whether searching ``text`` is costly under ``limits``; raises QueryTooExpensive."""
        return self._bounded(text, limits)[2]

    def _bounded(self, text: str, limits: QueryLimits) -> tuple[wq.Query, list[str], bool]:
        # The parsed query with its expansions checked, the notes about it, and whether it
        # is costly; raises QueryTooExpensive. Queries are never changed once parsed.
        last = self._last_bounded
        if last is None or last[:2] != (text, limits):
            query, notes = self.parse(text)
            query, costly = bound_query(query, self.searcher.reader(), limits)
            last = self._last_bounded = (text, limits, query, notes, costly)
        _, _, query, notes, costly = last
        return query, list(notes), costly

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
        timeline: bool = False,
        limits: QueryLimits = DEFAULT_LIMITS,
        collapse_stories: bool = True,
    ) -> Results:
        """Run a query and return one page of results, with its timeline if asked for.

        Near-copies are collapsed to their best-ranked member unless ``collapse_stories`` is
        False or ``filters`` name a story (which lists its members). Raises
        QueryTooExpensive past ``limits``, and SearchBusy for a costly query while another
        costly search runs in this process.
        """
        started = time.perf_counter()
        query, notes, sort, restrict, costly = self._prepare(
            text, sort, filters, date_from, date_to, limits
        )
        page = max(1, page)
        collapsing = collapse_stories and not (filters or {}).get("story")
        told: Mapping[int, StoryHit] = {}
        matched: Sequence[tuple[Any, int]] = []

        def collect(q: wq.Query, terms: bool) -> tuple[ResultsPage, bool]:
            nonlocal told, matched
            found, partial = self._collect(q, sort, restrict, costly, started, limits, terms)
            # Facets and the timeline count articles, not the stories they collapse into.
            matched = found.top_n
            if collapsing:
                # Without the fast path, nothing here needs numpy (a one-off command).
                columns = self.columns if self.vectored else None
                found, told = collapse(found, self.searcher.reader(), columns)
            if partial:
                notes.append(
                    f"The search took longer than {limits.time_limit:g} s and was stopped: "
                    "these are the best of the articles found until then."
                )
            return ResultsPage(found, page, pagelen), partial

        results, partial = collect(query, snippets)
        searched = query
        strict_total = results.total
        # Positions in the parsed query refer to the text as parse() saw it.
        relaxed = relax(query, text.strip()[:MAX_QUERY_CHARS]) if results.total == 0 else None
        if relaxed is not None:
            # Feedback terms only re-rank, so snippets mark the user's words (results.q).
            searched = expand(self.searcher, relaxed[0], restrict, started=started, limits=limits)
            results, partial = collect(searched, False)
            results.results.q = relaxed[0]
            if results.total:
                notes.append(relaxed_note(relaxed[1]))
        start = max(0, results.offset)
        shown = page_results(results.results, start, start + results.pagelen)
        page_hits = [shown[n] for n in range(len(shown.top_n))]
        hits = [to_hit(h, snippets) for h in page_hits]
        stories = {h["id"]: told[h.docnum] for h in page_hits if h.docnum in told}
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
            collapsed=collapsing,
            articles=len(matched),
            stories=stories,
        )
        if facets or timeline:
            # Imported here: numpy costs a command that counts nothing its start-up time.
            from index.vectored import ranked_docnums

            matches = ranked_docnums(matched)
            reader = self.searcher.reader()
        if facets:
            found.facets = {
                name: top_values(self.columns.facet(reader, name).counts(matches))
                for name in FACET_FIELDS
            }
            found.facets.update(
                self._recounts(searched, filters or {}, date_from, date_to, started, limits)
            )
        if timeline:
            found.timeline = day_timeline(*self.columns.day_counts(reader, matches))
        found.corrected = self._correction(query, text, strict_total, restrict)
        found.took_ms = round((time.perf_counter() - started) * 1000, 2)
        return found

    def iter_hits(
        self,
        text: str = "",
        *,
        sort: str = "relevance",
        filters: dict[str, list[str]] | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
        snippets: bool = True,
        limits: QueryLimits = DEFAULT_LIMITS,
    ) -> Iterator[Hit]:
        """Every hit of a search in rank order, the same hits ``search`` pages through.

        The search runs before this returns, so QueryTooExpensive, SearchBusy and
        SearchTimedOut (an export is never silently cut short) are raised here; only
        docnums and scores are kept, and articles are loaded and snippeted a batch at a time.
        """
        started = time.perf_counter()
        query, _, sort, restrict, costly = self._prepare(
            text, sort, filters, date_from, date_to, limits
        )
        found, partial = self._collect(query, sort, restrict, costly, started, limits, True)
        relaxed = relax(query, text.strip()[:MAX_QUERY_CHARS]) if found.is_empty() else None
        if relaxed is not None:
            expanded = expand(self.searcher, relaxed[0], restrict)
            found, partial = self._collect(expanded, sort, restrict, costly, started, limits, False)
            found.q = relaxed[0]
        if partial:
            raise SearchTimedOut(
                f"Finding every match took longer than {limits.time_limit:g} s; "
                "narrow the query or allow more time."
            )
        return self._hits_in_batches(found, snippets)

    @staticmethod
    def _hits_in_batches(found: WhooshResults, snippets: bool) -> Iterator[Hit]:
        # A Results per batch keeps the highlighter's cache of matched characters (and the
        # loaded articles) small.
        for start in range(0, len(found.top_n), EXPORT_BATCH):
            batch = page_results(found, start, start + EXPORT_BATCH)
            for pos in range(len(batch.top_n)):
                yield to_hit(batch[pos], snippets)

    def _prepare(
        self,
        text: str,
        sort: str,
        filters: dict[str, list[str]] | None,
        date_from: date | None,
        date_to: date | None,
        limits: QueryLimits,
    ) -> tuple[wq.Query, list[str], str, wq.Query | None, bool]:
        # The parsed and bounded query, notes about it, the sort used, the restriction
        # filters make, and whether the query is costly.
        query, notes, costly = self._bounded(text, limits)
        if sort not in SORTS:
            notes.append(f"Unknown sort {sort!r}; sorted by relevance.")
            sort = "relevance"
        if isinstance(query, wq.Every) and sort == "relevance":
            sort = "newest"
        notes.extend(missing_values(self.searcher.reader(), query, filters or {}))
        restrict = story_filter(filter_query(filters or {}, date_from, date_to), filters or {})
        return query, notes, sort, restrict, costly

    def _collect(
        self,
        q: wq.Query,
        sort: str,
        restrict: wq.Query | None,
        costly: bool,
        started: float,
        limits: QueryLimits,
        terms: bool,
        scored: bool = True,
    ) -> tuple[WhooshResults, bool]:
        # Every match of ``q`` (unordered unless ``scored``), with the terms each matched if
        # asked, and whether the time limit stopped the search. Words joined by AND and OR
        # ranked by relevance are scored with numpy (same hits and scores); the rest, and
        # a search whose deadline passes before its postings are read, go through Whoosh.
        if self.vectored and (sort == "relevance" or not scored):
            from index import vectored

            if vectored.applies(self.searcher, q):
                allowed = None if restrict is None else self._allowed(restrict)
                with costly_turn(costly):
                    fast = vectored.search(
                        self.searcher,
                        q,
                        allowed=allowed,
                        terms=terms,
                        scored=scored,
                        deadline=started + limits.time_limit,
                    )
                if fast is not None:
                    return fast, False
        # limit=None collects every match: Whoosh's top-N collector drops sub-queries that
        # can no longer reach the top N, so its total undercounted and changed with the
        # page length ('the new year': 14 with a page of 1, 20 with 10).
        collector = self.searcher.collector(
            limit=None,
            sortedby=date_order(newest=sort == "newest") if sort != "relevance" else None,
            optimize=False,
            scored=scored,
        )
        # The deadline wraps the innermost collector so terms and filters all see the same
        # documents when it stops the search (the order Searcher.collector uses).
        deadline = DeadlineCollector(collector, started + limits.time_limit)
        collector = deadline
        if terms:
            collector = collectors.TermsCollector(collector)
        if restrict is not None:
            collector = collectors.FilterCollector(collector, restrict, None)
        try:
            with costly_turn(costly):
                self.searcher.search_with_collector(q, collector)
        except collectors.TimeLimit:
            pass  # deadline.timed_out says so
        return collector.results(), deadline.timed_out

    def _recounts(
        self,
        searched: wq.Query,
        filters: dict[str, list[str]],
        date_from: date | None,
        date_to: date | None,
        started: float,
        limits: QueryLimits,
    ) -> dict[str, list[tuple[str, int]]]:
        # Values within a facet are alternatives (OR): a facet filtered on lists its other
        # values with the counts they would have under the other facets' filters, so one can
        # be added; its own filter would count them all as 0.
        chosen = {
            name: restriction
            for name, values in filters.items()
            if (restriction := filter_query({name: values}, None, None)) is not None
        }
        if not chosen:
            return {}
        found = self.columns.cached(
            (searched, tuple(chosen.items()), date_from, date_to),
            functools.partial(
                self._count_chosen, searched, chosen, date_from, date_to, started, limits
            ),
        )
        return {name: top_values(values) for name, values in found.items()}

    def _count_chosen(
        self,
        searched: wq.Query,
        chosen: dict[str, wq.Query],
        date_from: date | None,
        date_to: date | None,
        started: float,
        limits: QueryLimits,
    ) -> tuple[dict[str, dict[str, int]], bool]:
        # One pass over the matches within the date range, unscored; each facet's filter as
        # a mask over document numbers. No costly turn of its own: the search's deadline
        # bounds this pass too, and waiting for another costly search would fail a search
        # whose results are found.
        found, partial = self._collect(
            searched,
            "relevance",
            filter_query({}, date_from, date_to),
            False,
            started,
            limits,
            False,
            scored=False,
        )
        from index.vectored import ranked_docnums

        matches = ranked_docnums(found.top_n)
        reader = self.searcher.reader()
        allowed = {name: self._allowed(restriction) for name, restriction in chosen.items()}
        counts = {}
        for name in chosen:
            kept = matches
            for other, mask in allowed.items():
                if other != name:
                    kept = kept[mask[kept]]
            counts[name] = self.columns.facet(reader, name).counts(kept)
        return counts, partial

    def _allowed(self, restriction: wq.Query) -> np.ndarray:
        # Which documents a facet filter lets through, as a mask by document number.
        import numpy as np

        from index.columns import docnum_array

        def mask() -> tuple[np.ndarray, bool]:
            allowed = np.zeros(self.searcher.reader().doc_count_all(), dtype=bool)
            allowed[docnum_array(self.searcher.docs_for_query(restriction))] = True
            return allowed, False

        return self.columns.cached(restriction, mask)

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
        record["versions"] = [v.summary() for v in self.versions(doc_id) or []]
        return record

    def versions(self, doc_id: str) -> list[Version] | None:
        """Every version of an article, oldest first (the last is current); None if unknown."""
        doc = self.searcher.document(id=doc_id)
        return None if doc is None else history(doc)

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
        return [to_hit(h, snippets=False) for h in similar]

    def story_members(self, doc_id: str) -> list[StoryMember]:
        """The other articles of ``doc_id``'s story, oldest first, with the text they share."""
        return story_members(self.searcher, doc_id)

    def stats(self, path: Path | None = None) -> dict[str, Any]:
        """Article count, per-facet counts and, given the index path, size and last update."""
        results = self.searcher.search(wq.Every(), limit=1, groupedby=facet_groups())
        data: dict[str, Any] = {"articles": self.searcher.doc_count()}
        if path is not None:
            updated = last_update(path)
            data["size_bytes"] = index_size(path)
            data["last_update"] = (
                datetime.fromtimestamp(updated).isoformat(timespec="seconds") if updated else None
            )
        for name in FACET_FIELDS:
            data[name] = dict(top_values(results.groups(name), limit=None))
        return data
