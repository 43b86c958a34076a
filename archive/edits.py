"""What counts as an edit of an article: furniture, whitespace and typographic variants do not."""

from __future__ import annotations

import hashlib
import re
import unicodedata

#: Paragraphs of at most this many words can be page furniture rather than reporting.
FURNITURE_WORDS = 12

# Page furniture a re-scrape adds, drops or changes without editing the story: sharing and
# subscription prompts, advertising, bylines, timestamps and picture credits.
_FURNITURE = re.compile(
    r"share (this|on|via)\b.*|share|tweet|email|print( this)?( article| page)?|advertisement|"
    r"advert|sponsored( content)?|related( articles?| stories| content| topics)?|"
    r"(read|see) (more|also)\b.*|follow us\b.*|(sign up|subscribe)\b.*|click here\b.*|"
    r"skip to\b.*|comments?|image (copyright|caption|source)\b.*|(photo|picture|video):.*|"
    r"(copyright ?)?© ?.*|copyright \d{4}\b.*|all rights reserved|"
    # A byline is "By" and capitalised names; "By the end of the day" is reporting.
    r"(?-i:By( [A-Z][\w.'’-]*| and| &){1,6})|"
    # A timestamp: the word, then a date or time ("Published figures show" is reporting).
    r"((last )?updated|published|posted)( on| at)?:? ?"
    r"(\d|(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|mon|tue|wed|thu|fri|sat|sun)"
    r"|yesterday|today|an? (hour|minute|day))[^.!?]*",
    re.IGNORECASE,
)
_FURNITURE_PARTS = re.compile(r"\s*[|•·]\s*")
# Typographic variants a site may switch between without changing a word.
_VARIANTS = {"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-"}
_VARIANT = re.compile("[" + "".join(_VARIANTS) + "]")


def is_furniture(paragraph: str) -> bool:
    """Tell whether a short paragraph is page furniture ("Share this article", a byline)."""
    if len(paragraph) > 40 * FURNITURE_WORDS or len(paragraph.split()) > FURNITURE_WORDS:
        return False
    parts = [p for p in _FURNITURE_PARTS.split(paragraph.strip().rstrip(".:")) if p]
    return bool(parts) and all(_FURNITURE.fullmatch(p) for p in parts)


def edit_key(title: str, text: str) -> str:
    """The words of a cleaned title and text that an edit changes: furniture, whitespace and
    typographic variants left out."""
    paragraphs = [p for p in text.split("\n\n") if not is_furniture(p)]
    folded = unicodedata.normalize("NFKC", f"{title}\n\n" + "\n\n".join(paragraphs))
    return " ".join(_VARIANT.sub(lambda m: _VARIANTS[m.group()], folded).split())


def edit_hash(title: str, text: str) -> str:
    """A digest of ``edit_key``: two versions with the same one are the same version."""
    return hashlib.blake2b(edit_key(title, text).encode("utf-8"), digest_size=16).hexdigest()
