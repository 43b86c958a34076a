"""Escaping of untrusted article fields and queries, and the security headers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from web import CONTENT_SECURITY_POLICY, create_app

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
PAYLOADS = (SCRIPT, IMG)


def encoded(payload: str) -> str:
    """The payload as an article about HTML would carry it: entities the cleaner decodes.

    Raw tags are stripped when indexing, so only entity-encoded payloads reach the index as
    literal ``<script>`` text: that is what the web layer must escape.
    """
    return escape(payload, quote=False)


def hostile_records() -> list[dict[str, str]]:
    """Similar articles whose every field carries script and image payloads."""
    records = [
        {
            "id": f"evil/{number}",
            "title": f"Harbour council {encoded(SCRIPT)} budget {encoded(IMG)} {number}",
            "author": f"Mallory {encoded(SCRIPT)}",
            "source": f"Gazette {encoded(IMG)}",
            "category": f"politics {encoded(SCRIPT)}",
            "date": f"2024-02-0{number + 1}",
            "url": "javascript:alert(1)",
            "text": (
                f"The harbour council met on Tuesday {encoded(SCRIPT)} to discuss the harbour "
                f"budget. {encoded(IMG)} Members said the harbour wall needs repairs before "
                "the winter storms arrive in the town. The council agreed a plan for the "
                f"harbour wall {encoded(SCRIPT)} after a long debate.\n\nA second paragraph "
                f"about the harbour {encoded(IMG)} and the council budget for the year."
            ),
        }
        for number in range(4)
    ]
    records.append(
        {
            "id": f"evil/{encoded(SCRIPT)}",
            "title": f"Raw {SCRIPT} tags {IMG} harbour",
            "author": "Eve",
            "date": "2024-03-01",
            "text": f"Raw tags {SCRIPT} in the harbour council text {IMG} are dropped.",
        }
    )
    return records


@pytest.fixture
def hostile(
    write_jsonl: Callable[[str, list[dict]], Path],
    build_index: Callable[..., tuple[Path, object]],
) -> FlaskClient:
    """A test client of an app whose articles are full of HTML payloads."""
    index_dir, report = build_index(write_jsonl("hostile.jsonl", hostile_records()))
    assert report.indexed == 5
    return create_app({"INDEX_DIR": str(index_dir), "TESTING": True}).test_client()


def page(client: FlaskClient, url: str, **args: str) -> str:
    """GET an HTML page and return it, asserting it holds no payload unescaped."""
    response = client.get(url, query_string=args or None)
    assert response.status_code in (200, 404), url
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert_no_payload(html)
    return html


class _Markup(HTMLParser):
    """Collects what a browser would build from a page: elements and attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # The page's own timeline chart is the one svg element allowed.
        if tag == "svg" and ("class", "timeline-chart") in attrs:
            tag = "svg.timeline-chart"
        self.tags.append(tag)
        self.attrs += [(name, value or "") for name, value in attrs]


def assert_no_payload(html: str) -> None:
    """No payload survives as markup: no script or image element, no handler, no js: link."""
    for payload in PAYLOADS:
        assert payload not in html
    parser = _Markup()
    parser.feed(html)
    parser.close()
    assert not {"script", "img", "iframe", "object", "embed", "svg", "style"} & set(parser.tags)
    assert not [name for name, _ in parser.attrs if name.startswith("on")]
    for name, value in parser.attrs:
        if name in ("href", "src", "action", "formaction"):
            assert not value.strip().lower().startswith(("javascript:", "data:")), value


def test_payloads_reach_the_index_as_text(hostile: FlaskClient) -> None:
    # Guard against a vacuous test: the stored fields really hold the payloads.
    body = hostile.get("/api/articles/evil/0").get_json()
    assert SCRIPT in body["title"] and IMG in body["title"]
    assert SCRIPT in body["author"] and IMG in body["source"] and SCRIPT in body["category"]
    assert SCRIPT in body["text"] and IMG in body["text"]


def test_results_page_escapes_everything(hostile: FlaskClient) -> None:
    html = page(hostile, "/", q="harbour")
    assert escape(SCRIPT, quote=True) in html or escape(SCRIPT, quote=False) in html
    assert "<mark>harbour</mark>" in html.lower()
    # Every field is rendered, escaped: title, author, source, category, snippet, facets.
    # The four near-copies are one story: listed one by one, each hit renders its fields.
    every = page(hostile, "/", q="harbour", collapse="0")
    assert every.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 8
    assert "and 3 similar articles" in html and "and 3 similar" not in every


def test_facets_and_chips_escape_values(hostile: FlaskClient) -> None:
    html = page(hostile, "/")
    links = re.findall(r'<section class="facet".*?</section>', html, re.S)
    assert any("Mallory &lt;script&gt;" in section for section in links)
    chosen = page(
        hostile,
        "/",
        author=f"Mallory {SCRIPT}",
        source=f"Gazette {IMG}",
        category=f"politics {SCRIPT}",
    )
    assert chosen.count('class="chip"') == 3
    assert "Search again without the filters" not in chosen  # the filters matched


def test_empty_query_and_sorts_escape(hostile: FlaskClient) -> None:
    for sort in ("relevance", "newest", "oldest"):
        page(hostile, "/", sort=sort)


def test_query_payloads_are_escaped(hostile: FlaskClient) -> None:
    for payload in (*PAYLOADS, f'"{SCRIPT}', f"title:{IMG}", f"{SCRIPT}*"):
        html = page(hostile, "/", q=payload)
        assert "&lt;" in html
        page(hostile, "/articles/evil/0", q=payload)
        page(hostile, "/", q="harbour", source=payload, author=payload, year=payload)
        page(hostile, "/", q="harbour", **{"from": payload, "to": payload, "sort": payload})
        page(hostile, "/", page=payload)


