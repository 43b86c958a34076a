"""The JSON API: search results and articles, with JSON errors."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, request
from werkzeug.wrappers import Response

from index.settings import MAX_PAGE, MAX_PAGE_SIZE, PAGE_SIZE
from web import costly
from web.db import get_searcher
from web.params import parse_search_args

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/search")
def search() -> Response:
    """One page of results, facets and timeline included, as ``Results.to_dict()``."""
    params = parse_search_args(request.args)
    if params.errors:
        abort(400, description=" ".join(params.errors))
    page_size = _page_size(request.args.get("page_size", "").strip())
    limits = current_app.config["QUERY_LIMITS"]
    results = costly.search(
        params.q,
        pagelen=page_size,
        limits=limits,
        timeline=True,
        collapse_stories=params.collapse,
        **params.search_kwargs(),
    )
    # A search stopped by its time limit may not have reached the page: not an error.
    short = results.page < params.page and not results.partial
    if params.page > 1 and (params.page > MAX_PAGE or short):
        abort(400, description=f"Page {params.page} is past the last page ({results.pages}).")
    return jsonify(results.to_dict())


def _page_size(raw: str) -> int:
    """The ``page_size`` argument, PAGE_SIZE when absent; aborts with 400 outside the range."""
    if not raw:
        return PAGE_SIZE
    # Checked by length first: int() of a huge digit string is slow.
    if raw.isascii() and raw.isdigit() and len(raw) <= 3 and 1 <= int(raw) <= MAX_PAGE_SIZE:
        return int(raw)
    abort(
        400,
        description=(
            f"page_size {raw[:20]!r} is out of range: "
            f"give a whole number from 1 to {MAX_PAGE_SIZE}."
        ),
    )


@bp.get("/articles/<path:article_id>")
def article(article_id: str) -> Response:
    """One article with its summary."""
    data = get_searcher().article(article_id)
    if data is None:
        abort(404, description=f"No article has the id {article_id!r}.")
    return jsonify(data)


@bp.get("/articles/<path:article_id>/versions/<int:number>")
def version(article_id: str, number: int) -> Response:
    """One version of an article, numbered from 1 (the oldest), with its text."""
    versions = get_searcher().versions(article_id)
    if versions is None:
        abort(404, description=f"No article has the id {article_id!r}.")
    if not 1 <= number <= len(versions):
        abort(404, description=f"Article {article_id!r} has no version {number}.")
    return jsonify(versions[number - 1].to_dict())
