"""Bounds on what one query may cost: term expansion and search time."""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from whoosh import collectors, matching
from whoosh import query as wq
from whoosh.reading import IndexReader
from whoosh.searching import Searcher

from index.errors import QueryTooExpensive, SearchBusy
from index.parsing import drop_edge_question_marks
from index.settings import TIME_LIMIT

_WILDCARDS = "*?"


@dataclass(frozen=True)
class QueryLimits:
    """How much work one search may do before it is refused or cut short."""

    #: Words that wildcards, prefixes and ranges may expand to, summed over the query.
    max_terms: int = 300
    #: Letters a wildcard needs before its first * or ?: a leading wildcard scans every word.
    min_prefix: int = 2
    #: Seconds of matching after which the results found so far are returned.
    time_limit: float = TIME_LIMIT
    #: A query reading more postings than this many per article, or than ``costly_reads``
    #: in all, is costly: costly searches take turns (a web server runs them in a process
    #: of their own), so they cannot starve everyday ones of the CPU.
    costly_postings: float = 3.0
    #: Time goes with the postings read, whatever the index's size. On 20,000 BBC
    #: articles an everyday word reads up to about 5,000 ("government"), "said" 17,000.
    costly_reads: int = 10_000
    #: Distinct words (terms, phrase words, wildcards) a query may have. Every word adds a
    #: posting list to every matched article's score, and a query no article fully matches
    #: is relaxed to an OR of all of them; the longest Cranfield query has 37.
    max_words: int = 40
    #: Words a query may have and still count as everyday by its text alone (see
    #: ``may_be_costly``); pasted questions are rarely longer.
    plain_words: int = 16


DEFAULT_LIMITS = QueryLimits()
#: Syntax that expands to many words or reads many postings: wildcards, fuzzy terms, ranges.
_EXPANDING = re.compile(r"[*?~\[\]{}]|\bTO\b")
#: One costly search at a time per process (a server's threads share one interpreter).
_COSTLY_TURN = threading.Lock()


def bound_query(query: wq.Query, reader: IndexReader, limits: QueryLimits) -> tuple[wq.Query, bool]:
    """The query with its expansions checked, and whether it is costly.

    Raises QueryTooExpensive when it expands past the limits.
    """
    budget = [limits.max_terms]
    postings = 0
    words: set[tuple[str, Any]] = set()

    def visit(node: wq.Query) -> wq.Query:
        nonlocal postings
        if isinstance(node, wq.Every):
            # Every("text") reads every posting of the field; every article has a text.
            # The empty query (the newest articles, the front page) is never costly.
            if node.fieldname is not None:
                postings += reader.doc_count()
            return wq.Every()
        if isinstance(node, wq.MultiTerm):
            words.add(("wildcard", _describe(node)))
            expanded = _expansion(node, reader, limits, budget)
            postings += sum(_frequency(reader, node.field(), w) for w in expanded)
            return node
        if isinstance(node, wq.Term):
            words.add(("word", node.text))
            postings += _frequency(reader, node.fieldname, node.text)
        elif isinstance(node, wq.Phrase):
            words.update(("word", w) for w in node.words)
            postings += sum(_frequency(reader, node.fieldname, w) for w in node.words)
        if node.is_leaf():
            return node
        return node.apply(visit)

    bounded = visit(query)
    if len(words) > limits.max_words:
        raise QueryTooExpensive(
            f"The query has {len(words)} different words; at most {limits.max_words} are "
            "searched at once: keep the most telling ones."
        )
    costly = min(limits.costly_postings * max(1, reader.doc_count()), limits.costly_reads)
    return bounded, postings > costly


def may_be_costly(text: str, limits: QueryLimits = DEFAULT_LIMITS) -> bool:
    """Whether the text of a query, not parsed, may make it costly or refused.

    A few microseconds instead of parsing and counting a wildcard's words, which can take
    tens of milliseconds: a server can send such queries on without doing either itself.
    A query it passes may still be costly by the postings its words read.
    """
    text = text.strip()
    if text in ("", "*"):  # the newest articles
        return False
    text = drop_edge_question_marks(text)
    return bool(_EXPANDING.search(text)) or len(text.split()) > limits.plain_words


def _frequency(reader: IndexReader, fieldname: str | None, text: object) -> int:
    # Odd syntax such as "0(^0)" parses to a term on no field, which matches nothing.
    return reader.doc_frequency(fieldname, text) if fieldname in reader.schema else 0


@contextmanager
def costly_turn(costly: bool) -> Iterator[None]:
    """Run a costly search only while no other runs; raises SearchBusy rather than wait.

    Waiting would hold one of the server's threads per queued request, and a few clients
    sending costly queries would then keep everyday searches waiting for a thread.
    """
    if not costly:
        yield
        return
    if not _COSTLY_TURN.acquire(blocking=False):
        raise SearchBusy(
            "Another costly search is running; try again in a moment or make the query "
            "more specific."
        )
    try:
        yield
    finally:
        _COSTLY_TURN.release()


