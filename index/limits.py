"""Bounds on what one query may cost: term expansion and search time."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from whoosh import collectors
from whoosh import query as wq
from whoosh.reading import IndexReader
from whoosh.searching import Searcher

from index.errors import QueryTooExpensive, SearchBusy
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
    #: A query reading more postings than this many per article is costly: costly
    #: searches take turns, so they cannot starve everyday ones of the CPU.
    costly_postings: float = 3.0


DEFAULT_LIMITS = QueryLimits()
#: One costly search at a time per process (a server's threads share one interpreter).
_COSTLY_TURN = threading.Lock()


def bound_query(query: wq.Query, reader: IndexReader, limits: QueryLimits) -> tuple[wq.Query, bool]:
    """The query with its expansions checked, and whether it is costly.

    Raises QueryTooExpensive when it expands past the limits.
    """
    budget = [limits.max_terms]
    postings = 0

    def visit(node: wq.Query) -> wq.Query:
        nonlocal postings
        if isinstance(node, wq.Every):
            # Every("text") reads every posting of the field; every article has a text.
            return wq.Every()
        if isinstance(node, wq.MultiTerm):
            words = _expansion(node, reader, limits, budget)
            postings += sum(_frequency(reader, node.field(), w) for w in words)
            return node
        if isinstance(node, wq.Term):
            postings += _frequency(reader, node.fieldname, node.text)
        elif isinstance(node, wq.Phrase):
            postings += sum(_frequency(reader, node.fieldname, w) for w in node.words)
        if node.is_leaf():
            return node
        return node.apply(visit)

    bounded = visit(query)
    return bounded, postings > limits.costly_postings * max(1, reader.doc_count())


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


class DeadlineCollector(collectors.WrappingCollector):
    """Stops a search once its deadline has passed, keeping the documents found so far.

    Unlike Whoosh's TimeLimitCollector it uses neither a timer thread nor SIGALRM (which
    only the main thread may handle, not a web server's workers), and a deadline already
    passed stops it right after the first match, deterministically.
    """

    def __init__(self, child: collectors.Collector, deadline: float) -> None:
        """Wrap ``child``; ``deadline`` is a ``time.perf_counter()`` value."""
        super().__init__(child)
        self.deadline = deadline
        self.collected = 0
        self.timed_out = False

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

    def _check(self) -> None:
        if self.collected and time.perf_counter() >= self.deadline:
            self.timed_out = True
            raise collectors.TimeLimit
