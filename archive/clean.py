"""Text clean-up: Unicode normalisation, HTML removal and whitespace collapse."""

from __future__ import annotations

import re
import unicodedata
from html import unescape
from html.parser import HTMLParser

_HTML_HINT = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(\s[^<>]*)?/?>|&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
_BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "tr",
        "table",
        "section",
        "article",
        "header",
        "footer",
    ]
)
_SKIP_TAGS = frozenset(("script", "style", "noscript", "template"))
# Control and format characters other than newline and tab are scraping debris.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]")
# Lone surrogates (from a JSON ``\ud800`` escape) cannot be encoded, stored or printed.
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_SPACES = re.compile(r"[^\S\n]+")
_PARAGRAPHS = re.compile(r"\n\s*\n+")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _SKIP_TAGS:
            self.skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def strip_html(text: str) -> str:
    """Remove tags (and script/style content) and decode entities."""
    parser = _TextExtractor()
    parser.feed(text)
    parser.close()
    return unescape("".join(parser.parts))


def looks_like_html(text: str) -> bool:
    """Tell whether ``text`` contains tags or entities."""
    return _HTML_HINT.search(text) is not None


def clean_text(text: str) -> str:
    """Normalise article text, keeping paragraph breaks as blank lines."""
    if looks_like_html(text):
        text = strip_html(text)
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub(" ", text.replace("\t", " ").replace("\xa0", " "))
    paragraphs = (_SPACES.sub(" ", p).strip() for p in _PARAGRAPHS.split(text))
    return "\n\n".join(" ".join(line.strip() for line in p.split("\n")) for p in paragraphs if p)


def clean_line(text: str) -> str:
    """Normalise a one-line field such as a title or an author."""
    if looks_like_html(text):
        text = strip_html(text)
    text = _CONTROL.sub(" ", unicodedata.normalize("NFC", text))
    return " ".join(text.split())


def repair_surrogates(text: str) -> tuple[str, int]:
    """Replace lone surrogates with U+FFFD; return the text and how many were replaced."""
    return _SURROGATES.subn("\ufffd", text)
