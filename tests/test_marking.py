"""Marking summary sentences and query terms in article text: escaping first, then marks."""

from __future__ import annotations

from whoosh.analysis import StemmingAnalyzer

from index.marking import article_paragraphs, mark_text, sentence_spans

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
