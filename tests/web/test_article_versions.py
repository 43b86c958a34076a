"""An article's versions in the JSON API and on its page, over an index re-scraped twice."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import escape
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from app.indexer import Settings, index_paths
from tests.web.test_security import SCRIPT, assert_no_payload, encoded
from web import create_app

TEXT = (
    "The council approved the flood scheme on Monday. It will cost five million pounds.\n\n"
    "Work starts in spring, officials said."
)
CHANGED = TEXT.replace(
    "approved the flood scheme on Monday",
    "rejected the flood scheme on Tuesday",
)
HOSTILE = f"{TEXT}\n\nA reader wrote {encoded(SCRIPT)} to the council."


@pytest.fixture
def client(tmp_path: Path, write_jsonl: Callable[[str, list[dict]], Path]) -> FlaskClient:
    """An app over an index where ``flood`` has three versions and ``calm`` one."""
    index_dir = tmp_path / "index"
    calm = {"id": "calm", "title": "Calm", "text": "Nothing happened in the harbour today."}
    titles = ("Flood scheme", "Flood scheme", f"Flood scheme {encoded(SCRIPT)}")
    for title, text in zip(titles, (TEXT, CHANGED, HOSTILE), strict=True):
        feed = write_jsonl("feed.jsonl", [{"id": "flood", "title": title, "text": text}, calm])
        index_paths([feed], index_dir, Settings(workers=1))
    return create_app({"INDEX_DIR": str(index_dir), "TESTING": True}).test_client()


def test_the_api_lists_versions_and_returns_each(client: FlaskClient) -> None:
    versions = client.get("/api/articles/flood").json["versions"]
    assert [v["number"] for v in versions] == [1, 2, 3]
    assert all(set(v) == {"number", "seen", "title", "hash"} for v in versions)
    assert len({v["hash"] for v in versions}) == 3
    assert [v["seen"] for v in versions] == sorted(v["seen"] for v in versions)
    first = client.get("/api/articles/flood/versions/1").json
    assert (first["number"], first["text"], first["title"]) == (1, TEXT, "Flood scheme")
    assert client.get("/api/articles/flood/versions/2").json["text"] == CHANGED
    assert client.get("/api/articles/flood/versions/3").json["title"] == f"Flood scheme {SCRIPT}"
    assert client.get("/api/articles/calm").json["versions"][0]["number"] == 1
    for url in ("/api/articles/flood/versions/4", "/api/articles/calm/versions/2"):
        missing = client.get(url)
        assert missing.status_code == 404 and missing.json["error"]["status"] == 404
    assert client.get("/api/articles/nope/versions/1").status_code == 404
    assert client.get("/api/articles/flood/versions/0").status_code == 404


def changes_of(html: str) -> str:
    return html[html.index('id="changes"') : html.index("</section>", html.index('id="changes"'))]


def test_the_page_says_how_often_and_marks_the_changes(client: FlaskClient) -> None:
    html = client.get("/articles/flood", query_string={"v1": "1", "v2": "2"}).get_data(True)
    assert '<a href="#changes">Updated 2 times</a>' in html
    diff = changes_of(html)
    assert "The council <del>approved</del><ins>rejected</ins> the flood scheme on" in diff
    assert "<del>Monday.</del><ins>Tuesday.</ins>" in diff
    assert '<option value="1" selected>' in diff and '<option value="2" selected>' in diff
    # By default, the last change: the title and a new paragraph.
    latest = changes_of(client.get("/articles/flood").get_data(True))
    assert "<strong>Title:</strong> Flood scheme <ins>" in latest
    assert "<del>approved</del>" not in latest
    links = re.findall(r'href="([^"]*#changes)"', latest)
    assert links == [f"/articles/flood?v1={n}&amp;v2={n + 1}#changes" for n in (1, 2)]
    assert 'action="/articles/flood#changes"' in latest


def test_an_unknown_version_is_a_note_not_an_error(client: FlaskClient) -> None:
    response = client.get("/articles/flood", query_string={"v1": "9", "v2": "x"})
    assert response.status_code == 200
    html = response.get_data(True)
    assert "There is no version 9: the article has versions 1 to 3; showing the last change." in (
        html
    )
    html = client.get("/articles/flood", query_string={"v2": "<b>"}).get_data(True)
    assert "&#39;&lt;b&gt;&#39; is not a version number." in html
    assert '<option value="2" selected>' in html and '<option value="3" selected>' in html
    calm = client.get("/articles/calm").get_data(True)
    assert 'id="changes"' not in calm and "Updated" not in calm


def test_versions_on_the_page_are_escaped_and_csp_safe(client: FlaskClient) -> None:
    for args in ({}, {"v1": "3", "v2": "1"}):
        html = client.get("/articles/flood", query_string=args).get_data(True)
        assert_no_payload(html)
        assert escape(SCRIPT, quote=False) in changes_of(html)
        assert "<style" not in html and not re.search(r"\sstyle\s*=", html)
        assert not re.search(r"\son[a-z]+\s*=", html)
