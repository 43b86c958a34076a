"""What a search returns: ranked hits and a page of results, shaped for JSON and templates."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from datetime import time as dtime
from typing import Any

from whoosh.searching import Hit as WhooshHit

from index.highlight import lead, snippet
from index.timeline import TimeBucket


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
    #: The id of the story (group of near-copies) the article belongs to.
    story: str = ""


@dataclass(frozen=True)
class StoryHit:
    """The other matching members of its story a collapsed hit stands for."""

    similar: int = 0
    sources: int = 0


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
    #: Hits per day, month or year, when the search was asked for a timeline.
    timeline: list[TimeBucket] = field(default_factory=list)
    #: Whether hits were collapsed by story; then ``total`` counts stories, ``articles`` the
    #: articles that matched (facets and the timeline count articles).
    collapsed: bool = False
    articles: int = 0
    #: By hit id, the other matching members of its story each collapsed hit stands for.
    stories: dict[str, StoryHit] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        """Number of result pages."""
        return max(1, -(-self.total // self.pagelen))

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape shared by the CLI and the web API."""
        # Field by field instead of dataclasses.asdict, whose deep copy of every facet
        # value and timeline bucket was a sixth of an API search's time.
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "stories"}
        data["notes"] = list(self.notes)
        data["timeline"] = [dict(vars(bucket)) for bucket in self.timeline]
        data["facets"] = {
            name: [{"value": v, "count": c} for v, c in values]
            for name, values in self.facets.items()
        }
        data["pages"] = self.pages
        data["hits"] = []
        for hit in self.hits:
            told = self.stories.get(hit.id) or StoryHit()
            data["hits"].append(dict(vars(hit), similar=told.similar, similar_sources=told.sources))
        return data


def format_date(value: datetime | None) -> str | None:
    """ISO date, with the time only when the article has one."""
    if value is None:
        return None
    if value.time() == dtime(0, 0):
        return value.date().isoformat()
    return value.isoformat(timespec="minutes")


def to_hit(hit: WhooshHit, snippets: bool) -> Hit:
    """A Whoosh hit as a result: its fields, score, and a snippet (or the text's lead)."""
    # The stored fields only: whoosh3's Hit.get falls back to a field's column, where an
    # undated article has a placeholder that is no date (OverflowError).
    stored = hit.fields()
    return Hit(
        id=stored["id"],
        title=stored.get("title", ""),
        author=stored.get("author", ""),
        date=format_date(stored.get("date")),
        source=stored.get("source", ""),
        category=stored.get("category", ""),
        url=stored.get("url", ""),
        score=round(hit.score, 4) if hit.score is not None else None,
        snippet=snippet(hit) if snippets else lead(stored.get("text", "")),
        summary=stored.get("summary", ""),
        story=stored.get("story", ""),
    )