def _expansion(
    node: wq.MultiTerm, reader: IndexReader, limits: QueryLimits, budget: list[int]
) -> list[Any]:
    shown = _describe(node)
    if isinstance(node, wq.PatternQuery):
        literal = len(node.text) if isinstance(node, wq.Prefix) else _literal_prefix(node.text)
        if literal < limits.min_prefix:
            raise QueryTooExpensive(
                f"The wildcard {shown} needs at least {limits.min_prefix} letters before "
                "its first * or ?."
            )
    # Counting stops one past the budget, so the check costs no more than the search may.
    words = list(itertools.islice(node._btexts(reader), budget[0] + 1))
    budget[0] -= len(words)
    if budget[0] < 0:
        raise QueryTooExpensive(
            f"The query matches more than {limits.max_terms:,} different words "
            f"(too many from {shown}); make the wildcards or ranges more specific."
        )
    return words


def _literal_prefix(pattern: str) -> int:
    return min((pattern.index(c) for c in _WILDCARDS if c in pattern), default=len(pattern))


def _describe(node: wq.MultiTerm) -> str:
    if isinstance(node, wq.TermRange):
        return f"the range [{node.start or ''} TO {node.end or ''}]"
    star = "*" if isinstance(node, wq.Prefix) else ""
    return f"“{getattr(node, 'text', node)}{star}”"


#: Posting-list moves between two looks at the clock (a look costs about as much as a move).
CHECK_EVERY = 256


class DeadlineCollector(collectors.WrappingCollector):
    """Stops a search once its deadline has passed, keeping the documents found so far.

    Unlike Whoosh's TimeLimitCollector it uses neither a timer thread nor SIGALRM (which
    only the main thread may handle, not a web server's workers), and a deadline already
    passed stops it right after the first match, deterministically. A query that needs
    several words at once (AND, phrases) can read many postings between two matches, or
    find none at all: its posting lists check the time every ``check_every`` moves.
    """

    def __init__(
        self, child: collectors.Collector, deadline: float, check_every: int = CHECK_EVERY
    ) -> None:
        """Wrap ``child``; ``deadline`` is a ``time.perf_counter()`` value."""
        super().__init__(child)
        self.deadline = deadline
        self.check_every = check_every
        self.moves = 0
        self.collected = 0
        self.timed_out = False

    def prepare(self, top_searcher: Searcher, q: wq.Query, context: Any) -> None:
        self.query = q
        timed = _timed_leaves(q, self) if _intersects(q) else q
        super().prepare(top_searcher, timed, context)

    def set_subsearcher(self, subsearcher: Searcher, offset: int) -> None:
        # Building a segment's matcher is work too: stop before it once out of time.
        self._check()
        super().set_subsearcher(subsearcher, offset)

    def collect(self, sub_docnum: int) -> Any:
        # Checked before collecting, so the wrapping collectors (facets, terms) never
        # count a document the results leave out.
        self._check()
        self.collected += 1
        return self.child.collect(sub_docnum)

    def results(self) -> Any:
        # The results name the user's query, not its time-checking copy (snippets use it).
        results = self.child.results()
        results.q = self.query
        return results

    def moved(self) -> None:
        """Count one move along a posting list; stop the search when out of time."""
        self.moves += 1
        if self.moves % self.check_every == 0 and time.perf_counter() >= self.deadline:
            # Nothing matched since the last check: there is nothing to keep waiting for.
            self.timed_out = True
            raise collectors.TimeLimit

    def _check(self) -> None:
        if self.collected and time.perf_counter() >= self.deadline:
            self.timed_out = True
            raise collectors.TimeLimit


class _TimedQuery(wq.WrappingQuery):
    """A leaf of the query whose matcher reports each move to the deadline."""

    def __init__(self, child: wq.Query, deadline: DeadlineCollector) -> None:
        super().__init__(child)
        self.deadline = deadline

    def _rewrap(self, child: wq.Query) -> wq.Query:
        return _TimedQuery(child, self.deadline)

    def matcher(self, searcher: Searcher, context: Any = None) -> matching.Matcher:
        return _TimedMatcher(self.child.matcher(searcher, context), self.deadline)


class _TimedMatcher(matching.WrappingMatcher):
    def __init__(
        self, child: matching.Matcher, deadline: DeadlineCollector, boost: float = 1.0
    ) -> None:
        super().__init__(child, boost)
        self.deadline = deadline

    def copy(self) -> matching.Matcher:
        return _TimedMatcher(self.child.copy(), self.deadline, self.boost)

    def _replacement(self, newchild: matching.Matcher) -> matching.Matcher:
        return _TimedMatcher(newchild, self.deadline, self.boost)

    def next(self) -> Any:
        self.deadline.moved()
        return self.child.next()

    def skip_to(self, id: int) -> Any:
        self.deadline.moved()
        return self.child.skip_to(id)


def _intersects(query: wq.Query) -> bool:
    """Whether the query can skip postings that match nothing (only unions cannot)."""
    if query.is_leaf():
        return isinstance(query, wq.Phrase)
    if not isinstance(query, (wq.Or, wq.DisjunctionMax)):
        return True
    return any(_intersects(sub) for sub in query.children())


def _timed_leaves(query: wq.Query, deadline: DeadlineCollector) -> wq.Query:
    if query.is_leaf():
        return _TimedQuery(query, deadline)
    return query.apply(lambda sub: _timed_leaves(sub, deadline))
