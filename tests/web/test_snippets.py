"""Snippets through the API: article text in order, shown once, "…" only over left-out text."""

from __future__ import annotations

import re
from html import unescape

import pytest
from flask.testing import FlaskClient

#: Queries whose snippets on the sample corpus once repeated text or put "…" over nothing.
SNIPPET_QUERIES = ["council", "flood defences", "flood", "said", "insurers", "police", "budget"]
_ELLIPSIS = " … "


def _snippets(client: FlaskClient, query: str) -> dict[str, tuple[str, str]]:
    """Plain text of each hit's snippet (marks removed, unescaped) and its article's text."""
    first = client.get("/api/search", query_string={"q": query}).get_json()
    hits = [
        hit
        for page in range(1, first["pages"] + 1)
        for hit in client.get("/api/search", query_string={"q": query, "page": page}).json["hits"]
    ]
    assert hits, query
    return {
        hit["id"]: (
            unescape(re.sub(r"</?mark>", "", hit["snippet"])),
            client.get(f"/api/articles/{hit['id']}").get_json()["text"],
        )
        for hit in hits
    }


@pytest.mark.parametrize("query", SNIPPET_QUERIES)
def test_snippets_are_article_text_in_order_with_ellipses_only_over_left_out_text(
    client: FlaskClient, query: str
) -> None:
    for doc_id, (snippet, text) in _snippets(client, query).items():
        body = snippet.removeprefix("… ").removesuffix(" …")
        end = 0
        for n, piece in enumerate(body.split(_ELLIPSIS)):
            start = text.find(piece, end)
            # Each piece is the article's own text, after the one before it: never repeated.
            assert start >= 0, (doc_id, piece)
            if n:
                assert re.search(r"\w", text[end:start]), (doc_id, "… over nothing", piece)
            else:
                before = text[:start]
                if re.search(r"[\w,;:]\s*$", before):
                    assert snippet.startswith("… "), (doc_id, "starts mid-sentence", snippet)
                if not before.strip():
                    assert not snippet.startswith("…"), (doc_id, snippet)
            end = start + len(piece)
        if snippet.endswith(" …"):
            assert text[end:].strip(), (doc_id, "… after the end", snippet)
        else:
            assert not re.search(r"[\w,;:]$", text[:end]) or not text[end:].strip(), snippet


def test_overlapping_fragments_are_shown_once(client: FlaskClient) -> None:
    snippet, _ = _snippets(client, "council")["csv-0006"]
    assert snippet.count("he said If I hadnt read about the") == 1
    assert "If I hadnt read about the attack I might have clicked it" in snippet


def test_contiguous_text_has_no_ellipsis_and_text_ends_are_kept(client: FlaskClient) -> None:
    snippet, _ = _snippets(client, "flood defences")["csv-0002"]
    assert "should help businesses get insurance in future." in snippet
    # Whoosh's word trimming also cut the last word of the article.
    snippet, text = _snippets(client, "council")["csv-0011"]
    assert text.endswith("council's website.") and snippet.endswith("council's website.")
