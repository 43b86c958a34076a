"""Reading search parameters from a request, shared by the HTML pages and the JSON API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from werkzeug.datastructures import MultiDict

from index.schema import FACET_FIELDS
from index.settings import MAX_PAGE, SORTS

#: Filter values beyond this many per facet are ignored.
MAX_FILTER_VALUES = 20
MAX_FILTER_CHARS = 200

DATE_PARAMS = {"from": "start", "to": "end"}


@dataclass
class SearchParams:
    """A validated search request; ``errors`` lists what was wrong and has been ignored."""

    q: str = ""
    page: int = 1
    sort: str = "relevance"
    filters: dict[str, list[str]] = field(default_factory=dict)
    date_from: date | None = None
    date_to: date | None = None
    #: One hit per story (``collapse=0`` lists every near-copy); ``story`` lists one story.
    collapse: bool = True
    story: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def has_filters(self) -> bool:
        """Whether any facet or date filter narrows the search."""
        return bool(self.story or self.date_from or self.date_to or any(self.filters.values()))

    def search_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``ArchiveSearcher.search``."""
        return {
            "page": min(self.page, MAX_PAGE),
            "sort": self.sort,
            "filters": {**self.filters, "story": [self.story]} if self.story else self.filters,
            "date_from": self.date_from,
            "date_to": self.date_to,
        }

    def url_args(self, **changes: Any) -> dict[str, Any]:
        """The query-string arguments of this search, with ``changes`` applied.

        Defaults are left out so links stay short; a value of None removes an argument.
        """
        args: dict[str, Any] = {"q": self.q or None}
        args["sort"] = self.sort if self.sort != "relevance" else None
        args["from"] = self.date_from.isoformat() if self.date_from else None
        args["to"] = self.date_to.isoformat() if self.date_to else None
        for name in FACET_FIELDS:
            args[name] = list(self.filters.get(name, [])) or None
        args["story"] = self.story or None
        args["collapse"] = None if self.collapse else "0"
        args["page"] = self.page if self.page > 1 else None
        args.update(changes)
        return {k: v for k, v in args.items() if v not in (None, "", [])}


def parse_search_args(args: MultiDict[str, str]) -> SearchParams:
    """Validate query-string arguments; invalid ones are reported in ``errors`` and ignored."""
    params = SearchParams(q=args.get("q", "").strip())
    page = args.get("page", "").strip()
    if page:
        if page.isascii() and page.isdigit() and int(page) >= 1:
            # Beyond MAX_PAGE the value only matters as "past the end".
            params.page = min(int(page[:12]), 10**12)
        else:
            params.errors.append(f"Page {page[:20]!r} is not a positive whole number.")
    sort = args.get("sort", "").strip()
    if sort:
        if sort in SORTS:
            params.sort = sort
        else:
            params.errors.append(f"Unknown sort {sort[:20]!r}; choose one of {', '.join(SORTS)}.")
    for name, bound in DATE_PARAMS.items():
        raw = args.get(name, "").strip()
        if not raw:
            continue
        try:
            value = date.fromisoformat(raw) if len(raw) == 10 else None
        except ValueError:
            value = None
        if value is None:
            params.errors.append(
                f"The {bound} date {raw[:30]!r} is not a date like 2024-01-31; it was ignored."
            )
        elif name == "from":
            params.date_from = value
        else:
            params.date_to = value
    if params.date_from and params.date_to and params.date_from > params.date_to:
        params.errors.append("The start date is after the end date; the dates were ignored.")
        params.date_from = params.date_to = None
    collapse = args.get("collapse", "").strip()
    if collapse in ("0", "1"):
        params.collapse = collapse == "1"
    elif collapse:
        params.errors.append(f"collapse {collapse[:20]!r} is not 0 or 1; results were collapsed.")
    params.story = args.get("story", "").strip()[:MAX_FILTER_CHARS]
    for name in FACET_FIELDS:
        values: list[str] = []
        for given in args.getlist(name):
            given = given.strip()[:MAX_FILTER_CHARS]
            if given and given not in values:
                values.append(given)
        if values:
            params.filters[name] = values[:MAX_FILTER_VALUES]
    return params
