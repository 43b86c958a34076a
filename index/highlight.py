"""Snippets with query terms wrapped in <mark>, everything else HTML-escaped."""

from __future__ import annotations

from html import escape

from whoosh import highlight
from whoosh.searching import Hit

SNIPPET_CHARS = 240
ELLIPSIS = " … "


class MarkFormatter(highlight.Formatter):
    """Wrap matched terms in <mark> and escape all article text, matched or not."""

    between = ELLIPSIS

    def _text(self, text: str) -> str:
        return escape(text, quote=False)

    def format_token(self, text: str, token: highlight.Token, replace: bool = False) -> str:
        """Return one matched term as escaped text inside <mark>."""
        return "<mark>" + escape(highlight.get_text(text, token, replace), quote=False) + "</mark>"


FORMATTER = MarkFormatter()
# Pinpoint fragments come from the character offsets stored at index time, so a snippet
# needs no re-analysis of the article: the costly part of Whoosh's default highlighter.
PINPOINT = highlight.Highlighter(
    fragmenter=highlight.PinpointFragmenter(maxchars=SNIPPET_CHARS, surround=70, autotrim=True),
    formatter=FORMATTER,
)


def lead(text: str, chars: int = SNIPPET_CHARS) -> str:
    """The escaped opening of ``text``, cut at a word boundary: the snippet when nothing matched."""
    if len(text) <= chars:
        return escape(text, quote=False)
    cut = text.rfind(" ", 0, chars)
    return escape(text[: cut if cut > 0 else chars], quote=False) + " …"


def snippet(hit: Hit, fieldname: str = "text", fragments: int = 2) -> str:
    """HTML snippet of a search hit, falling back to the article's opening."""
    text = hit.get(fieldname) or ""
    marked = PINPOINT.highlight_hit(hit, fieldname, text=text, top=fragments)
    return marked or lead(text)
