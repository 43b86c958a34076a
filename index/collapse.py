"""One hit per story: the best-ranked member of each group of near-copies stands for it, with
how many similar articles (and from how many sources) it stands for."""

from __future__ import annotations

import copy
from bisect import bisect_right
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from whoosh import query as wq
from whoosh.reading import IndexReader
from whoosh.searching import Results as WhooshResults
from whoosh.searching import Searcher

from index.results import StoryHit, format_date

if TYPE_CHECKING:
    import numpy as np

    from index.columns import FacetColumns

#: Members of a story an article page lists (each costs a signature of its text).
MAX_MEMBERS = 50


@dataclass(frozen=True)
class StoryMember:
    """Another article of the same story, with the share of text it has in common."""

    id: str
    title: str
    source: str
    date: str | None
    share: float


def story_members(searcher: Searcher, doc_id: str) -> list[StoryMember]:
    """The other members of an article's story, oldest first, with their shared text."""
    # numpy only here: searching from the command line must not pay for importing it.
    from index.shingles import signature, similarity

    doc = searcher.document(id=doc_id)
    if not doc or not doc.get("story"):
        return []
    mine = signature(doc.get("text") or "")
    members = []
    for hit in searcher.search(wq.Term("story", doc["story"]), limit=MAX_MEMBERS + 1):
        if hit["id"] == doc_id:
            continue
        theirs = signature(hit.get("text") or "")
        share = similarity(mine, theirs) if mine is not None and theirs is not None else 0.0
        date = format_date(hit.get("date"))
        members.append(
            StoryMember(hit["id"], hit.get("title", ""), hit.get("source", ""), date, share)
        )
    members.sort(key=lambda m: (m.date or "~", m.id))
    return members[:MAX_MEMBERS]


def story_filter(restrict: wq.Query | None, filters: dict[str, list[str]]) -> wq.Query | None:
    """``restrict`` narrowed to the story named in ``filters`` (``story``), if any."""
    story = [s for s in filters.get("story", []) if s]
    if not story:
        return restrict
    term = wq.Term("story", story[0])
    return term if restrict is None else wq.And([restrict, term])


def collapse(
    found: WhooshResults, reader: IndexReader, columns: FacetColumns | None
) -> tuple[WhooshResults, Mapping[int, StoryHit]]:
    """The hits with all but the best of each story removed, and what each kept hit stands for.

    The result's length (Whoosh's total) is then the number of stories matched, so pages and
    totals count what is listed. Articles without a story are never collapsed. Stories and
    sources come from ``columns`` (arrays by document number) when given, else from each
    match's column values (no numpy: what a one-off command pays for).
    """
    if "story" not in reader.schema:
        return found, {}
    if columns is None:
        return _collapse_each(found, reader)
    import numpy as np

    from index.vectored import ranked_docnums, take

    docnums = ranked_docnums(found.top_n)
    story = columns.facet(reader, "story")
    source = columns.facet(reader, "source")
    codes = story.codes[docnums]
    grouped = np.flatnonzero(story.named[codes])  # rank positions of articles in a story
    stories, first, counts = np.unique(codes[grouped], return_index=True, return_counts=True)
    heads = grouped[first]  # each story's best-ranked member
    keep = np.ones(len(docnums), dtype=bool)
    keep[grouped] = False
    keep[heads] = True
    shown = copy.copy(found)
    shown.top_n = take(found.top_n, np.flatnonzero(keep))
    shown._total = int(keep.sum())  # Whoosh would count the matches, not the stories
    # The distinct named sources among each story's other members.
    others = grouped[~keep[grouped]]
    named = source.codes[docnums[others]]
    kept = source.named[named]
    pairs = np.unique(codes[others][kept].astype(np.int64) * len(source.values) + named[kept])
    sources = np.bincount(pairs // len(source.values), minlength=len(story.values))
    return shown, _Stories(docnums[heads], counts - 1, sources[stories])


def _collapse_each(
    found: WhooshResults, reader: IndexReader
) -> tuple[WhooshResults, dict[int, StoryHit]]:
    # ``collapse`` match by match.
    stories = _column(reader, "story")
    sources = _column(reader, "source")
    kept: list[tuple[float, int]] = []
    heads: dict[str, int] = {}
    others: dict[int, list[int]] = {}
    for item in found.top_n:
        docnum = item[1]
        story = stories(docnum)
        if story and story in heads:
            others[heads[story]].append(docnum)
            continue
        if story:
            heads[story] = docnum
            others[docnum] = []
        kept.append(item)
    shown = copy.copy(found)
    shown.top_n = kept
    shown._total = len(kept)  # Whoosh would count the matches, not the stories
    info = {}
    for docnum in heads.values():
        members = others[docnum]
        named = {sources(n) for n in members} - {""}
        info[docnum] = StoryHit(len(members), len(named))
    return shown, info


def _column(reader: IndexReader, name: str) -> Callable[[int], str]:
    """A field's column value by document number, read segment by segment.

    Whoosh's multi-segment column reader fails (IndexError) when a segment lacks the
    column, as segments written while an index gains a field, or mid-merge, can.
    """
    leaves = reader.leaf_readers()
    offsets = [offset for _, offset in leaves]
    columns = [leaf.column_reader(name) if leaf.has_column(name) else None for leaf, _ in leaves]

    def value(docnum: int) -> str:
        i = bisect_right(offsets, docnum) - 1
        column = columns[i]
        return column[docnum - offsets[i]] if column is not None else ""

    return value


class _Stories(Mapping[int, StoryHit]):
    """What each kept head of a story stands for, by its document number."""

    def __init__(self, heads: np.ndarray, similar: np.ndarray, sources: np.ndarray) -> None:
        order = heads.argsort()
        self.heads = heads[order]
        self.similar = similar[order]
        self.sources = sources[order]

    def __getitem__(self, docnum: int) -> StoryHit:
        i = int(self.heads.searchsorted(docnum))
        if i == len(self.heads) or self.heads[i] != docnum:
            raise KeyError(docnum)
        return StoryHit(int(self.similar[i]), int(self.sources[i]))

    def __iter__(self) -> Iterator[int]:
        return iter(self.heads.tolist())

    def __len__(self) -> int:
        return len(self.heads)
