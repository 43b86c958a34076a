"""Downloads of every hit of a search, as CSV or JSON Lines, streamed as they are written."""

from __future__ import annotations

import dataclasses

from flask import Blueprint, Response, abort, current_app, request, stream_with_context

from index.errors import SearchTimedOut
from index.export import MEDIA_TYPES, WRITERS
from index.settings import EXPORT_TIME_LIMIT
from web.db import get_searcher
from web.params import parse_search_args

bp = Blueprint("export", __name__)


@bp.get("/export.csv")
def csv() -> Response:
    """Every hit of the search in the query string, as CSV."""
    return _download("csv")


@bp.get("/export.jsonl")
def jsonl() -> Response:
    """Every hit of the search in the query string, as JSON Lines."""
    return _download("jsonl")


def _download(fmt: str) -> Response:
    params = parse_search_args(request.args)
    if params.errors:
        abort(400, description=" ".join(params.errors))
    limits = dataclasses.replace(current_app.config["QUERY_LIMITS"], time_limit=EXPORT_TIME_LIMIT)
    kwargs = params.search_kwargs()
    del kwargs["page"]  # an export has every page
    try:
        # The search runs here, so a refused query is an error page, not a broken download.
        hits = get_searcher().iter_hits(params.q, limits=limits, **kwargs)
    except SearchTimedOut as exc:
        abort(503, description=str(exc))
    response = Response(stream_with_context(WRITERS[fmt](hits)), content_type=MEDIA_TYPES[fmt])
    response.headers["Content-Disposition"] = f"attachment; filename=search-results.{fmt}"
    return response
