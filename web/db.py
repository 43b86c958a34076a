"""The index's readers, kept per app, and one searcher per request on ``flask.g``."""

from __future__ import annotations

import threading
from pathlib import Path

from flask import Flask, current_app, g

from index.reading import ReaderCache
from index.searcher import ArchiveSearcher

_READERS = "archive_readers"
_OPEN_LOCK = threading.Lock()


def index_dir() -> Path:
    """The index directory the current app serves."""
    return Path(current_app.config["INDEX_DIR"])


def get_searcher() -> ArchiveSearcher:
    """The request's searcher, opened on first use and closed at teardown.

    Raises IndexNotFound while there is no index, so an app started before the first
    'archive index' run starts serving as soon as the index exists.
    """
    if "searcher" not in g:
        g.searcher = _readers().searcher()
    return g.searcher


def _readers() -> ReaderCache:
    cache = current_app.extensions.get(_READERS)
    if cache is None:
        with _OPEN_LOCK:
            cache = current_app.extensions.setdefault(_READERS, ReaderCache(index_dir()))
    return cache


def close_searcher(exc: BaseException | None = None) -> None:
    """Close the request's searcher, if one was opened."""
    searcher = g.pop("searcher", None)
    if searcher is not None:
        searcher.close()


def init_app(app: Flask) -> None:
    """Register the searcher teardown with ``app``."""
    app.teardown_appcontext(close_searcher)