def test_did_you_mean_is_escaped(hostile: FlaskClient) -> None:
    html = page(hostile, "/", q=f"harbur {SCRIPT}")
    assert "Did you mean" in html


def test_article_page_escapes_every_field(hostile: FlaskClient) -> None:
    html = page(hostile, "/articles/evil/0", q="harbour council")
    assert '<mark class="term">harbour</mark>' in html
    assert '<mark class="summary-sentence">' in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_article_source_url_is_not_a_javascript_link(hostile: FlaskClient) -> None:
    html = page(hostile, "/articles/evil/1")
    assert "Original article" not in html
    assert "javascript:" not in html.lower()


def test_more_like_this_escapes_titles(hostile: FlaskClient) -> None:
    html = page(hostile, "/articles/evil/0")
    aside = html.split('<aside class="more-like"')[1]
    assert aside.count("<li>") >= 3
    assert "Harbour council &lt;script&gt;alert(1)&lt;/script&gt;" in aside


def test_hostile_article_id(hostile: FlaskClient) -> None:
    html = page(hostile, "/", q="raw")
    assert "/articles/evil/%26lt%3Bscript" in html or "/articles/evil/&amp;lt;script" in html
    link = re.search(r'<h2 class="hit-title"><a href="([^"?]+)', html).group(1)
    page(hostile, link.replace("&amp;", "&"))
    page(hostile, f"/articles/{SCRIPT}")  # an unknown id echoed in the 404 page


def test_raw_tags_are_dropped_at_indexing(hostile: FlaskClient) -> None:
    body = hostile.get("/api/search?q=raw").get_json()
    assert body["total"] == 1
    assert "<script" not in body["hits"][0]["title"]


def test_json_is_json_with_the_payloads_as_data(hostile: FlaskClient) -> None:
    for url in ("/api/search?q=harbour", "/api/articles/evil/0", "/api/search?q=%3Cscript%3E"):
        response = hostile.get(url)
        assert response.status_code == 200
        assert response.mimetype == "application/json"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        json.loads(response.get_data(as_text=True))
    body = hostile.get("/api/search?q=harbour").get_json()
    # The snippet is HTML (escaped text plus <mark>); the other fields are plain text.
    assert all("&lt;" in h["snippet"] or "<mark>" in h["snippet"] for h in body["hits"])
    assert any(SCRIPT in h["title"] for h in body["hits"])
    error = hostile.get(f"/api/articles/{SCRIPT}")
    assert error.status_code == 404 and error.mimetype == "application/json"


EXPECTED_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/?q=flood&page=0",
        "/articles/jl-0001",
        "/articles/nope",
        "/nope",
        "/api/search?q=flood",
        "/api/search?page=x",
        "/api/articles/jl-0001",
        "/api/articles/nope",
        "/opensearch.xml",
        "/static/style.css",
    ],
)
def test_security_headers_on_every_response(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    for name, value in EXPECTED_HEADERS.items():
        assert response.headers[name] == value, (url, name)


def test_security_headers_on_503(missing_client: FlaskClient) -> None:
    response = missing_client.get("/")
    assert response.status_code == 503
    for name, value in EXPECTED_HEADERS.items():
        assert response.headers[name] == value


def test_policy_is_strict() -> None:
    assert "default-src 'none'" in CONTENT_SECURITY_POLICY
    assert "unsafe" not in CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("url", ["/", "/?q=flood", "/articles/jl-0001", "/nope"])
def test_no_inline_script_or_style(client: FlaskClient, url: str) -> None:
    html = client.get(url).get_data(as_text=True)
    assert "<script" not in html
    assert "<style" not in html
    assert not re.search(r"\sstyle\s*=", html)
    assert not re.search(r"\son[a-z]+\s*=", html)
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html.split("<main")[0])


@pytest.mark.parametrize(
    "url",
    ["/", "/?q=flood", "/articles/jl-0001", "/nope", "/api/search?q=flood", "/opensearch.xml"],
)
def test_pages_and_api_answers_are_not_cached(client: FlaskClient, url: str) -> None:
    assert client.get(url).headers["Cache-Control"] == "no-store"


def test_static_files_keep_their_caching(client: FlaskClient) -> None:
    assert "no-store" not in client.get("/static/style.css").headers.get("Cache-Control", "")


def opensearch_urls(client: FlaskClient, **headers: str) -> list[str]:
    """Every URL in the OpenSearch description."""
    xml = client.get("/opensearch.xml", headers=headers).get_data(as_text=True)
    return re.findall(r'template="([^"]+)"', xml) + re.findall(r"<Image[^>]*>([^<]+)<", xml)


def test_opensearch_ignores_the_host_header(client: FlaskClient) -> None:
    urls = opensearch_urls(client, Host="evil.example")
    assert len(urls) == 4
    assert all(url.startswith("/") and "evil.example" not in url for url in urls), urls


def test_opensearch_uses_the_configured_base_url(sample_index: Path) -> None:
    app = create_app({"INDEX_DIR": str(sample_index), "BASE_URL": "https://news.example.org/"})
    urls = opensearch_urls(app.test_client(), Host="evil.example")
    assert urls[0] == "https://news.example.org/?q={searchTerms}&amp;page={startPage?}"
    assert all(url.startswith("https://news.example.org/") for url in urls), urls
