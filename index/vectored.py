"""The everyday query shape scored with numpy, hit for hit and score for score as Whoosh does.

Words over the default fields joined by AND and OR are what almost every search is. Whoosh
matches and scores them one posting at a time in Python, most of a search's time at 20,000
articles. Here each term's postings are arrays (index/postings.py), BM25F is computed over
them at once, AND and OR become array intersections and unions, and the matches are sorted
by score, then document number, as Whoosh's collector sorts them.

The scores are Whoosh's to the last bit: the same formula over the same stored weights and
lengths, the same global statistics (asked of the searcher), and additions grouped as
Whoosh's matcher trees group them (a tree built by posting-list size; an array of sums for
a long OR in a small segment when no current match is needed). Any other query (phrases,
wildcards, ranges, fuzzy terms, NOT, other fields, scoring options) returns None, and the
caller runs Whoosh.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np
from whoosh import query as wq
from whoosh.fields import Schema
from whoosh.reading import IndexReader
from whoosh.scoring import BM25F
from whoosh.searching import Results, Searcher

from index.postings import SegmentArrays

Term = tuple[str, bytes]


class Ranked(Sequence[tuple[Any, int]]):
    """Matches in rank order as arrays, read as Whoosh's (score, docnum) pairs."""

    def __init__(self, scores: np.ndarray | None, docnums: np.ndarray) -> None:
        """``scores`` (None when unscored) and ``docnums``, in rank order."""
        self.scores = scores
        self.docnums = docnums

    def __len__(self) -> int:
        return len(self.docnums)

    @overload
    def __getitem__(self, n: int) -> tuple[Any, int]: ...

    @overload
    def __getitem__(self, n: slice) -> list[tuple[Any, int]]: ...

    def __getitem__(self, n: int | slice) -> tuple[Any, int] | list[tuple[Any, int]]:
        if isinstance(n, slice):
            docnums = self.docnums[n].tolist()
            scores = [None] * len(docnums) if self.scores is None else self.scores[n].tolist()
            return list(zip(scores, docnums, strict=True))
        return (None if self.scores is None else float(self.scores[n]), int(self.docnums[n]))

    def take(self, positions: np.ndarray) -> Ranked:
        """The matches at ``positions``, in that order."""
        scores = None if self.scores is None else self.scores[positions]
        return Ranked(scores, self.docnums[positions])


def ranked_docnums(top_n: Sequence[tuple[Any, int]]) -> np.ndarray:
    """The document numbers of Whoosh's (score, docnum) pairs, in their order."""
    if isinstance(top_n, Ranked):
        return top_n.docnums
    return np.fromiter((docnum for _, docnum in top_n), dtype=np.int64, count=len(top_n))


def take(top_n: Sequence[tuple[Any, int]], positions: np.ndarray) -> Sequence[tuple[Any, int]]:
    """The pairs at ``positions``, in that order."""
    if isinstance(top_n, Ranked):
        return top_n.take(positions)
    return [top_n[i] for i in positions.tolist()]


def applies(top: Searcher, query: wq.Query) -> bool:
    """Whether ``search`` scores ``query`` over ``top`` (else it returns None)."""
    model = top.weighting
    return isinstance(model, BM25F) and not model.use_final and _words(query, top.schema)


def _words(query: wq.Query, schema: Schema) -> bool:
    # Words on indexed fields joined by AND and OR, with Whoosh's default OR matchers.
    kind = type(query)
    if kind is wq.Term:
        return (
            query.fieldname in schema
            and schema[query.fieldname].format is not None
            and isinstance(query.text, str)
        )
    if kind is wq.And:
        return all(_words(sub, schema) for sub in query.subqueries)
    if kind is wq.Or:
        return (
            not query.scale
            and not query.minmatch
            and query.matcher_type == wq.Or.AUTO_MATCHER
            and len(query.subqueries) < wq.Or.TOO_MANY_CLAUSES
            and all(_words(sub, schema) for sub in query.subqueries)
        )
    return False


@dataclass
class _Node:
    """One matcher of Whoosh's tree for a segment: its matches and their scores."""

    ids: np.ndarray
    scores: np.ndarray
    kind: str = "or"  # "term", "and" or "or"
    term: Term | None = None
    children: list[_Node] = field(default_factory=list)

    def terms_at(self, docnum: int) -> Iterator[Term]:
        """The terms whose matchers stand on ``docnum`` when this matcher matches it, in
        the order of Whoosh's ``term_matchers()`` (what its TermsCollector records)."""
        if self.kind != "or" and not _has(self.ids, docnum):
            return
        if self.term is not None:
            yield self.term
        for child in self.children:
            yield from child.terms_at(docnum)


_EMPTY = _Node(np.zeros(0, dtype=np.int64), np.zeros(0))


def _has(ids: np.ndarray, docnum: int) -> bool:
    i = int(np.searchsorted(ids, docnum))
    return i < len(ids) and int(ids[i]) == docnum


class OutOfTime(Exception):
    """The deadline passed while the arrays were read."""


