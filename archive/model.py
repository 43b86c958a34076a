"""The article model and the problems reported while reading input."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime


@dataclass
class Article:
    """One news article as read from the input, before clean-up and summarising."""

    id: str
    title: str
    text: str
    author: str = ""
    date: datetime | None = None
    source: str = ""
    category: str = ""
    url: str = ""
    #: The file the article came from and the line it starts on, for messages.
    origin: str = ""
    line: int = 0

    def content_hash(self) -> str:
        """A digest of everything the index stores about the article."""
        date = self.date.isoformat() if self.date else ""
        parts = (self.id, self.title, self.author, date, self.source, self.category, self.url)
        return _digest("\x1f".join(parts), self.text)

    def text_hash(self, settings: str) -> str:
        """A digest of the text and the summary settings: when it changes, re-summarise."""
        return _digest(settings, self.text)

    @property
    def where(self) -> str:
        """``path:line`` of the article in its input."""
        return f"{self.origin}:{self.line}"


@dataclass(frozen=True)
class Problem:
    """Something wrong with the input, reported as ``path:line: reason``."""

    path: str
    line: int
    reason: str
    #: A skipped record is not indexed; a warning is reported and the article kept.
    skipped: bool = True

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


def _digest(*parts: str) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()
