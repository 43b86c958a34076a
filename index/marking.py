"""Article text as escaped HTML paragraphs with summary sentences and query terms marked.

Every function here escapes the article text itself and adds only its own ``<mark>``
elements, so the web app may output the result as safe markup.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html import escape

from whoosh import query as wq
from whoosh.analysis import Analyzer
from whoosh.reading import IndexReader

#: Fields whose query terms are highlighted in the article text (same analyzer as text).
TEXT_FIELDS = ("title", "text")
#: A wildcard can expand to thousands of terms; this many are plenty to highlight.
MAX_TERMS = 500

_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n\s*")
_WORD_CHAR = re.compile(r"\w")
_SENTENCE_END = r"(?:[.!?…]+[\"'”’)\]]*)?"

Span = tuple[int, int]


def query_terms(query: wq.Query, reader: IndexReader) -> set[str]:
    """Indexed terms the query searches for in title or text, wildcards expanded, NOTs left out."""
    terms: set[str] = set()
    for leaf in _positive_leaves(query):
        try:
            expanded = leaf.expanded_terms(reader, phrases=True)
            for fieldname, text in expanded:
                if fieldname not in TEXT_FIELDS:
                    continue
                terms.add(text.decode("utf-8") if isinstance(text, bytes) else str(text))
                if len(terms) >= MAX_TERMS:
                    return terms
        except Exception:  # highlighting is a nicety; an odd query must not break the page
            continue
    return terms


def _positive_leaves(query: wq.Query) -> Iterator[wq.Query]:
    # Terms under NOT are the ones the reader asked not to see; marking them would mislead.
    if isinstance(query, wq.Not):
        return
    if isinstance(query, wq.AndNot):
        yield from _positive_leaves(query.a)
        return
    if query.is_leaf():
        yield query
        return
    for child in query.children():
        yield from _positive_leaves(child)


def sentence_spans(text: str, sentences: Iterable[str]) -> list[Span]:
    """Where each sentence occurs in ``text``, ignoring case, punctuation and spacing.

    Summaries of unpunctuated articles were rewritten (capital first letter, final full
    stop, cleaned symbols), so only the sequence of word characters is compared.
    Sentences not found are skipped.
    """
    spans: list[Span] = []
    for sentence in sentences:
        chars = _WORD_CHAR.findall(sentence)
        if len(chars) < 2:
            continue
        # The sentence's own closing punctuation, when the text has it, belongs to the mark.
        pattern = r"(?<!\w)" + r"\W*".join(re.escape(c) for c in chars) + _SENTENCE_END
        found = re.search(pattern, text, re.IGNORECASE)
        if found:
            spans.append(found.span())
    return _merge(spans)


def term_spans(text: str, terms: set[str], analyzer: Analyzer) -> list[Span]:
    """Character spans of the tokens of ``text`` that analyse to one of ``terms``."""
    if not terms or not text:
        return []
    return _merge(
        [
            (token.startchar, token.endchar)
            for token in analyzer(text, chars=True, mode="index", removestops=False)
            if token.text in terms
        ]
    )


def mark_text(text: str, terms: set[str], analyzer: Analyzer) -> str:
    """Escape ``text`` and mark the query's terms in it (for a title)."""
    return _render(text, 0, len(text), [], term_spans(text, terms, analyzer))


def article_paragraphs(
    text: str, sentences: Iterable[str], terms: set[str], analyzer: Analyzer
) -> list[str]:
    """The article split on blank lines, escaped, with summary sentences and terms marked."""
    summary = sentence_spans(text, sentences)
    words = term_spans(text, terms, analyzer)
    paragraphs = []
    start = 0
    for brk in [*_PARAGRAPH_BREAK.finditer(text), None]:
        end = brk.start() if brk else len(text)
        if text[start:end].strip():
            paragraphs.append(_render(text, start, end, summary, words))
        if brk:
            start = brk.end()
    return paragraphs


def _render(text: str, start: int, end: int, summary: list[Span], words: list[Span]) -> str:
    # Cut the range at every span edge, then wrap runs of pieces inside a summary sentence in
    # one mark and term pieces in their own, so marks nest properly even when spans overlap.
    cuts = {start, end}
    for spans in (summary, words):
        # Only spans that can reach into this paragraph; found by binary search.
        first = max(0, bisect.bisect_left(spans, (start, 0)) - 1)
        for a, b in spans[first:]:
            if a >= end:
                break
            cuts.update(c for c in (a, b) if start < c < end)
    edges = sorted(cuts)
    out: list[str] = []
    open_summary = False
    for a, b in zip(edges, edges[1:], strict=False):
        in_summary = _inside(summary, a, b)
        if in_summary != open_summary:
            out.append('<mark class="summary-sentence">' if in_summary else "</mark>")
            open_summary = in_summary
        piece = escape(text[a:b], quote=False)
        out.append(f'<mark class="term">{piece}</mark>' if _inside(words, a, b) else piece)
    if open_summary:
        out.append("</mark>")
    return "".join(out)


def _inside(spans: list[Span], a: int, b: int) -> bool:
    # Spans are sorted and do not overlap, so only the last one starting at or before ``a``
    # can contain the piece: a binary search keeps long articles linear.
    i = bisect.bisect_right(spans, (a, float("inf"))) - 1
    return i >= 0 and spans[i][0] <= a and b <= spans[i][1]


def _merge(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


@dataclass(frozen=True)
class Marker:
    """Marks one query's terms, and a summary's sentences, in escaped article text."""

    terms: set[str]
    analyzer: Analyzer

    def title(self, text: str) -> str:
        """The escaped title with the query's terms marked."""
        return mark_text(text, self.terms, self.analyzer)

    def paragraphs(self, text: str, sentences: Iterable[str]) -> list[str]:
        """The escaped article paragraphs with summary sentences and terms marked."""
        return article_paragraphs(text, sentences, self.terms, self.analyzer)
