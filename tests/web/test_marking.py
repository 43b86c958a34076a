"""Marking summary sentences and query terms in article text: escaping first, then marks."""

from __future__ import annotations

import re
from html import unescape

import pytest
from flask.testing import FlaskClient
from whoosh.analysis import StemmingAnalyzer

from web.marking import article_paragraphs, mark_text, sentence_spans

ANALYZER = StemmingAnalyzer()


def test_sentence_found_ignoring_case_punctuation_and_spacing() -> None:
    text = "intro words the marchers walked   from the library on St Marys Road and more"
    [(start, end)] = sentence_spans(
        text, ["The marchers walked from the library on St. Mary's Road."]
    )
    assert text[start:end] == "the marchers walked   from the library on St Marys Road"


def test_missing_sentence_is_skipped() -> None:
    assert sentence_spans("one two three", ["Four five six.", "x"]) == []


def test_sentence_starts_on_a_word_boundary() -> None:
    assert sentence_spans("the cat sat", ["He cat sat."]) == []


def test_paragraphs_are_split_on_blank_lines() -> None:
    paragraphs = article_paragraphs("First one.\n\nSecond\none.\n \n\nThird.", [], set(), ANALYZER)
    assert paragraphs == ["First one.", "Second\none.", "Third."]


def test_text_is_escaped_before_marking() -> None:
    text = 'A <b>bold</b> & "quoted" claim. The <script>alert(1)</script> follows.'
    [html] = article_paragraphs(text, ["a <b>bold</b> & quoted claim"], {"script"}, ANALYZER)
    assert "<b>" not in html and "<script>" not in html
    assert html.startswith('<mark class="summary-sentence">A &lt;b&gt;bold&lt;/b&gt; &amp;')
    assert '&lt;<mark class="term">script</mark>&gt;alert(1)' in html


def test_terms_nest_inside_summary_marks() -> None:
    text = "Floods hit the town. Councils met. More floods came."
    [html] = article_paragraphs(text, ["Floods hit the town."], {"flood"}, ANALYZER)
    assert html == (
        '<mark class="summary-sentence"><mark class="term">Floods</mark> hit the town.</mark>'
        ' Councils met. More <mark class="term">floods</mark> came.'
    )


def test_sentence_across_a_paragraph_break_is_marked_in_both() -> None:
    text = "Alpha beta\n\ngamma delta. Epsilon."
    paragraphs = article_paragraphs(text, ["Alpha beta gamma delta."], set(), ANALYZER)
    assert paragraphs == [
        '<mark class="summary-sentence">Alpha beta</mark>',
        '<mark class="summary-sentence">gamma delta.</mark> Epsilon.',
    ]


def test_stop_words_in_the_query_are_marked_too() -> None:
    assert mark_text("The best of the rest", {"the"}, ANALYZER).count("<mark") == 2


def test_title_marking_escapes() -> None:
    assert mark_text("<i>Library</i> news", {"librari"}, ANALYZER) == (
        '&lt;i&gt;<mark class="term">Library</mark>&lt;/i&gt; news'
    )


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
