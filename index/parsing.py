"""Reading what a user typed as a query: syntax, unknown fields and broken syntax degrade to
plain words with a note, never to an error."""

from __future__ import annotations

import functools
import re

from whoosh import query as wq
from whoosh.fields import Schema
from whoosh.qparser import MultifieldParser

from index.schema import SEARCH_FIELDS, make_schema

MAX_QUERY_CHARS = 1000
#: The fields a query can name, for the note about a field that does not exist.
QUERY_FIELDS = ("title", "text", "author", "source", "category", "year", "date", "id")


@functools.cache
def query_parser() -> MultifieldParser:
    """The parser of user queries over title and text."""
    # Building a parser assembles its plugin chain; every index has the same schema, so
    # one parser serves every query.
    return MultifieldParser(list(SEARCH_FIELDS), make_schema())


# A question mark that ends or starts a word is punctuation ("who won the election?"), not
# Whoosh's one-letter wildcard, which would then match only longer words or be refused;
# inside a word ("wom?n") it stays a wildcard.
_QUESTION_MARKS = re.compile(r"(?<=\w)\?+(?=[\s)\"]|$)|(?:(?<=[\s(\"])|^)\?+(?=\w)")
_UNSAFE_SYNTAX = re.compile(r"[\"()\[\]{}:^~*?\\]|\b(AND|OR|NOT|ANDNOT|ANDMAYBE|TO)\b")


def parse_query(parser: MultifieldParser, text: str) -> tuple[wq.Query, list[str]]:
    """Parse user query syntax, degrading to plain words when the syntax is broken."""
    notes: list[str] = []
    text = text.strip()
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS]
        notes.append(f"The query was cut to its first {MAX_QUERY_CHARS} characters.")
    if not text or text == "*":
        return wq.Every(), notes
    text, unknown = _drop_unknown_fields(text, parser.schema)
    if unknown:
        names = ", ".join(f"'{name}'" for name in unknown)
        notes.append(
            f"There is no searchable field {names} (fields: {', '.join(QUERY_FIELDS)}); "
            "searched for the value in title and text instead."
        )
    text = drop_edge_question_marks(text)
    problem = _syntax_problem(text)
    if problem:
        notes.append(f"{problem}; searched for the words instead.")
        text = _UNSAFE_SYNTAX.sub(" ", text)
    try:
        parsed = parser.parse(text)
    except Exception as exc:  # Whoosh raises assorted errors on odd syntax
        notes.append(f"Could not parse the query ({exc}); searched for the words instead.")
        parsed = parser.parse(_UNSAFE_SYNTAX.sub(" ", text))
    if parsed is wq.NullQuery or isinstance(parsed, type(wq.NullQuery)):
        notes.append("The query has no searchable words.")
    return parsed, notes


# A field prefix outside quotes; a quoted phrase is matched first so its colons are left alone.
_FIELD_PREFIX = re.compile(r'"[^"]*"|(?<![\w\\])([A-Za-z_]\w*):(?=[^\s:])')


def _drop_unknown_fields(text: str, schema: Schema) -> tuple[str, list[str]]:
    """Remove ``name:`` prefixes naming no searchable field; return the text and those names."""
    unknown: list[str] = []

    def drop(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None or (name in schema and schema[name].format is not None):
            return match.group(0)
        unknown.append(name)
        # Blanks of the same length keep the query's character offsets, which spelling
        # suggestions use to rewrite the text the user typed.
        return " " * len(match.group(0))

    return _FIELD_PREFIX.sub(drop, text), list(dict.fromkeys(unknown))


def drop_edge_question_marks(text: str) -> str:
    """``text`` with the question marks that end or start a word blanked out."""
    # Replaced by spaces of the same length so positions in the text stay where they were.
    return _QUESTION_MARKS.sub(lambda m: " " * len(m.group()), text)


def _syntax_problem(text: str) -> str | None:
    if text.count('"') % 2:
        return "Unbalanced quote"
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return "Unbalanced parenthesis"
    if depth:
        return "Unbalanced parenthesis"
    if re.search(r"\b\w+:(\s|$)", text):
        return "A field name has no value"
    return None
