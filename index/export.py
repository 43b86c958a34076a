"""Writing hits out for spreadsheets and scripts: CSV, JSON Lines and JSON, streamed."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, fields
from html import unescape
from typing import Any

from index.results import Hit

#: Columns of an export, in order: every field of a hit.
COLUMNS = tuple(f.name for f in fields(Hit))
#: Formats the export writes, with their media types.
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/x-ndjson",
    "json": "application/json",
}
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def plain_snippet(snippet: str) -> str:
    """A snippet as plain text: its marks removed and its HTML escapes undone."""
    return unescape(snippet.replace("<mark>", "").replace("</mark>", ""))


def record(hit: Hit) -> dict[str, Any]:
    """One hit as an export row: every column, the snippet as plain text."""
    row = asdict(hit)
    row["snippet"] = plain_snippet(hit.snippet)
    return row


def neutralise(value: Any) -> Any:
    """A cell a spreadsheet shows as text: a leading ' before what would start a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_chunks(hits: Iterable[Hit]) -> Iterator[str]:
    """CSV text, a header then one row per hit, with formula cells neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for hit in hits:
        row = record(hit)
        writer.writerow(["" if row[c] is None else neutralise(row[c]) for c in COLUMNS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()  # the header alone when there are no hits


def jsonl_chunks(hits: Iterable[Hit]) -> Iterator[str]:
    """JSON Lines text, one object per hit."""
    for hit in hits:
        yield json.dumps(record(hit), ensure_ascii=False) + "\n"


def json_chunks(hits: Iterable[Hit]) -> Iterator[str]:
    """A JSON array of hit objects, written an element at a time."""
    yield "["
    separator = "\n"
    for hit in hits:
        yield separator + json.dumps(record(hit), ensure_ascii=False)
        separator = ",\n"
    yield "\n]\n"


WRITERS: dict[str, Callable[[Iterable[Hit]], Iterator[str]]] = {
    "csv": csv_chunks,
    "jsonl": jsonl_chunks,
    "json": json_chunks,
}
