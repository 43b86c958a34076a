"""Costly-looking queries go to the worker unparsed; costly searches wait there in turns."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import waitress

from app.cli import cli
from index.errors import SearchBusy
from index.limits import may_be_costly
from index.searcher import ArchiveSearcher
from web import costly, create_app
from web.costly import WAITING, CostlyWorker, Turns


@pytest.mark.parametrize(
    "text",
    [
        "?*",
        "clim*",
        "wom?n",
        "text:*",
        "river~3",
        "[a TO]",
        "year:{2000 TO 2030}",
        " ".join(["river"] * 17),
    ],
)
def test_queries_that_may_be_costly_by_their_text(text: str) -> None:
    assert may_be_costly(text)


@pytest.mark.parametrize(
    "text",
    ["", "*", "harbour", '"river wall" OR council', "who won the election?", "?why", "a to b"],
)
def test_everyday_queries_by_their_text(text: str) -> None:
    assert not may_be_costly(text)


def until(condition: Callable[[], bool], seconds: float = 60) -> None:
    """Wait until ``condition()`` holds; fails after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.01)


def in_thread(target: Callable[[], object]) -> threading.Thread:
    """``target`` running in a started thread."""
    thread = threading.Thread(target=target)
    thread.start()
    return thread


def test_a_costly_search_waits_for_its_turn_and_clients_take_turns() -> None:
    turns = Turns()
    served: list[str] = []

    def search(client: str, name: str) -> Callable[[], None]:
        def run() -> None:
            with turns.turn(client):
                served.append(name)

        return run

    threads = []
    with turns.turn("someone"):
        # One client sends two searches, then another sends one.
        for waiting, (client, name) in enumerate(
            [("10.0.0.1", "a1"), ("10.0.0.1", "a2"), ("10.0.0.2", "b1")], start=1
        ):
            threads.append(in_thread(search(client, name)))
            until(lambda n=waiting: turns.waiting == n)  # type: ignore[misc]
        assert served == []
    for thread in threads:
        thread.join()
    assert served == ["a1", "b1", "a2"]
    assert turns.waiting == 0
    with turns.turn("someone"):  # the worker is free again
        pass


def test_past_the_waiting_bound_or_the_wait_a_costly_search_is_refused() -> None:
    turns = Turns(waiting=1, wait=600)
    waited: list[str] = []

    def wait() -> None:
        with turns.turn("a"):
            waited.append("a")

    with turns.turn("someone"):
        first = in_thread(wait)
        until(lambda: turns.waiting == 1)
        with pytest.raises(SearchBusy, match="Too many costly searches"), turns.turn("b"):
            pass
        turns.wait = 0
        turns.limit = 2
        with pytest.raises(SearchBusy, match="took the worker for too long"), turns.turn("b"):
            pass
        assert turns.waiting == 1  # the refused one left the line
    first.join()
    assert waited == ["a"]


@pytest.fixture
def app_worker(sample_index: Path) -> Iterator[tuple[object, CostlyWorker]]:
    """The app over the sample index and its worker, stopped at the end."""
    app = create_app({"INDEX_DIR": str(sample_index), "TESTING": True})
    with app.app_context():
        worker = costly.worker()
    yield app, worker
    worker.stop()


def test_costly_looking_queries_are_checked_and_refused_by_the_worker(
    app_worker: tuple[object, CostlyWorker], sample_index: Path
) -> None:
    app, worker = app_worker
    client = app.test_client()  # type: ignore[attr-defined]
    assert client.get("/api/search", query_string={"q": "harbour"}).status_code == 200
    assert worker.pid is None  # everyday searches run in the server
    refused = client.get("/api/search", query_string={"q": "?*"})
    assert refused.status_code == 400
    assert "at least 2 letters before its first" in refused.get_json()["error"]["message"]
    assert worker.pid is not None  # the worker parsed and refused it
    answered = client.get("/api/search", query_string={"q": "harb*"}).get_json()
    with ArchiveSearcher.open(sample_index) as opened:
        here = opened.search("harb*", timeline=True).to_dict()
    assert (answered["total"], answered["hits"]) == (here["total"], here["hits"])


def test_everyday_searches_are_answered_while_costly_ones_wait_for_the_worker(
    app_worker: tuple[object, CostlyWorker],
) -> None:
    # The server's default threads, with as many costly searches waiting as may wait.
    threads = next(p.default for p in cli.commands["serve"].params if p.name == "threads")
    app, worker = app_worker
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=threads)
    base = f"http://127.0.0.1:{server.effective_port}/api/search?q="  # type: ignore[union-attr]
    serving = threading.Thread(target=server.run, daemon=True)
    serving.start()
    statuses: list[int] = []

    def get(query: str) -> int:
        with urllib.request.urlopen(base + query, timeout=120) as response:
            json.loads(response.read())
            return int(response.status)

    worker.turns.wait = 600  # they wait however slow the machine
    try:
        with worker.turns.turn("someone"):
            waiting = [in_thread(lambda: statuses.append(get("harb*"))) for _ in range(WAITING)]
            until(lambda: worker.turns.waiting == WAITING)
            assert get("harbour") == 200
            assert statuses == [] and worker.turns.waiting == WAITING
        for thread in waiting:
            thread.join()
        assert statuses == [200] * WAITING
    finally:
        # Let the server's threads finish before the sockets close under them.
        server.task_dispatcher.shutdown()  # type: ignore[union-attr]
        server.close()
        serving.join(timeout=5)
