"""The HTML pages over the sample corpus: search, filters, sorting, paging and articles."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient

from tests.web.conftest import FACET_VALUES

SAMPLE_TOTAL = 42
LIBRARY_ARTICLE = "sample/txt/culture/st-marys-library-closure-protest"


def html_of(client: FlaskClient, url: str, status: int = 200) -> str:
    """GET ``url`` and return its HTML, checking the status and content type."""
    response = client.get(url)
    assert response.status_code == status, url
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def hit_links(html: str) -> list[str]:
    """The article links of the result list, in order."""
    return [unescape(h) for h in re.findall(r'<h2 class="hit-title"><a href="([^"]+)"', html)]


def hit_ids(html: str) -> list[str]:
    """Article ids of the results, in order."""
    return [urlsplit(link).path.removeprefix("/articles/") for link in hit_links(html)]


def hit_metas(html: str, cls: str) -> list[str]:
    """One metadata field (``source``, ``author``, ``category``) of every hit."""
    metas = re.findall(r'<p class="meta">(.*?)</p>', html, re.S)
    values = []
    for meta in metas:
        found = re.search(rf'<span class="{cls}">(.*?)</span>', meta)
        values.append(unescape(found.group(1)) if found else "")
    return values


def hit_dates(html: str) -> list[str]:
    """Dates of the hits that have one, in order."""
    return re.findall(r'<p class="meta">.*?<time datetime="([^"]+)"', html, re.S)


def notes(html: str) -> list[str]:
    """The friendly notes about the query shown above the results."""
    block = re.search(r'<div class="notes" role="status">(.*?)</div>', html, re.S)
    return [unescape(n) for n in re.findall(r"<li>(.*?)</li>", block.group(1))] if block else []


def facet_links(html: str, name: str) -> dict[str, str]:
    """Facet value -> link, for one facet."""
    section = re.search(
        rf'<section class="facet" aria-labelledby="facet-{name}">(.*?)</section>', html, re.S
    )
    assert section, name
    links = {}
    for href, value in re.findall(
        r'<a href="([^"]+)"[^>]*>\s*<span class="facet-value">'
        r'(?:<span aria-hidden="true">✓ </span>)?(.*?)</span>',
        section.group(1),
        re.S,
    ):
        links[unescape(value)] = unescape(href)
    return links


def text_of(html: str) -> str:
    """The visible text of some HTML, whitespace collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def article_text(html: str) -> str:
    """The HTML of an article page's full text, after the legend."""
    section = html.split('id="text-heading"')[1].split("</section>")[0]
    return section.split('<p class="legend small">')[1].split("</p>", 1)[1]


def words(text: str) -> str:
    """Only the word characters of ``text``, lower-cased."""
    return "".join(re.findall(r"\w", text)).lower()


def args_of(url: str) -> dict[str, list[str]]:
    """Query-string arguments of a link."""
    return parse_qs(urlsplit(url).query)


# The search page


def test_empty_query_lists_newest_articles_and_archive_size(client: FlaskClient) -> None:
    html = html_of(client, "/")
    assert f"{SAMPLE_TOTAL} articles in the archive" in html
    assert len(hit_ids(html)) == 10
    dates = hit_dates(html)
    assert len(dates) == 10 and dates == sorted(dates, reverse=True)


def test_search_box_has_label_autofocus_and_keeps_query(client: FlaskClient) -> None:
    html = html_of(client, "/?q=flood+%22defence%22")
    assert '<label for="q">' in html
    field = re.search(r'<input type="search" id="q"[^>]*>', html).group(0)
    assert "autofocus" in field
    assert 'value="flood &#34;defence&#34;"' in field


def test_results_show_title_link_metadata_snippet_and_summary(client: FlaskClient) -> None:
    html = html_of(client, "/?q=flood")
    assert "4 results for “flood”" in text_of(html)
    assert re.search(r'<span class="took">\(\d+ ms\)</span>', html)
    links = hit_links(html)
    assert len(links) == 4
    assert all(args_of(link)["q"] == ["flood"] for link in links)
    assert all(urlsplit(link).path.startswith("/articles/") for link in links)
    snippets = re.findall(r'<p class="snippet">(.*?)</p>', html, re.S)
    assert len(snippets) == 4
    assert all("<mark>" in s.lower() for s in snippets)
    assert html.count('<div class="summary">') == 4
    assert all(hit_metas(html, "source")) and all(hit_metas(html, "author"))
    assert len(hit_dates(html)) == 4


