"""Facets and filters over the exact-match fields: counts, restrictions, date order."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from datetime import time as dtime
from typing import Any

from whoosh import query as wq
from whoosh import sorting
from whoosh.reading import IndexReader

from index.schema import FACET_FIELDS
from index.settings import FACET_SIZE

UNDATED = 2**64 - 1  # the sort key Whoosh's date column gives a missing date
#: Values of a facet looked through for one that differs only in case from a missing value.
CASE_SCAN = 10_000


def facet_groups() -> dict[str, sorting.FacetType]:
    """A count of articles per value of every facet field."""
    return {name: sorting.FieldFacet(name, maptype=sorting.Count) for name in FACET_FIELDS}


def filter_query(
    filters: dict[str, list[str]], date_from: date | None, date_to: date | None
) -> wq.Query | None:
    """The restriction that facet filters and a date range put on a search, if any."""
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


def date_order(newest: bool) -> sorting.FacetType:
    """Sort by date, newest or oldest first, undated articles last."""
    date_facet = sorting.FieldFacet("date")
    if not newest:
        return date_facet
    # An undated article is stored with the column's maximum, which a plain reversed sort
    # would put first; keep undated articles last when listing the newest.
    return sorting.TranslateFacet(lambda key: 1 if key == UNDATED else -key, date_facet)


def missing_values(
    reader: IndexReader, query: wq.Query, filters: dict[str, list[str]]
) -> list[str]:
    """A note for each facet value, searched or filtered on, that no article has."""
    wanted = [
        (leaf.fieldname, leaf.text)
        for leaf in query.leaves()
        if isinstance(leaf, wq.Term) and leaf.fieldname in FACET_FIELDS
    ]
    for name, values in filters.items():
        wanted += [(name, v) for v in values if v and name in FACET_FIELDS]
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


def top_values(counts: dict[Any, int], limit: int | None = FACET_SIZE) -> list[tuple[str, int]]:
    """Facet values by count, most first, without the missing-value group."""
    # Articles with no value for a facet are grouped under None; they are not a choice.
    items = [(str(k), n) for k, n in counts.items() if k not in (None, "")]
    items.sort(key=lambda kv: (-kv[1], kv[0]))
    return items[:limit] if limit else items
