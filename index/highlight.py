"""Snippets with query terms wrapped in <mark>, everything else HTML-escaped."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from html import escape
from typing import Any

from whoosh import highlight
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.searching import Hit, Results

from index.settings import SNIPPET_CHARS

ELLIPSIS = " … "
#: Fragments this close are shown as one, the text between included: an ellipsis there would
#: hide a word or two and cost as much room.
JOIN_GAP = 30
_SENTENCE_END = re.compile(r"(?:^|\W)(\w+(?:\.\w+)*)?[.!?…][\"'”’)\]]*$")
# Abbreviations whose full stop does not end a sentence ("Mr. Raj Mehta said").
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof cllr rev st sen rep gov gen col capt lt sgt no vs approx e.g i.e".split()
)


class MarkFormatter(highlight.Formatter):
    """Wrap matched terms in <mark> and escape all article text, matched or not."""

    between = ELLIPSIS

    def _text(self, text: str) -> str:
        return escape(text, quote=False)

    def format_token(self, text: str, token: highlight.Token, replace: bool = False) -> str:
        """Return one matched term as escaped text inside <mark>."""
        return "<mark>" + escape(highlight.get_text(text, token, replace), quote=False) + "</mark>"

    def format(self, fragments: list[highlight.Fragment], replace: bool = False) -> str:
        """Join fragments that overlap or nearly touch; "…" marks only text really left out."""
        if not fragments:
            return ""
        joined = _join(fragments)
        out = self.between.join(self.format_fragment(f, replace=replace) for f in joined)
        text = joined[0].text
        if not _starts_sentence(text, joined[0].startchar):
            out = "… " + out
        if not _ends_sentence(text, joined[-1].endchar):
            out += " …"
        return out


def _join(fragments: list[highlight.Fragment]) -> list[highlight.Fragment]:
    # Whoosh cuts a fragment around each group of matches and joins them with the ellipsis
    # even where two overlap, which showed the same words twice.
    joined: list[highlight.Fragment] = []
    for frag in sorted(fragments, key=lambda f: f.startchar):
        if joined and frag.startchar - joined[-1].endchar <= JOIN_GAP:
            last = joined[-1]
            joined[-1] = highlight.Fragment(
                last.text,
                last.matches + frag.matches,
                last.startchar,
                max(last.endchar, frag.endchar),
            )
        else:
            joined.append(frag)
    return joined


def _starts_sentence(text: str, start: int) -> bool:
    before = text[:start].rstrip(" \t")
    return not before.strip() or before.endswith("\n") or _ends_with_sentence(before)


def _ends_sentence(text: str, end: int) -> bool:
    return not text[end:].strip() or _ends_with_sentence(text[:end].rstrip())


def _ends_with_sentence(text: str) -> bool:
    # Only the text from its last space can match (the pattern holds no space), and
    # searching a whole article from its start cost a quarter of a snippet's time.
    # A final newline is left to the pattern, whose $ matches before it.
    last_space = max(0, *(text.rfind(c, 0, len(text) - 1) for c in " \t\n"))
    found = _SENTENCE_END.search(text, last_space)
    if not found:
        return False
    word = (found.group(1) or "").lower()
    # A single letter before the stop is an initial ("J. Smith").
    return word not in _ABBREVIATIONS and not (len(word) == 1 and word.isalpha())


class WordFragmenter(highlight.PinpointFragmenter):
    """Whoosh's pinpoint fragmenter, trimmed to whole words without losing the text's ends."""

    @staticmethod
    def _autotrim(fragment: highlight.Fragment) -> None:
        # Whoosh trims a fragment to the spaces inside it, which also cut the first word of
        # the text and the last one ("the council's website." became "the council's").
        start, end = fragment.startchar, fragment.endchar
        highlight.PinpointFragmenter._autotrim(fragment)
        if start == 0:
            fragment.startchar = 0
        if end >= len(fragment.text):
            fragment.endchar = end


FORMATTER = MarkFormatter()
# Pinpoint fragments come from the character offsets stored at index time, so a snippet
# needs no re-analysis of the article: the costly part of Whoosh's default highlighter.
PINPOINT = highlight.Highlighter(
    fragmenter=WordFragmenter(maxchars=SNIPPET_CHARS, surround=70, autotrim=True),
    formatter=FORMATTER,
)


def _load_chars(results: Results, fieldname: str) -> None:
    """Where each matched word is in each hit of ``results``, for pinpoint fragments.

    What Whoosh's highlighter loads the first time it highlights a hit, read faster: it
    reads each word's postings through the searcher, which sets up a scorer (summing global
    statistics over every segment) that is never used; here each word's postings are read
    in the segments that hold the hits, unscored, in document order as Whoosh reads them.
    """
    if fieldname in results._char_cache or not PINPOINT.can_load_chars(results, fieldname):
        return
    field = results.searcher.schema[fieldname]
    leaves = results.searcher.reader().leaf_readers()
    offsets = [offset for _, offset in leaves]
    found: dict[int, dict[str, Any]] = {docnum: {} for _, docnum in results.top_n}
    for (name, btext), docnums in results.termdocs.items():
        if name != fieldname:
            continue
        word = field.from_bytes(btext)
        matchers: dict[int, Any] = {}
        for docnum in sorted(set(docnums) & found.keys()):
            segment = bisect_right(offsets, docnum) - 1
            leaf, offset = leaves[segment]
            if segment not in matchers:
                matchers[segment] = leaf.postings(fieldname, btext)
            matcher = matchers[segment]
            _seek(matcher, docnum - offset)
            found[docnum][word] = matcher.value_as("characters")
    results._char_cache[fieldname] = found


def _seek(matcher: Any, target: int) -> None:
    # Whoosh's skip_to steps through a block one posting at a time: at 20,000 articles that
    # was a fifth of a search with snippets. A block's ids are sorted, so bisect them. The
    # target is a hit, never deleted, so a FilterMatcher's child can be moved directly.
    leaf = getattr(matcher, "child", matcher)
    if not isinstance(leaf, W3LeafMatcher):
        matcher.skip_to(target)
        return
    if target > leaf.block_max_id():
        leaf._skip_to_block(lambda: target > leaf.block_max_id())
    if leaf._ids is None:
        leaf._read_ids()
    leaf._i = max(leaf._i, bisect_left(leaf._ids, target))


def lead(text: str, chars: int = SNIPPET_CHARS) -> str:
    """The escaped opening of ``text``, cut at a word boundary: the snippet when nothing matched."""
    if len(text) <= chars:
        return escape(text, quote=False)
    cut = text.rfind(" ", 0, chars)
    return escape(text[: cut if cut > 0 else chars], quote=False) + " …"


def snippet(hit: Hit, fieldname: str = "text", fragments: int = 2) -> str:
    """HTML snippet of a search hit, falling back to the article's opening."""
    text = hit.get(fieldname) or ""
    _load_chars(hit.results, fieldname)
    marked = PINPOINT.highlight_hit(hit, fieldname, text=text, top=fragments)
    return marked or lead(text)
