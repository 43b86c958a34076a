"""The HTML pages: search, article and the OpenSearch description."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    make_response,
    render_template,
    request,
    url_for,
)
from markupsafe import Markup

from index.errors import QueryTooExpensive
from index.results import Results
from index.schema import FACET_FIELDS
from index.settings import MAX_PAGE, MAX_SHOWN_CHARS, PAGE_SIZE, SORTS
from index.timeline import TimeBucket
from web import costly
from web.changes import compare
from web.db import get_searcher
from web.params import SearchParams, parse_search_args

bp = Blueprint("pages", __name__)

FACET_LABELS = {"source": "Source", "author": "Author", "category": "Category", "year": "Year"}
SORT_LABELS = {"relevance": "Relevance", "newest": "Newest first", "oldest": "Oldest first"}
DOWNLOADS = (("Download CSV", "export.csv"), ("Download JSON Lines", "export.jsonl"))
#: Size of a timeline bar in SVG user units; the chart is scaled to the page by style.css.
BAR_WIDTH = 10
TIMELINE_HEIGHT = 60
#: Pages shown either side of the current one in the pager.
PAGER_WINDOW = 2


@dataclass
class FacetValue:
    """One clickable facet value."""

    value: str
    count: int | None
    selected: bool
    url: str


@dataclass
class Chip:
    """One active filter, with the link that removes it."""

    label: str
    value: str
    remove_url: str


@dataclass
class Bar:
    """One bar of the timeline chart, in SVG user units, linking to its date range."""

    label: str
    count: int
    url: str
    x: float
    y: float
    height: float


@dataclass
class PagerItem:
    """A page link in the pager; ``number`` None is a gap."""

    number: int | None
    url: str = ""
    current: bool = False


def search_url(params: SearchParams, **changes: Any) -> str:
    """URL of the search page for ``params`` with ``changes`` applied."""
    return url_for("pages.search", **params.url_args(**changes))


@bp.get("/")
def search() -> str:
    """The search page; an empty query lists the newest articles."""
    params = parse_search_args(request.args)
    limits = current_app.config["QUERY_LIMITS"]
    try:
        results = costly.search(
            params.q,
            limits=limits,
            timeline=True,
            collapse_stories=params.collapse,
            **params.search_kwargs(),
        )
    except QueryTooExpensive as exc:
        # The page still answers, with the query in its box to be narrowed.
        results = Results(
            query=params.q,
            total=0,
            page=1,
            pagelen=PAGE_SIZE,
            hits=[],
            took_ms=0.0,
            sort=params.sort,
            notes=[str(exc)],
        )
    notes = [*params.errors, *results.notes]
    page = max(results.page, 1)
    if params.page > page and results.total:
        notes.append(
            f"There {'is' if results.pages == 1 else 'are'} only {results.pages} "
            f"page{'' if results.pages == 1 else 's'} of results; showing the last."
        )
    # Links built from here on describe the page actually shown.
    params.page = page
    # Hits without dates cannot be put in date order: offer only relevance then.
    sorts = SORTS if results.timeline or not results.total else ("relevance",)
    if not results.timeline and results.total:
        notes.append("None of these articles has a date, so they cannot be sorted by date.")
    last = min(results.pages, MAX_PAGE)
    return render_template(
        "pages/search.html",
        params=params,
        results=results,
        notes=notes,
        page=page,
        doc_count=get_searcher().doc_count,
        facets=_facets(params, results),
        chips=_chips(params),
        sorts=[(s, SORT_LABELS[s], search_url(params, sort=s, page=None)) for s in sorts],
        timeline=_timeline(params, results.timeline),
        pager=_pager(params, page, last),
        story_urls={
            hit.id: search_url(params, story=hit.story, page=None)
            for hit in results.hits
            if (told := results.stories.get(hit.id)) and told.similar
        },
        collapse_url=search_url(params, collapse=None if not params.collapse else "0", page=None),
        pager_prev=search_url(params, page=page - 1 if page > 2 else None) if page > 1 else None,
        pager_next=search_url(params, page=page + 1) if page < last else None,
        corrected_url=(
            search_url(params, q=results.corrected, page=None) if results.corrected else None
        ),
        clear_url=search_url(SearchParams(q=params.q, sort=params.sort)),
        # Downloads hold every hit, so the page number is left out.
        downloads=[
            (label, url_for(endpoint, **params.url_args(page=None)))
            for label, endpoint in DOWNLOADS
        ],
        facet_labels=FACET_LABELS,
        bar_width=BAR_WIDTH,
        timeline_height=TIMELINE_HEIGHT,
    )


@bp.get("/articles/<path:article_id>")
def article(article_id: str) -> str:
    """One article: metadata, summary, marked full text and similar articles."""
    searcher = get_searcher()
    doc = searcher.document(article_id)
    if doc is None:
        abort(404, description=f"There is no article with the id “{article_id}”.")
    q = request.args.get("q", "").strip()
    marker = searcher.marker(q, current_app.config["QUERY_LIMITS"])
    sentences = list(doc.get("summary_sentences") or [])
    url = doc.get("url") or ""
    text = doc.get("text") or ""
    # A browser page of many megabytes helps nobody; the API still returns the whole text.
    shown = text[:MAX_SHOWN_CHARS]
    versions = searcher.versions(article_id) or []
    return render_template(
        "pages/article.html",
        doc=doc,
        q=q,
        # The marker escapes the article's text and adds only its own marks.
        title=Markup(marker.title(doc.get("title") or article_id)),
        paragraphs=[Markup(p) for p in marker.paragraphs(shown, sentences)],
        cut_at=MAX_SHOWN_CHARS if len(shown) < len(text) else None,
        total_chars=len(text),
        sentences=sentences,
        # Only web links: a stored "javascript:" URL must never become a clickable link.
        source_url=url if url.lower().startswith(("http://", "https://")) else None,
        similar=searcher.more_like(article_id, top=5),
        versions=versions,
        changes=compare(versions, request.args),
        members=searcher.story_members(article_id),
    )


@bp.get("/opensearch.xml")
def opensearch() -> Response:
    """The OpenSearch description, so browsers can add the archive as a search engine."""
    base = current_app.config["BASE_URL"].rstrip("/")
    body = render_template("pages/opensearch.xml", base=base)
    response = make_response(body)
    response.mimetype = "application/opensearchdescription+xml"
    return response


def _facets(params: SearchParams, results: Results) -> dict[str, list[FacetValue]]:
    facets: dict[str, list[FacetValue]] = {}
    for name in FACET_FIELDS:
        chosen = params.filters.get(name, [])
        values = []
        counts = dict(results.facets.get(name, []))
        # Chosen values stay listed (so they can be unticked) even when off the top list.
        for value in [*counts, *(v for v in chosen if v not in counts)]:
            selected = value in chosen
            new = [v for v in chosen if v != value] if selected else [*chosen, value]
            url = search_url(params, **{name: new or None, "page": None})
            values.append(FacetValue(value, counts.get(value), selected, url))
        if values:
            facets[name] = values
    return facets


def _timeline(params: SearchParams, buckets: list[TimeBucket]) -> list[Bar]:
    if len(buckets) < 2:
        return []  # one bar says nothing the result count does not
    tallest = max(b.count for b in buckets)
    bars = []
    for i, bucket in enumerate(buckets):
        url = search_url(params, **{"from": bucket.start, "to": bucket.end, "page": None})
        height = round(TIMELINE_HEIGHT * bucket.count / tallest, 1) if tallest else 0
        # An empty bucket keeps a sliver so there is something to click.
        height = max(height, 1.0)
        x = i * BAR_WIDTH
        bars.append(Bar(bucket.label, bucket.count, url, x, TIMELINE_HEIGHT - height, height))
    return bars


def _chips(params: SearchParams) -> list[Chip]:
    # Removing a filter changes the result set, so the page number no longer applies.
    chips = []
    for name in FACET_FIELDS:
        chosen = params.filters.get(name, [])
        for value in chosen:
            rest = [v for v in chosen if v != value] or None
            url = search_url(params, **{name: rest, "page": None})
            chips.append(Chip(FACET_LABELS[name], value, url))
    if params.story:
        chips.append(Chip("Story", params.story, search_url(params, story=None, page=None)))
    if params.date_from:
        url = search_url(params, **{"from": None, "page": None})
        chips.append(Chip("From", params.date_from.isoformat(), url))
    if params.date_to:
        url = search_url(params, to=None, page=None)
        chips.append(Chip("To", params.date_to.isoformat(), url))
    return chips


def _pager(params: SearchParams, page: int, pages: int) -> list[PagerItem]:
    if pages <= 1:
        return []
    wanted = {1, pages, *range(page - PAGER_WINDOW, page + PAGER_WINDOW + 1)}
    items: list[PagerItem] = []
    previous = 0
    for number in sorted(n for n in wanted if 1 <= n <= pages):
        if number > previous + 1:
            items.append(PagerItem(None))
        items.append(PagerItem(number, search_url(params, page=number), number == page))
        previous = number
    return items
