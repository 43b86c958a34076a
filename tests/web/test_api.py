"""The JSON API over the sample corpus: search, articles and JSON errors."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.web.conftest import FACET_VALUES

SAMPLE_TOTAL = 42
RESULT_KEYS = {
    "query",
    "total",
    "page",
    "pagelen",
    "hits",
    "took_ms",
    "sort",
    "facets",
    "corrected",
    "notes",
    "partial",
    "relaxed",
    "timeline",
    "pages",
    "collapsed",
    "articles",
}
HIT_KEYS = {
    "id",
    "title",
    "author",
    "date",
    "source",
    "category",
    "url",
    "score",
    "snippet",
    "summary",
    "story",
    "similar",
    "similar_sources",
}


def get_json(client: FlaskClient, url: str, status: int = 200, **args: Any) -> Any:
    """GET ``url`` and return its JSON body, checking the status and content type."""
    response = client.get(url, query_string=args or None)
    assert response.status_code == status, (url, response.get_data(as_text=True))
    assert response.mimetype == "application/json"
    return response.get_json()


def assert_error(body: dict[str, Any], status: int, words: str) -> None:
    """Check the shape of a JSON error and that its message says ``words``."""
    assert set(body) == {"error"}
    assert body["error"]["status"] == status
    assert words in body["error"]["message"]


def test_search_returns_results_dict(client: FlaskClient) -> None:
    body = get_json(client, "/api/search", q="flood")
    assert set(body) == RESULT_KEYS
    assert body["query"] == "flood"
    assert body["total"] == 4 and body["pages"] == 1 and body["page"] == 1
    assert body["pagelen"] == 10
    assert body["sort"] == "relevance"
    assert all(set(hit) == HIT_KEYS for hit in body["hits"])
    assert all("<mark>" in hit["snippet"].lower() for hit in body["hits"])
    assert set(body["facets"]) == {"source", "author", "category", "year"}
    assert {"value": "Valley Tribune", "count": 3} in body["facets"]["source"]


def test_search_matches_the_searcher(client: FlaskClient, sample_index) -> None:
    from index.searcher import ArchiveSearcher

    with ArchiveSearcher.open(sample_index) as searcher:
        expected = searcher.search("council", page=2, sort="oldest").to_dict()
    body = get_json(client, "/api/search", q="council", page="2", sort="oldest")
    assert [h["id"] for h in body["hits"]] == [h["id"] for h in expected["hits"]]
    assert body["facets"] == expected["facets"]


def test_empty_query_lists_newest(client: FlaskClient) -> None:
    body = get_json(client, "/api/search")
    assert body["total"] == SAMPLE_TOTAL
    assert body["sort"] == "newest"
    dates = [h["date"] for h in body["hits"] if h["date"]]
    assert dates == sorted(dates, reverse=True)


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_undated_articles_come_last(client: FlaskClient, sort: str) -> None:
    dates = [
        hit["date"]
        for page in range(1, 6)
        for hit in get_json(client, "/api/search", sort=sort, page=str(page))["hits"]
    ]
    assert len(dates) == SAMPLE_TOTAL
    undated = dates.index(None)
    assert undated > 30 and set(dates[undated:]) == {None}


@pytest.mark.parametrize(("name", "value"), FACET_VALUES)
def test_facet_filters(client: FlaskClient, name: str, value: str) -> None:
    body = get_json(client, "/api/search", **{name: value})
    assert body["total"] > 0
    for hit in body["hits"]:
        assert (hit["date"][:4] if name == "year" else hit[name]) == value
    counts = {f["value"]: f["count"] for f in body["facets"][name]}
    # The facet's other values stay listed, counted without its own filter, to be added.
    assert counts[value] == body["total"] and len(counts) > 1


def test_multiple_values_of_one_filter(client: FlaskClient) -> None:
    response = client.get("/api/search?year=2023&year=2025")
    body = response.get_json()
    assert body["total"] == 15 + 11
    assert {h["date"][:4] for h in body["hits"]} <= {"2023", "2025"}


def test_date_range(client: FlaskClient) -> None:
    body = get_json(client, "/api/search", **{"from": "2024-03-01", "to": "2024-03-31"})
    assert body["total"] > 0
    assert all("2024-03-01" <= h["date"][:10] <= "2024-03-31" for h in body["hits"])


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_sorts(client: FlaskClient, sort: str) -> None:
    body = get_json(client, "/api/search", q="council", sort=sort)
    assert body["sort"] == sort
    dates = [h["date"] for h in body["hits"] if h["date"]]
    assert dates == sorted(dates, reverse=sort == "newest")


def test_did_you_mean(client: FlaskClient) -> None:
    assert get_json(client, "/api/search", q="flod")["corrected"] == "flood"


def test_paging_to_the_last_page(client: FlaskClient) -> None:
    body = get_json(client, "/api/search", page="5")
    assert body["page"] == 5 and len(body["hits"]) == 2


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ({"page": "0"}, "not a positive whole number"),
        ({"page": "-1"}, "not a positive whole number"),
        ({"page": "two"}, "not a positive whole number"),
        ({"page": "6"}, "past the last page (5)"),
        ({"page": "10" * 30}, "past the last page"),
        ({"sort": "random"}, "Unknown sort"),
        ({"from": "2024-02-30"}, "is not a date"),
        ({"to": "soon"}, "is not a date"),
        ({"from": "2025-01-01", "to": "2024-01-01"}, "start date is after the end date"),
    ],
)
def test_bad_arguments_are_400(client: FlaskClient, args: dict[str, str], words: str) -> None:
    assert_error(get_json(client, "/api/search", status=400, **args), 400, words)


@pytest.mark.parametrize("query", ['"unbalanced AND', "title:", "*", "x" * 10_000, "\x00", "(("])
def test_malformed_queries_are_answered(client: FlaskClient, query: str) -> None:
    body = get_json(client, "/api/search", q=query)
    assert isinstance(body["notes"], list)


def test_malformed_query_notes(client: FlaskClient) -> None:
    body = get_json(client, "/api/search", q='"flood')
    assert any("Unbalanced quote" in n for n in body["notes"])
    assert body["total"] == 4


def test_unknown_field_and_missing_filter_value_notes(client: FlaskClient) -> None:
    body = get_json(client, "/api/search", q="foo:flood")
    assert body["total"] == 4  # the value is searched for as a word
    assert any("no searchable field 'foo'" in n for n in body["notes"])
    body = get_json(client, "/api/search", q="flood", category="Politics")
    assert body["total"] == 0
    assert body["notes"] == ["No article has category 'Politics' (did you mean 'politics'?)."]


def test_article(client: FlaskClient) -> None:
    body = get_json(client, "/api/articles/jl-0001")
    assert set(body) >= {
        "id",
        "title",
        "author",
        "date",
        "source",
        "category",
        "url",
        "summary",
        "summary_sentences",
        "segmented",
        "text",
    }
    assert body["id"] == "jl-0001"
    assert body["author"] == "Owen Pritchard"
    assert body["date"] == "2023-06-05"
    assert len(body["summary_sentences"]) == 3
    assert body["summary"].startswith(body["summary_sentences"][0])
    assert body["segmented"] == "punkt"
    assert "River Holme" in body["text"]


def test_article_id_with_slashes(client: FlaskClient) -> None:
    body = get_json(client, "/api/articles/sample/txt/culture/st-marys-library-closure-protest")
    assert body["segmented"] == "restored"


@pytest.mark.parametrize("url", ["/api/articles/nope", "/api/articles/jl-0001/x", "/api/nothing"])
def test_unknown_is_json_404(client: FlaskClient, url: str) -> None:
    assert_error(get_json(client, url, status=404), 404, "")


def test_unknown_article_message_names_the_id(client: FlaskClient) -> None:
    body = get_json(client, "/api/articles/nope", status=404)
    assert "'nope'" in body["error"]["message"]


def test_wrong_method_is_json_405(client: FlaskClient) -> None:
    response = client.post("/api/search")
    assert response.status_code == 405
    assert response.mimetype == "application/json"
    assert response.get_json()["error"]["status"] == 405
    assert "GET" in response.headers["Allow"]


def test_missing_index_is_json_503(missing_client: FlaskClient) -> None:
    body = get_json(missing_client, "/api/search", status=503, q="x")
    assert_error(body, 503, "archive index")
