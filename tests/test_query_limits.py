"""Bounded query cost: expansions refused with a message, searches stopped at a time limit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from html import escape
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from whoosh import collectors

from app.cli import cli
from index.errors import QueryTooExpensive, SearchBusy
from index.expand import expand
from index.limits import DEFAULT_LIMITS, DeadlineCollector, QueryLimits, bound_query, costly_turn
from index.searcher import ArchiveSearcher
from tests.conftest import REPO
from web import costly, create_app
from web.costly import NICENESS

#: Matches many sample articles, in several segments' worth of documents.
BROAD = "river OR harbour OR council OR flood"
STOPPED = QueryLimits(time_limit=0)
#: Every query reading any posting counts as costly.
ALL_COSTLY = QueryLimits(costly_postings=0)

#: Query shapes that expanded to every word of the index, each refused with a reason.
REFUSED = {
    "*a* *e* *i* *o* *u*": "at least 2 letters before its first * or ?",
    "?*": "at least 2 letters before its first * or ?",
    "title:*ood": "at least 2 letters before its first * or ?",
    "a*": "at least 2 letters before its first * or ?",
    "[a TO]": f"more than {DEFAULT_LIMITS.max_terms:,} different words",
    "text:[a TO z]": f"more than {DEFAULT_LIMITS.max_terms:,} different words",
    "[TO zzz]": f"more than {DEFAULT_LIMITS.max_terms:,} different words",
}
#: Expensive-looking shapes the limits let through.
ALLOWED = [
    "clim*",
    "wom?n",
    "title:harb*",
    "text:*",
    "river~3",
    " OR ".join(["river", "harbour", "council", "flood", "storm", "bus"] * 30),
    " OR ".join(['"river wall"', '"bus fares"', '"city council"', '"harbour wall"'] * 10),
    "year:[2000 TO 2030]",
]


@pytest.fixture
def searcher(sample_index: Path) -> Iterator[ArchiveSearcher]:
    """A searcher over the sample index."""
    with ArchiveSearcher.open(sample_index) as opened:
        yield opened


@pytest.mark.parametrize(("query", "reason"), REFUSED.items())
def test_expanding_shapes_are_refused_with_a_reason(
    searcher: ArchiveSearcher, query: str, reason: str
) -> None:
    with pytest.raises(QueryTooExpensive, match=reason.replace("*", r"\*").replace("?", r"\?")):
        searcher.search(query)


@pytest.mark.parametrize("query", ALLOWED)
def test_bounded_shapes_still_search(searcher: ArchiveSearcher, query: str) -> None:
    results = searcher.search(query)
    assert results.total >= 1 and not results.partial


def test_field_wide_every_is_every_article(searcher: ArchiveSearcher) -> None:
    assert searcher.search("text:*").total == searcher.doc_count


def test_expansion_budget_is_shared_by_the_whole_query(searcher: ArchiveSearcher) -> None:
    reader = searcher.searcher.reader()
    prefixes = ("harb", "clim", "counc")
    counts = [
        sum(1 for f in ("title", "text") for _ in reader.expand_prefix(f, p)) for p in prefixes
    ]
    combined = " OR ".join(f"{p}*" for p in prefixes)
    # Each prefix fits the budget on its own; together they do not.
    tight = QueryLimits(max_terms=max(counts))
    for prefix in prefixes:
        assert searcher.search(f"{prefix}*", limits=tight).total >= 1
    with pytest.raises(QueryTooExpensive, match="more than"):
        searcher.search(combined, limits=tight)
    assert searcher.search(combined, limits=QueryLimits(max_terms=sum(counts))).total >= 1


def test_time_limit_returns_the_results_found_so_far(searcher: ArchiveSearcher) -> None:
    full = searcher.search(BROAD)
    assert full.total > 2 and not full.partial
    cut = searcher.search(BROAD, limits=STOPPED)
    assert cut.partial and cut.to_dict()["partial"] is True
    assert any("stopped" in note for note in cut.notes)
    # A passed deadline stops right after the first match: one article, counted everywhere.
    assert cut.total == len(cut.hits) == 1
    assert all(sum(n for _, n in values) == 1 for values in cut.facets.values())
    assert cut.hits[0].id in {h.id for h in searcher.search(BROAD, pagelen=100).hits}


def test_time_limit_with_sort_and_filters(searcher: ArchiveSearcher) -> None:
    cut = searcher.search(BROAD, sort="newest", filters={"year": ["2024"]}, limits=STOPPED)
    assert cut.partial and cut.total == 1
    assert cut.facets["year"] == [("2024", 1)]


def test_a_single_match_is_never_partial(searcher: ArchiveSearcher) -> None:
    one = searcher.search("harbour", pagelen=1).hits[0].id
    results = searcher.search(f"id:{one}", limits=STOPPED)
    assert results.total == 1 and not results.partial


def test_costly_searches_take_turns(searcher: ArchiveSearcher) -> None:
    with costly_turn(True):  # another costly search is running
        with pytest.raises(SearchBusy, match="try again in a moment"):
            searcher.search(BROAD, limits=ALL_COSTLY)
        # Everyday searches do not wait for it.
        assert searcher.search(BROAD).total > 1
        assert searcher.search("", limits=ALL_COSTLY).total == searcher.doc_count
    assert searcher.search(BROAD, limits=ALL_COSTLY).total > 1


def test_broad_queries_are_costly_and_plain_ones_are_not(searcher: ArchiveSearcher) -> None:
    reader = searcher.searcher.reader()
    common = [text.decode() for _, text in reader.most_frequent_terms("text", 40)]
    long_or = " OR ".join(common)
    assert bound_query(searcher.parse(long_or)[0], reader, DEFAULT_LIMITS)[1]
    assert not bound_query(searcher.parse("harbour")[0], reader, DEFAULT_LIMITS)[1]
    assert not bound_query(searcher.parse("")[0], reader, DEFAULT_LIMITS)[1]


def test_queries_reading_many_postings_in_all_are_costly(searcher: ArchiveSearcher) -> None:
    reader = searcher.searcher.reader()
    word = next(text.decode() for _, text in reader.most_frequent_terms("text", 1))
    postings = sum(reader.doc_frequency(field, word) for field in ("title", "text"))
    query = searcher.parse(word)[0]
    # Few postings per article on a small index, but more than costly_reads in all.
    assert not bound_query(query, reader, DEFAULT_LIMITS)[1]
    assert bound_query(query, reader, QueryLimits(costly_reads=postings - 1))[1]
    assert not bound_query(query, reader, QueryLimits(costly_reads=postings))[1]
    # A field-wide * reads every article; the empty query (the newest articles) is free.
    every = QueryLimits(costly_reads=searcher.doc_count - 1)
    assert bound_query(searcher.parse("text:*")[0], reader, every)[1]
    assert not bound_query(searcher.parse("")[0], reader, every)[1]


def test_a_query_with_too_many_words_is_refused(searcher: ArchiveSearcher) -> None:
    three = QueryLimits(max_words=3)
    assert searcher.search("river harbour council", limits=three).total >= 1
    # A word counts once however often it is repeated and in however many fields it is sought.
    assert searcher.search("river OR river OR title:harbour OR harbour", limits=three).total
    for four in (
        "river harbour council flood",
        '"river wall" harbour council',
        "clim* river flood bus",
    ):
        with pytest.raises(QueryTooExpensive, match="4 different words; at most 3"):
            searcher.search(four, limits=three)
    words = [f"zz{chr(97 + n // 26)}{chr(97 + n % 26)}q" for n in range(DEFAULT_LIMITS.max_words)]
    assert searcher.search(" ".join(words)).total == 0
    with pytest.raises(QueryTooExpensive, match="keep the most telling ones"):
        searcher.search(" ".join([*words, "harbour"]))


def test_deadline_stops_a_query_that_matches_nothing(searcher: ArchiveSearcher) -> None:
    whoosh_searcher = searcher.searcher
    nothing = searcher.parse("river ANDNOT river")[0]
    # Far from the deadline, the search runs to its end and finds nothing.
    running = DeadlineCollector(whoosh_searcher.collector(limit=None), time.perf_counter() + 3600)
    whoosh_searcher.search_with_collector(nothing, running)
    assert running.results().scored_length() == 0 and not running.timed_out
    # Past it, the posting lists' moves stop it although no article was collected.
    passed = DeadlineCollector(whoosh_searcher.collector(limit=None), 0.0, check_every=1)
    with pytest.raises(collectors.TimeLimit):
        whoosh_searcher.search_with_collector(nothing, passed)
    assert passed.timed_out and passed.collected == 0
    # Results name the user's query, not its time-checking copy.
    assert running.results().q == nothing


def test_search_without_matches_is_stopped_at_the_time_limit(
    build_index: Callable[..., tuple[Path, object]],
    write_jsonl: Callable[[str, list[dict]], Path],
) -> None:
    # The two words alternate, so the AND moves along both lists and never matches.
    records = [
        {"id": f"a{n}", "title": f"Note {n}", "text": "alpha" if n % 2 else "beta"}
        for n in range(600)
    ]
    index_dir, _ = build_index(write_jsonl("notes.jsonl", records))
    with ArchiveSearcher.open(index_dir) as opened:
        assert opened.search("alpha AND beta").total == 0
        cut = opened.search("alpha AND beta", limits=STOPPED)
        assert cut.total == 0 and cut.partial
        assert any("stopped" in note for note in cut.notes)


def test_feedback_is_skipped_once_half_the_time_is_used(searcher: ArchiveSearcher) -> None:
    query = searcher.parse("river OR harbour")[0]
    ample = QueryLimits(time_limit=3600)
    assert expand(searcher.searcher, query) != query
    assert expand(searcher.searcher, query, started=time.perf_counter(), limits=ample) != query
    assert expand(searcher.searcher, query, started=time.perf_counter(), limits=STOPPED) is query


def test_feedback_waits_for_no_turn_and_relaxed_searches_are_never_refused(
    searcher: ArchiveSearcher,
) -> None:
    relaxed = "harbour qqzzxxunknown"
    alone = searcher.search(relaxed)
    assert alone.relaxed
    query = searcher.parse("river OR harbour")[0]
    with costly_turn(True):  # another costly search is running
        assert expand(searcher.searcher, query) is query  # ranked by the words alone
        busy = searcher.search(relaxed)
        assert searcher.search("harbour").total >= 1
    assert busy.relaxed and {h.id for h in busy.hits} == {h.id for h in alone.hits}


def test_cli_refuses_with_a_message(sample_index: Path) -> None:
    result = CliRunner().invoke(cli, ["--index-dir", str(sample_index), "search", "?*"])
    assert result.exit_code == 1
    assert "needs at least 2 letters before its first * or ?" in result.stderr
    assert "Traceback" not in result.output


def test_cli_time_limit_prints_a_note(sample_index: Path) -> None:
    args = ["--index-dir", str(sample_index), "search", BROAD, "--time-limit", "0"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "note: The search took longer than 0 s and was stopped" in result.stderr
    assert result.stdout.startswith("1 result (")
    data = CliRunner().invoke(cli, [*args, "--json"]).stdout
    assert '"partial": true' in data


def test_the_environment_moves_the_default_time_limit(sample_index: Path) -> None:
    archive = Path(sys.executable).parent / "archive"
    args = [str(archive), "--index-dir", str(sample_index), "search", BROAD]
    env = {**os.environ, "ARCHIVE_TIME_LIMIT": "0"}
    cut = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert cut.returncode == 0, cut.stderr
    assert "note: The search took longer than 0 s and was stopped" in cut.stderr
    env["ARCHIVE_TIME_LIMIT"] = "soon"
    bad = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0
    assert "ARCHIVE_TIME_LIMIT must be a number of seconds, not 'soon'" in bad.stderr


def web_client(sample_index: Path, limits: QueryLimits = DEFAULT_LIMITS) -> FlaskClient:
    """A test client of the app over the sample index with these limits."""
    app = create_app({"INDEX_DIR": str(sample_index), "TESTING": True, "QUERY_LIMITS": limits})
    return app.test_client()


@pytest.mark.parametrize("query", ["?*", "*a* *e* *i* *o* *u*", "[a TO]"])
def test_web_refuses_with_the_reason(sample_index: Path, query: str) -> None:
    client = web_client(sample_index)
    api = client.get("/api/search", query_string={"q": query})
    assert api.status_code == 400 and api.mimetype == "application/json"
    message = api.get_json()["error"]["message"]
    assert "letters before its first" in message or "different words" in message
    # The page shows the reason as a note, with the query in the box to narrow it.
    page = client.get("/", query_string={"q": query}).get_data(as_text=True)
    assert escape(message) in page.split('class="notes"')[1]
    assert f'value="{escape(query)}"' in page


def test_web_article_page_ignores_a_costly_query(sample_index: Path) -> None:
    client = web_client(sample_index)
    plain = client.get("/articles/jl-0001?q=zzqxv").get_data(as_text=True)
    response = client.get("/articles/jl-0001", query_string={"q": "?*"})
    assert response.status_code == 200
    # Shown without marks rather than with every word of the article marked.
    marks = '<mark class="term">'
    assert response.get_data(as_text=True).count(marks) == plain.count(marks)


def test_web_time_limit_marks_results_partial(sample_index: Path) -> None:
    client = web_client(sample_index, STOPPED)
    data = client.get("/api/search", query_string={"q": BROAD}).get_json()
    assert data["partial"] is True and data["total"] == len(data["hits"]) == 1
    html = client.get("/", query_string={"q": BROAD}).get_data(as_text=True)
    assert "The search took longer than 0 s and was stopped" in html
    full = web_client(sample_index).get("/api/search", query_string={"q": BROAD}).get_json()
    assert full["partial"] is False and full["total"] > 1


def test_web_busy_costly_search_is_503_with_retry_after(sample_index: Path) -> None:
    client = web_client(sample_index, ALL_COSTLY)
    with client.application.app_context():
        worker = costly.worker()
    worker.turns.limit = 0  # no costly search may wait for the worker
    try:
        with worker.turns.turn("someone"):
            api = client.get("/api/search", query_string={"q": BROAD})
            assert api.status_code == 503 and api.headers["Retry-After"] == "1"
            assert "try again in a moment" in api.get_json()["error"]["message"]
            assert client.get("/").status_code == 200
        assert client.get("/api/search", query_string={"q": BROAD}).status_code == 200
    finally:
        worker.stop()


def test_web_deep_page_of_a_stopped_search_is_not_an_error(sample_index: Path) -> None:
    client = web_client(sample_index, STOPPED)
    response = client.get("/api/search", query_string={"q": BROAD, "page": 2})
    assert response.status_code == 200 and response.get_json()["partial"] is True


def test_a_term_on_no_field_is_bounded_not_an_error(searcher: ArchiveSearcher) -> None:
    # Found by hypothesis: "0(^0)" parses to a term whose field is None.
    results = searcher.search("0(^0)")
    assert results.total >= 0


def _gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (a zombie counts as ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def test_costly_web_search_runs_in_a_niced_worker_process(sample_index: Path) -> None:
    # Time enough for the whole search however busy the machine: the worker is niced.
    limits = QueryLimits(costly_postings=0, time_limit=600)
    app = create_app({"INDEX_DIR": str(sample_index), "TESTING": True, "QUERY_LIMITS": limits})
    client = app.test_client()
    with app.app_context():
        worker = costly.worker()
    try:
        assert client.get("/api/search", query_string={"q": ""}).status_code == 200
        assert worker.pid is None  # nothing costly yet: no process started
        data = client.get("/api/search", query_string={"q": BROAD}).get_json()
        with ArchiveSearcher.open(sample_index) as opened:
            here = opened.search(BROAD, timeline=True, limits=limits).to_dict()
        assert not data["partial"]
        assert (data["total"], data["hits"]) == (here["total"], here["hits"])
        assert worker.pid is not None and worker.pid != os.getpid()
        niceness = os.getpriority(os.PRIO_PROCESS, worker.pid)
        assert niceness == min(19, os.getpriority(os.PRIO_PROCESS, 0) + NICENESS)
        page = client.get("/", query_string={"q": BROAD}).get_data(as_text=True)
        assert f"{here['total']} results" in page
    finally:
        worker.stop()


def test_a_killed_or_stuck_worker_is_replaced(
    sample_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app({"INDEX_DIR": str(sample_index), "TESTING": True, "QUERY_LIMITS": ALL_COSTLY})
    client = app.test_client()
    with app.app_context():
        worker = costly.worker()
    try:
        assert client.get("/api/search", query_string={"q": BROAD}).status_code == 200
        first = worker.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        assert client.get("/api/search", query_string={"q": BROAD}).status_code == 200
        second = worker.pid
        assert second not in (None, first) and _gone(first)
        # A search that outlasts the worker's timeout ends the worker: 503, then a new one.
        monkeypatch.setattr(costly, "WORKER_TIMEOUT", 0)
        stuck = client.get("/api/search", query_string={"q": BROAD})
        assert stuck.status_code == 503 and stuck.headers["Retry-After"] == "1"
        assert worker.pid is None and _gone(second)
        monkeypatch.undo()
        assert client.get("/api/search", query_string={"q": BROAD}).status_code == 200
    finally:
        worker.stop()


def test_the_worker_ends_with_the_server(sample_index: Path) -> None:
    # The server is killed outright (no clean-up runs): the worker reads EOF and ends.
    script = (
        "import os, signal, sys\n"
        "from index.limits import QueryLimits\n"
        "from web import costly, create_app\n"
        f"app = create_app({{'INDEX_DIR': {str(sample_index)!r}, "
        "'QUERY_LIMITS': QueryLimits(costly_postings=0)})\n"
        f"assert app.test_client().get('/api/search?q=river').status_code == 200\n"
        "with app.app_context():\n"
        "    print(costly.worker().pid, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    pid = int(done.stdout)
    deadline = time.monotonic() + 20
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(pid)