def test_query_help_panel(client: FlaskClient) -> None:
    html = html_of(client, "/")
    assert '<details class="query-help">' in html
    for example in ("OR", "NOT", "title:library", "clim*", '"bus fares"'):
        assert example in html


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced AND',
        "title:",
        "*",
        "x" * 10_000,
        "flood " * 2_000,
        "(council",
        "council)",
        "[2020 TO",
        "date:notadate",
        "year:[2023 TO 2024]",
        "wom?n AND *",
        "~ ^ \\",
        "\x00",
        "NOT",
        "AND OR",
        "author:",
        "{",
        "title:(unclosed",
        "category:sport^x",
        "*a*",
    ],
)
def test_malformed_queries_never_fail(client: FlaskClient, query: str) -> None:
    response = client.get("/", query_string={"q": query})
    assert response.status_code == 200
    text = text_of(response.get_data(as_text=True))
    assert "results for" in text or "articles in the archive" in text


@pytest.mark.parametrize(
    ("query", "note"),
    [
        ('"unbalanced AND', "Unbalanced quote"),
        ("title:", "A field name has no value"),
        ("x" * 10_000, "cut to its first"),
    ],
)
def test_malformed_queries_explain_themselves(client: FlaskClient, query: str, note: str) -> None:
    html = html_of(client, "/?" + f"q={query}".replace('"', "%22"))
    assert any(note in n for n in notes(html))


def test_degraded_query_still_searches_the_words(client: FlaskClient) -> None:
    html = html_of(client, "/?q=%22flood")
    assert len(hit_ids(html)) == 4


def test_did_you_mean_links_to_corrected_query(client: FlaskClient) -> None:
    html = html_of(client, "/?q=flod&sort=newest")
    found = re.search(r'Did you mean <a href="([^"]+)">flood</a>\?', html)
    assert found
    link = unescape(found.group(1))
    assert args_of(link) == {"q": ["flood"], "sort": ["newest"]}
    assert len(hit_ids(html_of(client, link))) == 4


def test_no_results_shows_tips_and_clear_filters_link(client: FlaskClient) -> None:
    html = html_of(client, "/?q=zebra&source=Daily+Meridian")
    assert "No articles found" in html
    assert "Check the spelling" in html
    clear = re.search(r'<a href="([^"]+)">Search again without the filters</a>', html)
    assert clear and args_of(unescape(clear.group(1))) == {"q": ["zebra"]}


# Pagination


def test_pages_follow_each_other_without_overlap(client: FlaskClient) -> None:
    seen: list[str] = []
    for page in range(1, 6):
        ids = hit_ids(html_of(client, f"/?page={page}"))
        assert len(ids) == (10 if page < 5 else 2)
        seen += ids
    assert len(set(seen)) == SAMPLE_TOTAL


def test_pager_has_previous_next_and_window(client: FlaskClient) -> None:
    html = html_of(client, "/?page=3")
    pager = re.search(r'<nav class="pager".*?</nav>', html, re.S).group(0)
    assert '<span class="current" aria-current="page">3</span>' in pager
    prev = unescape(re.search(r'<a rel="prev" href="([^"]+)"', pager).group(1))
    nxt = unescape(re.search(r'<a rel="next" href="([^"]+)"', pager).group(1))
    assert args_of(prev) == {"page": ["2"]}
    assert args_of(nxt) == {"page": ["4"]}
    numbers = re.findall(r'aria-label="Page (\d+)"', pager)
    assert numbers == ["1", "2", "4", "5"]


def test_first_and_last_page_disable_prev_and_next(client: FlaskClient) -> None:
    first = html_of(client, "/")
    assert '<span class="disabled">← Previous</span>' in first
    last = html_of(client, "/?page=5")
    assert '<span class="disabled">Next →</span>' in last


def test_pager_keeps_query_filters_and_sort(client: FlaskClient) -> None:
    html = html_of(client, "/?q=council&sort=oldest&year=2023&year=2024")
    nxt = unescape(re.search(r'<a rel="next" href="([^"]+)"', html).group(1))
    assert args_of(nxt) == {
        "q": ["council"],
        "sort": ["oldest"],
        "year": ["2023", "2024"],
        "page": ["2"],
    }


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "", "٣", "1e3"])
def test_bad_page_numbers_show_the_first_page(client: FlaskClient, page: str) -> None:
    html = html_of(client, f"/?page={page}")
    assert hit_ids(html) == hit_ids(html_of(client, "/"))
    if page:
        assert any("not a positive whole number" in n for n in notes(html))


