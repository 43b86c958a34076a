"""The stored document: the one definition of what the index keeps for an article.

The schema (index/schema.py) gives each of these fields its Whoosh type; the indexing run
builds a ``Document``, summary reuse reads a ``Summary`` back, and ``ARTICLE_FIELDS`` is the
public shape shown by ``archive show --json`` and ``/api/articles``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Summary:
    """What the summariser made of an article, stored beside it and reused while valid."""

    summary: str = ""
    summary_sentences: list[str] = field(default_factory=list)
    segmented: str = ""
    summary_note: str = ""

    @classmethod
    def from_stored(cls, doc: Mapping[str, Any]) -> Summary:
        """The summary kept in a stored document."""
        return cls(
            summary=doc.get("summary", ""),
            summary_sentences=list(doc.get("summary_sentences") or []),
            segmented=doc.get("segmented", ""),
            summary_note=doc.get("summary_note", ""),
        )


@dataclass(frozen=True)
class Document:
    """One article as the index stores it."""

    id: str
    title: str
    text: str
    content_hash: str
    summary_hash: str
    origin: str
    summary: Summary
    author: str = ""
    source: str = ""
    category: str = ""
    url: str = ""
    date: datetime | None = None
    indexed_at: datetime = field(default_factory=datetime.now)
    #: A digest of what an edit changes, to tell versions apart (index/versions.py).
    version_hash: str = ""

    def stored_fields(self) -> dict[str, Any]:
        """The field values to write, empty ones left out (the text always stays)."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "summary"}
        values.update(asdict(self.summary))
        if self.date is not None:
            values["year"] = str(self.date.year)
        # A text is first seen when it is indexed; versions.carry keeps an unedited one's date.
        values["version_seen"] = self.indexed_at
        # The text stays even when empty: "more like this" reads it from every document.
        return {k: v for k, v in values.items() if k == "text" or v not in (None, "", [])}


#: Every field name the index stores (the schema defines exactly these).
STORED_FIELDS = (
    *(f.name for f in fields(Document) if f.name != "summary"),
    *(f.name for f in fields(Summary)),
    "year",
    "version_seen",
    "versions",
    "story",  # given by the writer (index/stories.py), not by the article
)
#: The fields of an article shown by ``archive show --json`` and ``/api/articles``, in order.
ARTICLE_FIELDS = (
    "id",
    "title",
    "author",
    "date",
    "source",
    "category",
    "url",
    "story",
    *(f.name for f in fields(Summary)),
    "text",
)
