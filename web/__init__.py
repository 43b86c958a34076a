"""The Flask search interface over the index package."""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask, Response, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError, NotFound

from index.errors import IndexNotFound, QueryTooExpensive, SearchBusy, SearchIndexError
from index.limits import DEFAULT_LIMITS
from web import api, db, export, pages

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
#: Pages and API answers change with every index commit and may name what a reader
#: searched for: no browser or proxy keeps them. Static files keep Flask's caching.
CACHE_CONTROL = "no-store"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the web app; ``INDEX_DIR`` names the index to serve."""
    app = Flask(__name__)
    app.config.from_mapping(
        INDEX_DIR=os.environ.get("ARCHIVE_INDEX_DIR") or os.path.join(app.instance_path, "index"),
        SITE_NAME="News Archive",
        # Absolute URLs (the OpenSearch description) start with this, never with the
        # request's Host header; unset, they are paths on the site that served them.
        BASE_URL=os.environ.get("ARCHIVE_BASE_URL", ""),
        QUERY_LIMITS=DEFAULT_LIMITS,
    )
    if config:
        app.config.update(config)
    # Keep the field order of Results.to_dict(), the shape the CLI prints too.
    app.json.sort_keys = False  # type: ignore[attr-defined]
    # UTF-8 as written (£, not \u00a3): smaller, and readable by people as well as parsers.
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    db.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(export.bp)
    app.after_request(_security_headers)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(IndexNotFound, _index_missing)
    app.register_error_handler(QueryTooExpensive, _query_refused)
    app.register_error_handler(SearchBusy, _busy)
    app.register_error_handler(SearchIndexError, _index_error)
    app.register_error_handler(Exception, _unexpected_error)
    return app


def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", CACHE_CONTROL)
    return response


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, message: str, template: str = "pages/error.html") -> Any:
    """An error as JSON under /api/ and as an HTML page elsewhere."""
    if _wants_json():
        return jsonify(error={"status": status, "message": message}), status
    return render_template(template, status=status, message=message), status


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    message = exc.description or exc.name
    if status == 404 and message == NotFound.description:
        message = "There is no page at this address."
    response = make_response(error_response(status, message))
    for name, value in exc.get_headers():
        if name.lower() == "allow":  # a 405 must say which methods are allowed
            response.headers[name] = value
    return response


def _index_missing(exc: IndexNotFound) -> Any:
    return error_response(503, str(exc), template="pages/no_index.html")


def _query_refused(exc: QueryTooExpensive) -> Any:
    return error_response(400, str(exc))


def _busy(exc: SearchBusy) -> Response:
    response = make_response(error_response(503, str(exc)))
    response.headers["Retry-After"] = "1"
    return response


def _index_error(exc: SearchIndexError) -> Any:
    return error_response(503, f"The archive index cannot be read: {exc}")


def _unexpected_error(exc: Exception) -> Any:
    # A bug must still produce the app's own page (with its security headers), not a trace.
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    logging.getLogger(__name__).exception("unexpected error", exc_info=exc)
    return error_response(500, InternalServerError.description)