#: How Whoosh combines a segment's matchers, leaves named by their place in the query:
#: ("term", n), ("empty",), ("and"|"or", a, b), ("sum", parts, boost), ("boost", a, boost).
Plan = tuple[Any, ...]


class _Segment:
    """Works out one segment's matcher tree, as Whoosh builds it, and its leaves' arrays.

    Segments whose trees have the same shape are then scored together (``_evaluate``): the
    shape, not the segment, decides in which order the scores are added.
    """

    def __init__(
        self,
        top: Searcher,
        leaf: IndexReader,
        offset: int,
        needs_current: bool,
        deadline: float,
        stats: dict[Any, float],
    ) -> None:
        self.top = top
        self.leaf = leaf
        self.offset = offset
        self.arrays = SegmentArrays(leaf)
        self.needs_current = needs_current
        self.deadline = deadline
        self.stats = stats
        self.deleted = self.arrays.deleted()
        #: Each term of the query in order: its matches (global numbers) and their scores.
        self.leaves: list[tuple[np.ndarray, np.ndarray]] = []

    def plan(self, query: wq.Query) -> tuple[Plan, int]:
        """The matcher tree Whoosh builds for ``query`` here, and the query's estimated
        size (``Query.estimate_size``, which orders Whoosh's matcher trees)."""
        if type(query) is wq.Term:
            return self._term(query)
        built = [self.plan(sub) for sub in query.subqueries]
        if not built:
            return ("empty",), 0
        sizes = [size for _, size in built]
        size = min(sizes) if type(query) is wq.And else min(sum(sizes), self.arrays.doc_count)
        if len(built) == 1:  # Whoosh uses the one part's matcher, boost and all
            return built[0][0], size
        if type(query) is wq.And:
            found = self._tree([(0 - s, n) for n, s in built], "and")
        elif len(built) == 2 or self.needs_current or self.arrays.doc_count_all > 5000:
            found = self._tree([(s, n) for n, s in built], "or")
        else:
            return ("sum", tuple(n for n, _ in built), query.boost), size
        if query.boost != 1.0:
            found = ("boost", found, query.boost)
        return found, size

    def _term(self, query: wq.Term) -> tuple[Plan, int]:
        if time.perf_counter() >= self.deadline:
            raise OutOfTime
        place = len(self.leaves)
        self.leaves.append((_EMPTY.ids, _EMPTY.scores))
        fieldname = query.fieldname
        try:
            btext = self.leaf.schema[fieldname].to_bytes(query.text)
        except ValueError:
            return ("empty",), 0
        ids, weights = self.arrays.postings(fieldname, btext)
        frequency = len(ids)  # what leaf.doc_frequency() would look up
        if not frequency:
            return ("empty",), 0
        if self.deleted is not None:
            kept = ~self.deleted[ids]
            ids, weights = ids[kept], weights[kept]
        scores = self._score(fieldname, btext, ids, weights.astype(np.float64))
        if query.boost != 1.0:
            scores = scores * query.boost
        self.leaves[place] = (ids.astype(np.int64) + self.offset, scores)
        return ("term", place, (fieldname, btext)), frequency

    def _score(
        self, fieldname: str, btext: bytes, ids: np.ndarray, weights: np.ndarray
    ) -> np.ndarray:
        # Whoosh's BM25FScorer, operation for operation; a field without lengths scores
        # by weight alone, as its WeightScorer does.
        model = self.top.weighting
        if not self.top.schema[fieldname].scorable:
            return weights
        assert isinstance(model, BM25F)
        b = model._field_B.get(fieldname, model.B)
        k1 = model.K1
        # Global statistics, the same in every segment: asked once per search.
        stats = self.stats
        if (fieldname, btext) not in stats:
            stats[fieldname, btext] = self.top.idf(fieldname, btext)
        if fieldname not in stats:
            stats[fieldname] = self.top.avg_field_length(fieldname) or 1
        idf = stats[fieldname, btext]
        avgfl = stats[fieldname]
        fl = self.arrays.lengths(fieldname)[ids]
        return idf * ((weights * (k1 + 1)) / (weights + k1 * ((1 - b) + b * fl / avgfl)))

    @staticmethod
    def _tree(items: list[tuple[int, Plan]], kind: str) -> Plan:
        # whoosh.util.make_weighted_tree: the two lightest parts joined first. Whoosh's
        # matchers never compare as less than one another, so ties keep their order.
        items = sorted(items, key=lambda item: item[0])
        while len(items) > 1:
            (wa, a), (wb, b) = items.pop(0), items.pop(0)
            bisect.insort(items, (wa + wb, (kind, a, b)), key=lambda item: item[0])
        return items[0][1]