@pytest.mark.parametrize("page", ["6", "999", "100000000000000000000000"])
def test_page_past_the_end_shows_the_last_page(client: FlaskClient, page: str) -> None:
    html = html_of(client, f"/?page={page}")
    assert len(hit_ids(html)) == 2
    assert any("only 5 pages" in n for n in notes(html))
    assert '<span class="current" aria-current="page">5</span>' in html


def test_page_past_the_end_of_no_results(client: FlaskClient) -> None:
    html = html_of(client, "/?q=zebra&page=3")
    assert "No articles found" in html


# Facets and filters


def test_facets_list_counts_for_the_current_query(client: FlaskClient) -> None:
    html = html_of(client, "/?q=flood")
    for name in ("source", "author", "category", "year"):
        assert f'id="facet-{name}"' in html
    assert re.search(
        r'<span class="facet-value">Valley Tribune</span>\s*<span class="count">3</span>', html
    )
    assert re.search(r'<span class="facet-value">2024</span>\s*<span class="count">3</span>', html)


@pytest.mark.parametrize(("name", "value"), FACET_VALUES)
def test_clicking_a_facet_narrows_results_and_shows_a_chip(
    client: FlaskClient, name: str, value: str
) -> None:
    link = facet_links(html_of(client, "/"), name)[value]
    assert args_of(link) == {name: [value]}
    html = html_of(client, link)
    ids = hit_ids(html)
    assert ids
    if name == "year":
        assert all(d.startswith(value) for d in hit_dates(html))
    else:
        assert all(v.lower() == value.lower() for v in hit_metas(html, name))
    chip = re.search(r'<a class="chip" href="([^"]+)"[^>]*>\s*(.*?) <span', html, re.S)
    assert chip and unescape(chip.group(2)).strip().endswith(value)
    assert args_of(unescape(chip.group(1))) == {}


def test_several_values_of_a_facet_are_combined_with_or(client: FlaskClient) -> None:
    one = len(hit_ids(html_of(client, "/?q=council&year=2023")))
    both_html = html_of(client, "/?q=council&year=2023&year=2024")
    assert both_html.count('class="chip"') == 2
    total = int(re.search(r"(\d+) results for", text_of(both_html)).group(1))
    assert total > one
    links = facet_links(both_html, "year")
    assert args_of(links["2023"]) == {"q": ["council"], "year": ["2024"]}


def test_facets_across_fields_are_combined_with_and(client: FlaskClient) -> None:
    html = html_of(client, "/?source=Valley+Tribune&category=politics")
    assert hit_ids(html)
    assert set(hit_metas(html, "source")) == {"Valley Tribune"}
    assert {c.lower() for c in hit_metas(html, "category")} == {"politics"}


def test_unknown_facet_value_gives_empty_state(client: FlaskClient) -> None:
    html = html_of(client, "/?source=Nowhere+Times")
    assert "No articles found" in html
    assert "Source: Nowhere Times" in html
    assert "No article has source &#39;Nowhere Times&#39;." in html


def test_date_range_filters_results(client: FlaskClient) -> None:
    html = html_of(client, "/?from=2024-01-01&to=2024-06-30")
    dates = hit_dates(html)
    assert dates and all("2024-01-01" <= d[:10] <= "2024-06-30" for d in dates)
    assert "From: 2024-01-01" in html and "To: 2024-06-30" in html
    assert 'value="2024-01-01"' in html


def test_open_ended_date_range(client: FlaskClient) -> None:
    dates = hit_dates(html_of(client, "/?sort=oldest&from=2025-01-01"))
    assert dates and all(d >= "2025-01-01" for d in dates)


@pytest.mark.parametrize(
    "query", ["from=yesterday", "to=2024-13-01", "from=2024-02-30", "from=20240101", "to=%00"]
)
def test_invalid_dates_are_noted_and_ignored(client: FlaskClient, query: str) -> None:
    html = html_of(client, f"/?{query}")
    assert any("is not a date" in n for n in notes(html))
    assert f"{SAMPLE_TOTAL} articles in the archive" in html


