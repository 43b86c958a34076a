"""Multi-select facets, facet labels, date sorting and the timeline, in the API and the page."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from pathlib import Path

from flask.testing import FlaskClient

from tests.sample_dates import per_month, sample_dates
from tests.web.test_pages import args_of, facet_links, hit_ids, hit_metas, html_of, notes
from web import create_app

#: Categories of the sample corpus: eight, each with several articles.
CATEGORIES = {"business", "culture", "environment", "health", "politics", "science", "sport"}


def api(client: FlaskClient, query: str) -> dict:
    """GET /api/search?``query`` and return its JSON."""
    response = client.get("/api/search?" + query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_api_multi_select_is_a_union_and_keeps_other_counts(client: FlaskClient) -> None:
    everything = api(client, "")
    politics = api(client, "category=politics")
    both = api(client, "category=politics&category=business")
    counts = {f["value"]: f["count"] for f in everything["facets"]["category"]}
    assert set(counts) >= CATEGORIES
    # Picking categories leaves every category listed with its count under the other filters.
    assert politics["facets"]["category"] == everything["facets"]["category"]
    assert both["facets"]["category"] == everything["facets"]["category"]
    assert both["total"] == counts["politics"] + counts["business"] > politics["total"]
    every = set()
    for page in (1, 2):
        hits = api(client, f"category=politics&category=business&page={page}")["hits"]
        assert {h["category"] for h in hits} <= {"politics", "business"}
        every |= {h["id"] for h in hits}
    assert len(every) == both["total"]
    # Across facets the filters AND: the source counts are those of the chosen categories.
    sources = sum(f["count"] for f in both["facets"]["source"])
    assert sources <= both["total"] < everything["total"]


def test_page_multi_select_shows_chips_other_values_and_the_union(client: FlaskClient) -> None:
    html = html_of(client, "/?category=politics&category=business")
    chips = [unescape(c) for c in re.findall(r'aria-label="Remove filter ([^"]+)"', html)]
    assert chips == ["Category: politics", "Category: business"]
    links = facet_links(html, "category")
    assert set(links) >= CATEGORIES
    # Each unchosen value adds itself to the selection; a chosen one removes only itself.
    assert args_of(links["sport"]) == {"category": ["politics", "business", "sport"]}
    assert args_of(links["politics"]) == {"category": ["business"]}
    for value in CATEGORIES - {"politics", "business"}:
        count = re.search(
            rf'<span class="facet-value">{value}</span>\s*<span class="count">(\d+)</span>', html
        )
        assert count and int(count.group(1)) > 0, value
    assert set(hit_metas(html, "category")) == {"politics", "business"}
    assert len(hit_ids(html)) == 10  # 12 hits: a full first page


def test_labels_keep_the_case_of_the_data(
    tmp_path: Path, build_index: Callable, write_jsonl: Callable
) -> None:
    records = [
        {
            "id": f"a{i}",
            "title": f"Story {i}",
            "text": "Words about the harbour.",
            "date": d,
            "category": cat,
            "source": "BBC News",
        }
        for i, (cat, d) in enumerate([("Politics", "2024-01-05"), ("UK Politics", "2024-02-01")])
    ]
    index_dir, _ = build_index(write_jsonl("a.jsonl", records))
    client = create_app({"INDEX_DIR": str(index_dir), "TESTING": True}).test_client()
    html = html_of(client, "/?category=Politics")
    assert set(facet_links(html, "category")) == {"Politics", "UK Politics"}
    assert hit_metas(html, "category") == ["Politics"]
    assert set(facet_links(html, "source")) == {"BBC News"}
    body = api(client, "category=Politics")
    assert [h["category"] for h in body["hits"]] == ["Politics"]
    assert {f["value"] for f in body["facets"]["category"]} == {"Politics", "UK Politics"}


def test_date_sort_is_offered_only_for_dated_hits(client: FlaskClient) -> None:
    dated = html_of(client, "/?q=council")
    assert "Newest first" in dated and "cannot be sorted by date" not in dated
    undated = html_of(client, "/?q=shop+closures")  # the one hit is a headerless file
    assert hit_ids(undated) == ["sample/txt/business/high-street-shop-closures"]
    assert "Newest first" not in undated and "Oldest first" not in undated
    assert "None of these articles has a date, so they cannot be sorted by date." in notes(undated)
    assert 'class="timeline"' not in undated


def test_api_timeline_has_the_sample_months(client: FlaskClient, sample_dir: Path) -> None:
    expected = per_month(sample_dates(sample_dir))
    timeline = api(client, "")["timeline"]
    assert set(timeline[0]) == {"start", "end", "count"}
    got = {b["start"][:7]: b["count"] for b in timeline}
    assert {m: n for m, n in got.items() if n} == dict(expected)
    assert timeline[0]["start"] == min(expected) + "-01"
    assert timeline[-1]["end"][:7] == max(expected)
    politics = api(client, "category=politics")
    assert sum(b["count"] for b in politics["timeline"]) == politics["total"]


def test_page_timeline_bars_link_to_their_dates(client: FlaskClient, sample_dir: Path) -> None:
    expected = per_month(sample_dates(sample_dir))
    html = html_of(client, "/?q=council&category=politics&category=culture")
    svg = re.search(r'<svg class="timeline-chart".*?</svg>', html, re.S)
    assert svg and "<script" not in svg.group(0) and "style=" not in svg.group(0)
    bars = re.findall(r'<a href="([^"]+)" role="listitem" aria-label="([^"]+)"', svg.group(0))
    assert len(bars) >= 2
    for href, label in bars:
        month, count = label.split(": ")
        args = args_of(unescape(href))
        assert args["from"] == [month + "-01"] and args["to"][0].startswith(month)
        assert args["q"] == ["council"] and args["category"] == ["politics", "culture"]
        total = api(client, unescape(href).split("?", 1)[1])["total"]
        assert total == int(count)
    whole = html_of(client, "/")
    labels = re.findall(r'role="listitem" aria-label="([^"]+)"', whole)
    assert {
        label.split(": ")[0]: int(label.split(": ")[1])
        for label in labels
        if not label.endswith(": 0")
    } == dict(expected)
