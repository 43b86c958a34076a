"""One definition of the stored document: the schema, the run and the API agree on it."""

from __future__ import annotations

from datetime import datetime

from index.document import ARTICLE_FIELDS, STORED_FIELDS, Document, Summary
from index.schema import make_schema


def test_the_schema_stores_exactly_the_document_fields() -> None:
    assert sorted(make_schema().names()) == sorted(STORED_FIELDS)
    assert set(ARTICLE_FIELDS) <= set(STORED_FIELDS)


def test_stored_fields_drop_empty_values_but_keep_the_text_and_add_the_year() -> None:
    summary = Summary(summary="One.", summary_sentences=["One."], segmented="punkt")
    doc = Document("a1", "Title", "", "c", "s", "/x", summary, date=datetime(2024, 5, 1))
    stored = doc.stored_fields()
    assert stored["text"] == "" and stored["year"] == "2024"
    assert "author" not in stored and "summary_note" not in stored
    assert Summary.from_stored(stored) == summary