def test_reversed_date_range_is_noted_and_ignored(client: FlaskClient) -> None:
    html = html_of(client, "/?from=2025-01-01&to=2023-01-01")
    assert any("start date is after the end date" in n for n in notes(html))
    assert len(hit_ids(html)) == 10


def test_clear_all_filters_keeps_query(client: FlaskClient) -> None:
    html = html_of(client, "/?q=council&year=2024&from=2024-01-01&sort=newest")
    clear = re.search(r'<a class="clear-filters" href="([^"]+)"', html)
    assert clear and args_of(unescape(clear.group(1))) == {"q": ["council"], "sort": ["newest"]}


# Sorting


def test_sort_newest_and_oldest(client: FlaskClient) -> None:
    newest = hit_dates(html_of(client, "/?q=council&sort=newest"))
    oldest = hit_dates(html_of(client, "/?q=council&sort=oldest"))
    assert newest == sorted(newest, reverse=True) and len(newest) >= 5
    assert oldest == sorted(oldest) and len(oldest) >= 5
    assert newest[0] > oldest[0]


def test_sort_links_mark_the_current_sort(client: FlaskClient) -> None:
    html = html_of(client, "/?q=council&sort=oldest&page=2")
    assert '<span class="current" aria-current="true">Oldest first</span>' in html
    newest = unescape(re.search(r'<a href="([^"]+)">Newest first</a>', html).group(1))
    assert args_of(newest) == {"q": ["council"], "sort": ["newest"]}


def test_relevance_is_the_default_sort(client: FlaskClient) -> None:
    html = html_of(client, "/?q=council")
    assert '<span class="current" aria-current="true">Relevance</span>' in html


def test_unknown_sort_is_noted(client: FlaskClient) -> None:
    html = html_of(client, "/?q=council&sort=random")
    assert any("Unknown sort" in n for n in notes(html))
    assert hit_ids(html) == hit_ids(html_of(client, "/?q=council"))


# The article page


def test_article_page_shows_metadata_summary_and_text(client: FlaskClient) -> None:
    api = client.get("/api/articles/jl-0001").get_json()
    html = html_of(client, "/articles/jl-0001")
    assert f"<h1>{api['title']}</h1>" in unescape(html)
    for value in (api["author"], api["source"], api["date"]):
        assert value in unescape(html)
    assert '<section class="article-summary"' in html
    paragraphs = re.findall(r"<p>(.*?)</p>", html.split('id="text-heading"')[1], re.S)
    assert len(paragraphs) == api["text"].count("\n\n") + 1
    assert 'href="https://www.example.com/meridian/' in html


def test_article_marks_every_summary_sentence(client: FlaskClient) -> None:
    api = client.get("/api/articles/jl-0001").get_json()
    html = html_of(client, "/articles/jl-0001")
    marked = [
        words(text_of(m))
        for m in re.split(r'<mark class="summary-sentence">', article_text(html))[1:]
    ]
    assert len(marked) == len(api["summary_sentences"]) == 3
    for sentence, mark in zip(api["summary_sentences"], marked, strict=True):
        assert mark.startswith(words(sentence)), sentence


def test_article_marks_restored_summary_sentences(client: FlaskClient) -> None:
    # This article has no punctuation: its summary sentences were capitalised and given
    # full stops, so they differ from the text they were taken from.
    api = client.get(f"/api/articles/{LIBRARY_ARTICLE}").get_json()
    assert api["segmented"] == "restored"
    html = html_of(client, f"/articles/{LIBRARY_ARTICLE}")
    text = article_text(html)
    assert text.count('<mark class="summary-sentence">') == len(api["summary_sentences"]) == 3


def test_readers_never_see_method_names_in_summaries(client: FlaskClient) -> None:
    # How sentences were found is a detail: it is in the JSON and the article page's
    # details, never beside a summary a reader reads.
    api = client.get(f"/api/articles/{LIBRARY_ARTICLE}").get_json()
    assert api["segmented"] == "restored"
    html = html_of(client, f"/articles/{LIBRARY_ARTICLE}")
    section = html.split('id="summary-heading"')[1].split("</section>")[0]
    shown, details = section.split('<details class="summary-method small">')
    # Everything shown but the summary and its plain-words note: the heading alone.
    rest = text_of(shown)
    for part in (api["summary"], api["summary_note"]):
        assert " ".join(part.split()) in rest
        rest = rest.replace(" ".join(part.split()), "")
    assert rest.split() == [">Summary"]
    assert "segmentation: restored" in text_of(details)
    results = html_of(client, "/?q=library")
    labels = re.findall(r'<span class="summary-label">(.*?)</span>', results)
    assert labels and set(labels) == {"Summary"}


