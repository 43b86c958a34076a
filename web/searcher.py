"""The index, opened once per app, and one searcher per request on ``flask.g``."""

from __future__ import annotations

import threading
from pathlib import Path

from flask import Flask, current_app, g
from whoosh.index import FileIndex

from index.searcher import ArchiveSearcher, ReaderCache
from index.store import open_index

_EXTENSION = "archive_index"
_READERS = "archive_readers"
_OPEN_LOCK = threading.Lock()


def index_dir() -> Path:
    """The index directory the current app serves."""
    return Path(current_app.config["INDEX_DIR"])


def get_index() -> FileIndex:
    """The app's index, opened on first use; raises IndexNotFound while there is none."""
    ix = current_app.extensions.get(_EXTENSION)
    if ix is None:
        # Opened lazily and retried on each request, so an app started before the first
        # 'archive index' run starts serving as soon as the index exists.
        with _OPEN_LOCK:
            ix = current_app.extensions.get(_EXTENSION)
            if ix is None:
                ix = open_index(index_dir())
                current_app.extensions[_EXTENSION] = ix
    return ix


def get_searcher() -> ArchiveSearcher:
    """The request's searcher, opened on first use and closed at teardown."""
    if "searcher" not in g:
        g.searcher = _readers().searcher()
    return g.searcher


def _readers() -> ReaderCache:
    ix = get_index()
    cache = current_app.extensions.get(_READERS)
    if cache is None or cache.ix is not ix:
        with _OPEN_LOCK:
            cache = current_app.extensions.get(_READERS)
            if cache is None or cache.ix is not ix:
                cache = current_app.extensions[_READERS] = ReaderCache(ix)
    return cache


def close_searcher(exc: BaseException | None = None) -> None:
    """Close the request's searcher, if one was opened."""
    searcher = g.pop("searcher", None)
    if searcher is not None:
        searcher.close()


def init_app(app: Flask) -> None:
    """Register the searcher teardown with ``app``."""
    app.teardown_appcontext(close_searcher)
