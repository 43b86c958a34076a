"""What counts as an edit of an article, and word-level differences between two versions."""

from __future__ import annotations

import difflib
import hashlib
import re
import unicodedata
from dataclasses import dataclass

#: Words on either side past which a changed stretch is shown whole (deleted, then inserted)
#: rather than matched word by word: difflib is quadratic in the worst case.
MAX_DIFF_WORDS = 20_000
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
_VARIANTS = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-"})
_WORD = re.compile(r"\S+")
_TOKEN = re.compile(r"\n\n|\S+")


def is_furniture(paragraph: str) -> bool:
    """Tell whether a short paragraph is page furniture ("Share this article", a byline)."""
    if len(paragraph.split()) > FURNITURE_WORDS:
        return False
    parts = [p for p in _FURNITURE_PARTS.split(paragraph.strip().rstrip(".:")) if p]
    return bool(parts) and all(_FURNITURE.fullmatch(p) for p in parts)


def edit_key(title: str, text: str) -> str:
    """The words of a cleaned title and text that an edit changes: furniture, whitespace and
    typographic variants left out."""
    paragraphs = [p for p in text.split("\n\n") if not is_furniture(p)]
    folded = unicodedata.normalize("NFKC", f"{title}\n\n" + "\n\n".join(paragraphs))
    return " ".join(_WORD.findall(folded.translate(_VARIANTS)))


def edit_hash(title: str, text: str) -> str:
    """A digest of ``edit_key``: two versions with the same one are the same version."""
    return hashlib.blake2b(edit_key(title, text).encode("utf-8"), digest_size=16).hexdigest()


@dataclass(frozen=True)
class Segment:
    """A stretch of a diff: ``kind`` is "equal", "delete" or "insert"."""

    kind: str
    text: str


def word_diff(old: str, new: str) -> list[Segment]:
    """The word-level changes from ``old`` to ``new``; paragraph breaks are kept as "\\n\\n".

    Joining the equal and deleted segments gives ``old``, the equal and inserted ones ``new``,
    each with its whitespace collapsed to single spaces.
    """
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    middle_a, middle_b = a[start : len(a) - end], b[start : len(b) - end]
    parts: list[tuple[str, list[str]]] = [("equal", a[:start])]
    if max(len(middle_a), len(middle_b)) > MAX_DIFF_WORDS:
        parts += [("delete", middle_a), ("insert", middle_b)]
    else:
        matcher = difflib.SequenceMatcher(None, middle_a, middle_b, autojunk=False)
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "equal":
                parts.append(("equal", middle_a[i1:i2]))
            else:
                parts += [("delete", middle_a[i1:i2]), ("insert", middle_b[j1:j2])]
    parts.append(("equal", a[len(a) - end :] if end else []))
    return _segments(parts)


def _segments(parts: list[tuple[str, list[str]]]) -> list[Segment]:
    # Tokens are joined by a space, except beside a paragraph break; the space before a
    # segment follows the token before it on its own side (the old one for a deletion).
    segments: list[Segment] = []
    before = {"delete": "", "insert": ""}
    for kind, tokens in parts:
        if not tokens:
            continue
        previous = before["delete" if kind == "delete" else "insert"]
        text = ""
        for token in tokens:
            if previous and previous != "\n\n" and token != "\n\n":
                text += " "
            text += token
            previous = token
        for side in ("delete", "insert"):
            if kind in (side, "equal"):
                before[side] = previous
        if segments and segments[-1].kind == kind:
            segments[-1] = Segment(kind, segments[-1].text + text)
        else:
            segments.append(Segment(kind, text))
    return segments


def changed_words(segments: list[Segment]) -> tuple[int, int]:
    """How many words a diff deletes and inserts."""
    deleted = sum(len(_WORD.findall(s.text)) for s in segments if s.kind == "delete")
    inserted = sum(len(_WORD.findall(s.text)) for s in segments if s.kind == "insert")
    return deleted, inserted