def test_article_from_search_highlights_query_terms(client: FlaskClient) -> None:
    html = html_of(client, f"/articles/{LIBRARY_ARTICLE}?q=library+OR+march*+NOT+zebra")
    text = article_text(html)
    terms = {t.lower() for t in re.findall(r'<mark class="term">(.*?)</mark>', text)}
    assert {"library", "libraries", "marched", "marchers"} <= terms
    assert '<mark class="term">library</mark></h1>' in html
    back = re.search(r'<p class="back"><a href="([^"]+)"', html)
    assert args_of(unescape(back.group(1))) == {"q": ["library OR march* NOT zebra"]}


def test_article_without_query_marks_no_terms(client: FlaskClient) -> None:
    html = html_of(client, f"/articles/{LIBRARY_ARTICLE}")
    text = article_text(html)
    assert '<mark class="summary-sentence">' in text
    assert '<mark class="term">' not in text


def test_article_with_malformed_query_still_renders(client: FlaskClient) -> None:
    for query in ('"library', "title:", "*", "x" * 10_000):
        response = client.get(f"/articles/{LIBRARY_ARTICLE}", query_string={"q": query})
        assert response.status_code == 200


def test_more_like_this_links_to_five_similar_articles(client: FlaskClient) -> None:
    html = html_of(client, "/articles/jl-0001")
    aside = html.split('<aside class="more-like"')[1]
    links = [unescape(h) for h in re.findall(r'<li><a href="([^"]+)"', aside)]
    assert len(links) == 5
    assert "/articles/jl-0001" not in links
    for link in links:
        assert client.get(link).status_code == 200


def test_article_ids_with_slashes(client: FlaskClient) -> None:
    html = html_of(client, f"/articles/{LIBRARY_ARTICLE}")
    assert "Hundreds march to save St Mary" in html


@pytest.mark.parametrize(
    "article_id", ["nope", "jl-0001/extra", "sample/txt", "%00", "..%2F..%2Fetc%2Fpasswd"]
)
def test_unknown_article_is_an_html_404(client: FlaskClient, article_id: str) -> None:
    html = html_of(client, f"/articles/{article_id}", status=404)
    assert "<h1>Not found</h1>" in html
    assert "There is no article with the id" in html


def test_unknown_page_is_an_html_404(client: FlaskClient) -> None:
    html = html_of(client, "/no/such/page", status=404)
    assert "There is no page at this address." in html


def test_post_is_not_allowed(client: FlaskClient) -> None:
    response = client.post("/")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


# The rest


def test_opensearch_description(client: FlaskClient) -> None:
    response = client.get("/opensearch.xml")
    assert response.status_code == 200
    assert response.mimetype == "application/opensearchdescription+xml"
    body = response.get_data(as_text=True)
    assert "<OpenSearchDescription" in body
    assert 'template="/?q={searchTerms}' in body
    html = html_of(client, "/")
    assert re.search(
        r'<link rel="search" type="application/opensearchdescription\+xml"\s+'
        r'href="/opensearch.xml"',
        html,
    )


def test_static_files_are_served(client: FlaskClient) -> None:
    html = html_of(client, "/")
    css = re.search(r'<link rel="stylesheet" href="([^"]+)"', html).group(1)
    response = client.get(css)
    assert response.status_code == 200 and response.mimetype == "text/css"
    assert client.get("/static/favicon.svg").status_code == 200


def test_missing_index_is_a_friendly_503(missing_client: FlaskClient) -> None:
    for url in ("/", "/?q=flood", "/articles/x"):
        html = html_of(missing_client, url, status=503)
        assert "The archive is not ready yet" in html
        assert "archive --index-dir" in html


def test_index_built_after_start_is_picked_up(tmp_path, sample_dir) -> None:
    from app.indexer import Settings, index_paths
    from web import create_app

    index_dir = tmp_path / "late"
    client = create_app({"INDEX_DIR": str(index_dir), "TESTING": True}).test_client()
    assert client.get("/").status_code == 503
    index_paths([sample_dir / "articles.jsonl"], index_dir, Settings(workers=1))
    assert client.get("/").status_code == 200
