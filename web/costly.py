"""Costly searches run in a separate, niced process, one at a time.

A server's threads share one interpreter: a search that reads most of the index holds its
lock (the GIL) for long stretches, and everyday searches in the other threads wait for it.
The worker process has an interpreter of its own and runs at a lower priority, so the
server's process stays free for everyday searches; a costly search while another runs is
refused at once (503 with Retry-After) rather than queued.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from index.errors import SearchBusy, SearchIndexError
from index.limits import DEFAULT_LIMITS, costly_turn
from index.reading import ReaderCache
from index.results import Results
from web.db import get_searcher, index_dir

_WORKER = "archive_costly_worker"
#: Added to the worker's nice value: the kernel gives it the CPU only when everyday
#: searches (and everything else at the default priority) leave some.
NICENESS = 10
#: Seconds a costly search may take in the worker before the worker is replaced. Searches
#: stop at their own time limit; this bounds what that limit cannot (a stuck process).
WORKER_TIMEOUT = 30.0
#: Seconds the worker may take to start (a new interpreter importing Whoosh).
START_TIMEOUT = 60.0


def search(text: str, **kwargs: Any) -> Results:
    """The request's search: in this process, or in the worker when the query is costly.

    Raises QueryTooExpensive as ``ArchiveSearcher.search`` does, and SearchBusy for a
    costly query while another costly search runs.
    """
    searcher = get_searcher()
    if not searcher.costly(text, kwargs.get("limits", DEFAULT_LIMITS)):
        return searcher.search(text, **kwargs)
    return worker().search(text, **kwargs)


def worker() -> CostlyWorker:
    """The app's costly-search worker (its process starts with the first costly search)."""
    found = current_app.extensions.get(_WORKER)
    if found is None:
        found = current_app.extensions.setdefault(_WORKER, CostlyWorker(index_dir()))
    return found


def start_worker(app: Flask) -> None:
    """Start ``app``'s worker now, so the first costly search does not wait for it."""
    with app.app_context():
        found = worker()
    with costly_turn(True):
        found._connection()


class CostlyWorker:
    """One process, started on demand and replaced when it dies, running costly searches."""

    def __init__(self, path: Path, niceness: int = NICENESS) -> None:
        self.path = Path(path)
        self.niceness = niceness
        self._process: Any = None
        self._conn: Connection | None = None

    @property
    def pid(self) -> int | None:
        """The worker process's id, None before it starts."""
        return self._process.pid if self._process is not None else None

    def search(self, text: str, **kwargs: Any) -> Results:
        """Run ``ArchiveSearcher.search(text, **kwargs)`` in the worker.

        Raises SearchBusy while another costly search runs in this process or the worker.
        """
        with costly_turn(True):
            status, value = self._ask((text, kwargs))
        if status == "failed":
            raise RuntimeError(f"the costly-search worker failed: {value}")
        if status == "error":
            raise value
        return value

    def _ask(self, request: tuple[str, dict[str, Any]]) -> tuple[str, Any]:
        # A worker that died since its last search (killed, out of memory) is noticed
        # when it is asked: the search is sent once more, to a new worker.
        for _attempt in (1, 2):
            conn = self._connection()
            try:
                conn.send(request)
                if not conn.poll(WORKER_TIMEOUT):
                    self.stop()
                    break
                reply: tuple[str, Any] = conn.recv()
                return reply
            except (EOFError, OSError):
                self.stop()
        raise SearchBusy(
            "The search stopped before it finished; try again in a moment or make the "
            "query more specific."
        )

    def stop(self) -> None:
        """End the worker process, if one runs."""
        process, self._process = self._process, None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if process is not None:
            process.kill()
            process.join()

    def _connection(self) -> Connection:
        # Called with the costly turn held: one thread at a time starts or uses the worker.
        if self._process is not None and self._process.is_alive() and self._conn is not None:
            return self._conn
        self.stop()
        # Forked from a fresh server process rather than from this one: the server's
        # threads may hold locks at the moment of a fork, and the child would inherit them
        # held forever. The fork server starts once; a replacement worker starts at once.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        ours, theirs = context.Pipe()
        process = context.Process(
            target=_serve, args=(theirs, str(self.path), self.niceness), daemon=True
        )
        process.start()
        # Only the worker holds its end now: when this process dies, the worker reads EOF.
        theirs.close()
        if not ours.poll(START_TIMEOUT):
            process.kill()
            raise SearchBusy("The search worker did not start; try again in a moment.")
        ours.recv()  # "ready"
        self._process, self._conn = process, ours
        return ours


def _serve(conn: Connection, path: str, niceness: int) -> None:
    """The worker's loop: answer each search sent until the server goes away."""
    os.nice(niceness)
    readers = ReaderCache(Path(path))
    # Opened now rather than by the first costly search; with no index yet, each search
    # reports it.
    with contextlib.suppress(SearchIndexError):
        readers.reader()
    conn.send("ready")
    while True:
        try:
            text, kwargs = conn.recv()
        except (EOFError, OSError):
            return
        try:
            with readers.searcher() as searcher:
                reply: tuple[str, Any] = ("ok", searcher.search(text, **kwargs))
        except SearchIndexError as exc:
            reply = ("error", exc)
        except Exception as exc:  # a bug: reported to the server, which logs it as a 500
            reply = ("failed", repr(exc))
        conn.send(reply)