def _evaluate(plan: Plan, leaves: list[tuple[np.ndarray, np.ndarray]]) -> _Node:
    """The matches and scores of ``plan`` over ``leaves`` (the same terms' arrays of one
    or more segments, side by side: segments hold disjoint document numbers)."""
    kind = plan[0]
    if kind == "term":
        ids, scores = leaves[plan[1]]
        return _Node(ids, scores, "term", plan[2])
    if kind == "empty":
        return _EMPTY
    if kind == "and":
        return _intersect(_evaluate(plan[1], leaves), _evaluate(plan[2], leaves))
    if kind == "or":
        return _union(_evaluate(plan[1], leaves), _evaluate(plan[2], leaves))
    if kind == "sum":
        return _summed([_evaluate(part, leaves) for part in plan[1]], plan[2])
    found = _evaluate(plan[1], leaves)  # "boost"
    return _Node(found.ids, found.scores * plan[2], found.kind, None, [found])


def _intersect(a: _Node, b: _Node) -> _Node:
    ids, ia, ib = np.intersect1d(a.ids, b.ids, assume_unique=True, return_indices=True)
    return _Node(ids, a.scores[ia] + b.scores[ib], "and", None, [a, b])


def _union(a: _Node, b: _Node) -> _Node:
    ids = np.union1d(a.ids, b.ids)
    scores = np.zeros(len(ids))
    ina = np.searchsorted(ids, a.ids)
    inb = np.searchsorted(ids, b.ids)
    scores[ina] = a.scores
    # A document both match scores a + b, in one addition as Whoosh's UnionMatcher adds.
    scores[inb] += b.scores
    return _Node(ids, scores, "or", None, [a, b])


def _summed(nodes: list[_Node], boost: float) -> _Node:
    # Whoosh's ArrayUnionMatcher: each part's scores times the boost, added part by part
    # in query order; only documents with a positive sum match.
    ids = np.unique(np.concatenate([n.ids for n in nodes]))
    scores = np.zeros(len(ids))
    for n in nodes:
        scores[np.searchsorted(ids, n.ids)] += n.scores * boost
    kept = scores > 0
    return _Node(ids[kept], scores[kept], "or", None, nodes)


class _MatchedTerms(Mapping[int, list[Term]]):
    """Whoosh's ``docterms`` (docnum to the terms matched there), worked out on demand."""

    def __init__(self, trees: list[_Node], docnums: np.ndarray) -> None:
        self.trees = trees
        self.docnums = np.sort(docnums)

    def __getitem__(self, docnum: int) -> list[Term]:
        if not _has(self.docnums, docnum):
            raise KeyError(docnum)
        tree = next(tree for tree in self.trees if _has(tree.ids, docnum))
        return list(tree.terms_at(docnum))

    def __iter__(self) -> Iterator[int]:
        return iter(self.docnums.tolist())

    def __len__(self) -> int:
        return len(self.docnums)


class _TermDocs(Mapping[Term, list[int]]):
    """Whoosh's ``termdocs`` (term to the documents it matched), worked out when read."""

    def __init__(self, docterms: _MatchedTerms) -> None:
        self.docterms = docterms
        self._found: dict[Term, list[int]] | None = None

    def _all(self) -> dict[Term, list[int]]:
        if self._found is None:
            found: dict[Term, list[int]] = {}
            for docnum, terms in self.docterms.items():
                for term in terms:
                    found.setdefault(term, []).append(docnum)
            self._found = found
        return self._found

    def __getitem__(self, term: Term) -> list[int]:
        return self._all()[term]

    def __iter__(self) -> Iterator[Term]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


def search(
    top: Searcher,
    query: wq.Query,
    *,
    allowed: np.ndarray | None,
    terms: bool,
    scored: bool,
    deadline: float,
) -> Results | None:
    """Every match of ``query`` as Whoosh's unlimited collector ranks them (by score, then
    document number; by document number when not ``scored``), restricted to the documents
    ``allowed`` (a mask by document number) if given, with each match's terms if asked.

    None when the query is not of the shape scored here or the deadline passed while its
    postings were read: the caller then searches with Whoosh.
    """
    if not applies(top, query):
        return None
    groups: dict[Plan, list[_Segment]] = {}
    stats: dict[Any, float] = {}
    try:
        for leaf, offset in top.reader().leaf_readers():
            segment = _Segment(top, leaf, offset, terms, deadline, stats)
            groups.setdefault(segment.plan(query)[0], []).append(segment)
    except OutOfTime:
        return None
    if not groups:
        return None
    trees = []
    for plan, segments in groups.items():
        leaves = [
            (
                np.concatenate([s.leaves[n][0] for s in segments]),
                np.concatenate([s.leaves[n][1] for s in segments]),
            )
            for n in range(len(segments[0].leaves))
        ]
        trees.append(_evaluate(plan, leaves))
    docnums = np.concatenate([tree.ids for tree in trees])
    scores = np.concatenate([tree.scores for tree in trees])
    if allowed is not None:
        kept = allowed[docnums]
        docnums, scores = docnums[kept], scores[kept]
    if scored:
        order = np.lexsort((docnums, -scores))
        ranked = Ranked(scores[order], docnums[order])
    else:
        ranked = Ranked(None, docnums)
    found = Results(top, query, ranked)
    found._total = len(ranked)
    if terms:
        found.docterms = _MatchedTerms(trees, docnums)
        found.termdocs = _TermDocs(found.docterms)
    return found
