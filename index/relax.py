"""Relaxing a query no article fully matches: the articles with most of its words."""

from __future__ import annotations

import re

from whoosh import query as wq

from index.schema import SEARCH_FIELDS

#: Coordination: a relaxed match's score is scaled by how many of the words it has, so an
#: article with most of the words beats one with only the rarest (Cranfield MAP 0.307 with
#: 0.9 against 0.29 without, see bench/relevance.py).
COORDINATION = 0.9

_PUNCTUATION = ".,;:!?'\"`()"

# Operators say the user wrote a boolean query: it keeps its exact meaning. Parentheses
# alone are no sign of it: pasted sentences have them.
_EXPLICIT = re.compile(r"\b(AND|OR|NOT|ANDNOT|ANDMAYBE)\b")


def relax(strict: wq.Query, text: str) -> tuple[wq.Query, list[str]] | None:
    """The OR form of a plain words query and the words it no longer requires.

    Quoted phrases and ``+word`` stay required; a query with explicit operators, or that
    relaxing would not change, is not relaxed (None).
    """
    if _EXPLICIT.search(text):
        return None
    parts = _conjuncts(strict)
    required: list[wq.Query] = []
    optional: list[wq.Query] = []
    words: list[str] = []
    # A hyphenated word is analysed into several terms and the parser records no span for
    # them; its pieces become optional words of their own, named by the word as typed.
    compounds = iter(re.findall(r"[^\s\-]+(?:-[^\s\-]+)+", text))
    for part in parts:
        word = _source_word(part, text)
        if (
            _has_phrase(part)
            or (word is not None and word.startswith("+"))
            # A facet value (source:, category:, ...) selects articles: it stays required.
            or any(getattr(leaf, "fieldname", None) not in SEARCH_FIELDS for leaf in part.leaves())
        ):
            required.append(part)
        elif word is None:
            pieces = _pieces(part)
            if not pieces:
                required.append(part)
                continue
            optional.extend(pieces)
            words.append(next(compounds, "-".join(next(p.leaves()).text for p in pieces)))
        else:
            optional.append(part)
            words.append(word.strip(_PUNCTUATION) or word)
    if not optional or (len(optional) == 1 and not required):
        return None  # nothing would change
    relaxed: wq.Query = wq.Or(optional, scale=COORDINATION)
    if required:
        relaxed = wq.AndMaybe(wq.And(required) if len(required) > 1 else required[0], relaxed)
    return relaxed, words


def relaxed_note(words: list[str]) -> str:
    """The note shown with relaxed results."""
    return f"No article contains all of: {', '.join(words)}; showing articles with most of them."


def _conjuncts(query: wq.Query) -> list[wq.Query]:
    """The parts of a conjunction, nested groups flattened (``a (b c)`` is ``a b c``)."""
    if not isinstance(query, wq.And):
        return [query]
    return [part for sub in query.subqueries for part in _conjuncts(sub)]


def _source_word(part: wq.Query, text: str) -> str | None:
    """The text the user typed for one part of the query (the parser records its span)."""
    for leaf in [part, *part.leaves()]:
        start, end = getattr(leaf, "startchar", None), getattr(leaf, "endchar", None)
        if start is not None and end is not None:
            return text[start:end]
    return None


def _pieces(part: wq.Query) -> list[wq.Query]:
    """One query per distinct term of a compound word, over every field it was sought in."""
    by_text: dict[str, list[wq.Query]] = {}
    for leaf in part.leaves():
        if not isinstance(leaf, wq.Term):
            return []
        by_text.setdefault(leaf.text, []).append(leaf)
    return [wq.Or(terms) if len(terms) > 1 else terms[0] for terms in by_text.values()]


def _has_phrase(part: wq.Query) -> bool:
    return isinstance(part, wq.Phrase) or any(isinstance(q, wq.Phrase) for q in part.leaves())
