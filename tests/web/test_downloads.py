"""Downloads of every hit from the search page, and the API's page size and UTF-8 JSON."""

from __future__ import annotations

import csv
import io
import json

import pytest
from flask.testing import FlaskClient

from index.export import COLUMNS, plain_snippet
from web import SECURITY_HEADERS

SAMPLE_TOTAL = 42


def api_rows(client: FlaskClient, query: str) -> list[dict]:
    """Every hit the API gives for ``query`` (the sample corpus fits one page of 100)."""
    data = client.get(f"/api/search?{query}&page_size=100").get_json()
    assert data["total"] == len(data["hits"])
    for hit in data["hits"]:  # counts of the similar articles a collapsed hit stands for
        del hit["similar"], hit["similar_sources"]
    return [{**hit, "snippet": plain_snippet(hit["snippet"])} for hit in data["hits"]]


@pytest.mark.parametrize("query", ["q=", "q=council&category=politics&category=culture"])
def test_csv_download(client: FlaskClient, query: str) -> None:
    response = client.get(f"/export.csv?{query}")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == "attachment; filename=search-results.csv"
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    text = response.get_data(as_text=True)
    assert text.splitlines()[0] == ",".join(COLUMNS)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    expected = api_rows(client, query)
    assert [r["id"] for r in rows] == [h["id"] for h in expected]
    assert [r["snippet"] for r in rows] == [h["snippet"] for h in expected]
    if query == "q=":
        assert len(rows) == SAMPLE_TOTAL


def test_jsonl_download(client: FlaskClient) -> None:
    response = client.get("/export.jsonl?q=council&sort=oldest")
    assert response.status_code == 200 and response.is_streamed
    assert response.headers["Content-Type"] == "application/x-ndjson"
    assert response.headers["Content-Disposition"] == "attachment; filename=search-results.jsonl"
    lines = response.get_data(as_text=True).splitlines()
    assert [json.loads(line) for line in lines] == api_rows(client, "q=council&sort=oldest")


def test_bad_export_arguments_are_a_400(client: FlaskClient) -> None:
    response = client.get("/export.csv?q=council&from=yesterday")
    assert response.status_code == 400
    assert "not a date" in response.get_data(as_text=True)


def test_search_page_links_the_downloads_for_its_filters(client: FlaskClient) -> None:
    page = client.get("/?q=council&category=politics&page=2").get_data(as_text=True)
    assert '<a href="/export.csv?q=council&amp;category=politics" download>Download CSV</a>' in page
    assert (
        '<a href="/export.jsonl?q=council&amp;category=politics" download>'
        "Download JSON Lines</a>" in page
    )


@pytest.mark.parametrize("size", [1, 7, 100])
def test_page_size_in_range(client: FlaskClient, size: int) -> None:
    data = client.get(f"/api/search?q=&page_size={size}").get_json()
    assert data["pagelen"] == size
    assert len(data["hits"]) == min(size, SAMPLE_TOTAL)
    assert data["pages"] == -(-SAMPLE_TOTAL // size)


def test_page_size_defaults_to_ten(client: FlaskClient) -> None:
    data = client.get("/api/search?q=").get_json()
    assert data["pagelen"] == 10 and len(data["hits"]) == 10


@pytest.mark.parametrize("size", ["0", "101", "-1", "abc", "1e2", "9" * 50, "²"])
def test_page_size_out_of_range_is_a_json_400(client: FlaskClient, size: str) -> None:
    response = client.get("/api/search", query_string={"q": "", "page_size": size})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["status"] == 400 and "from 1 to 100" in error["message"]


def test_json_is_utf8_not_escaped(client: FlaskClient) -> None:
    body = client.get("/api/search?q=budget").get_data()
    assert "£".encode() in body and b"\\u00a3" not in body
    article = client.get("/api/articles/jl-0011").get_data()
    assert "£".encode() in article
