"""Costly searches run in a separate, niced process, one at a time, the others in line.

A server's threads share one interpreter: a search that reads most of the index holds its
lock (the GIL) for long stretches, and everyday searches in the other threads wait for it.
The worker process has an interpreter of its own and runs at a lower priority, so the
server's process stays free for everyday searches. Queries whose text alone shows they
may be costly (wildcards, fuzzy terms, ranges, many words) are not even parsed in the
server: the worker parses, checks and refuses them too, so clients sending them in a loop
take the worker's time rather than the server's. Costly searches wait for their turn at
the worker (each waiting one holds a server thread, asleep) in a rotation of clients, up
to a bound; past it they are refused at once (503 with Retry-After).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from flask import Flask, current_app, request

from index.errors import SearchBusy, SearchIndexError
from index.limits import DEFAULT_LIMITS, may_be_costly
from index.reading import ReaderCache
from index.results import Results
from web.db import close_searcher, get_searcher, index_dir

_WORKER = "archive_costly_worker"
#: Added to the worker's nice value: the kernel gives it the CPU only when everyday
#: searches (and everything else at the default priority) leave some.
NICENESS = 10
#: Seconds a costly search may take in the worker before the worker is replaced. Searches
#: stop at their own time limit; this bounds what that limit cannot (a stuck process).
WORKER_TIMEOUT = 30.0
#: Seconds the worker may take to start (a new interpreter importing Whoosh).
START_TIMEOUT = 60.0
#: Costly searches that may wait for the worker; each holds one of the server's threads
#: (`archive serve --threads`, 16 by default), so everyday searches keep the others.
WAITING = 8
#: Seconds a costly search waits for its turn before it is refused.
WAIT = 10.0


def search(text: str, **kwargs: Any) -> Results:
    """The request's search: in this process, or in the worker when the query is costly.

    Raises QueryTooExpensive as ``ArchiveSearcher.search`` does, and SearchBusy for a
    costly query whose turn at the worker does not come.
    """
    limits = kwargs.get("limits", DEFAULT_LIMITS)
    # The client is the socket's peer: behind a proxy, every client is the proxy.
    client = request.remote_addr or ""
    if may_be_costly(text, limits):
        return worker().search(text, client=client, **kwargs)
    searcher = get_searcher()
    if not searcher.costly(text, limits):
        return searcher.search(text, **kwargs)
    # Given back while the search waits for the worker: waiting searches hold no reader.
    close_searcher()
    return worker().search(text, client=client, **kwargs)


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
    with found.turns.turn(""):
        found._connection()


class Turns:
    """Turns at the worker: one search at a time; the others wait, their clients in rotation.

    A client's next search waits behind one search of each other waiting client, so a
    client sending many at once delays itself, not a person sending one at a time.
    """

    def __init__(self, waiting: int = WAITING, wait: float = WAIT) -> None:
        self.limit = waiting
        self.wait = wait
        self._lock = threading.Lock()
        self._busy = False
        # Each waiting client's searches in arrival order; the dict's order is the rotation.
        self._lines: dict[str, deque[threading.Event]] = {}

    @property
    def waiting(self) -> int:
        """Searches waiting for their turn now."""
        with self._lock:
            return sum(len(line) for line in self._lines.values())

    @contextlib.contextmanager
    def turn(self, client: str) -> Iterator[None]:
        """Hold the worker for one search of ``client``; raises SearchBusy when none comes."""
        self._take(client)
        try:
            yield
        finally:
            self._pass()

    def _take(self, client: str) -> None:
        with self._lock:
            if not self._busy:
                self._busy = True
                return
            if sum(len(line) for line in self._lines.values()) >= self.limit:
                raise SearchBusy(
                    "Too many costly searches are waiting; try again in a moment or make the "
                    "query more specific."
                )
            called = threading.Event()
            self._lines.setdefault(client, deque()).append(called)
        if called.wait(self.wait):
            return
        with self._lock:
            if called.is_set():  # handed the turn as the wait ended
                return
            line = self._lines[client]
            line.remove(called)
            if not line:
                del self._lines[client]
        raise SearchBusy(
            "Other costly searches took the worker for too long; try again in a moment or "
            "make the query more specific."
        )

    def _pass(self) -> None:
        # The turn goes straight to the next in line, so no arriving search can take it.
        with self._lock:
            if not self._lines:
                self._busy = False
                return
            client = next(iter(self._lines))
            line = self._lines.pop(client)
            line.popleft().set()
            if line:  # to the back of the rotation
                self._lines[client] = line


class CostlyWorker:
    """One process, started on demand and replaced when it dies, running costly searches."""

    def __init__(self, path: Path, niceness: int = NICENESS) -> None:
        self.path = Path(path)
        self.niceness = niceness
        self.turns = Turns()
        self._process: Any = None
        self._conn: Connection | None = None

    @property
    def pid(self) -> int | None:
        """The worker process's id, None before it starts."""
        return self._process.pid if self._process is not None else None

    def search(self, text: str, client: str = "", **kwargs: Any) -> Results:
        """Run ``ArchiveSearcher.search(text, **kwargs)`` in the worker, at ``client``'s turn.

        Raises SearchBusy when the turn does not come (see Turns).
        """
        with self.turns.turn(client):
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
        # Called with a turn held: one thread at a time starts or uses the worker.
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
        readers.searcher().close()
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
