"""Spelling suggestions from the indexed text's own vocabulary, weighted by document frequency."""

from __future__ import annotations

import re
import string
import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import cast

from whoosh import query as wq
from whoosh.reading import IndexReader
from whoosh.searching import Searcher

_LETTERS = string.ascii_lowercase
_WORD = re.compile(r"[A-Za-z]{3,30}")
#: Candidates checked against article text, most frequent first, and articles read for each.
MAX_CHECKED = 6
ARTICLES_CHECKED = 20
#: Segments whose vocabulary is kept in memory: a few generations' worth of segments.
KEPT_SEGMENTS = 64
_VOCABULARIES: OrderedDict[tuple[str, str], frozenset[bytes]] = OrderedDict()
_VOCABULARIES_LOCK = threading.Lock()


def suggest(searcher: Searcher, query: wq.Query, text: str, fields: tuple[str, ...]) -> str | None:
    """``text`` with each word no article has replaced by its likeliest spelling, or None.

    A candidate is any string one edit away (insertion, deletion, substitution or swap of
    two neighbours, first letter included) whose analysed form is in the index; the one in
    most articles wins. Only plain words typed by the user are touched: never field names,
    operators, phrases, wildcards or fuzzy terms. Positions in ``query`` refer to ``text``.
    """
    spans: dict[tuple[int, int], set[str]] = {}
    for leaf in query.leaves():
        span = (getattr(leaf, "startchar", None), getattr(leaf, "endchar", None))
        if type(leaf) is wq.Term and leaf.fieldname in fields and None not in span:
            spans.setdefault(cast(tuple[int, int], span), set()).add(leaf.fieldname)
    corrected = text
    changed = False
    for (start, end), sought in sorted(spans.items(), reverse=True):
        word = text[start:end]
        if not _WORD.fullmatch(word) or text[end : end + 1] == ":":
            continue
        if any(searcher.doc_frequency(f, t.text) for t in _leaves_at(query, start) for f in sought):
            continue
        best = _best_candidate(searcher, word.lower(), sorted(sought))
        if best is None:
            continue
        if word[:1].isupper():
            best = best.upper() if word.isupper() else best.capitalize()
        corrected = corrected[:start] + best + corrected[end:]
        changed = True
    return corrected if changed else None


def _leaves_at(query: wq.Query, start: int) -> Iterator[wq.Term]:
    for leaf in query.leaves():
        if type(leaf) is wq.Term and getattr(leaf, "startchar", None) == start:
            yield leaf


def _best_candidate(searcher: Searcher, word: str, fields: list[str]) -> str | None:
    """The edit of ``word`` in most articles, checked to be a word the articles use."""
    analyzer = searcher.schema[fields[0]].analyzer
    # Only words of the articles' text can be checked below: candidates are looked up in
    # its vocabulary in memory, and only the few found there are counted on disk.
    known = vocabulary(searcher.reader(), "text")
    scored = []
    # The candidates are lowercase letters: analysed in one pass, each is one token (its
    # stem) or none (a stop word), found again by where it starts.
    candidates = sorted(_edits(word))
    starts, offset = {}, 0
    for candidate in candidates:
        starts[offset] = candidate
        offset += len(candidate) + 1
    for token in analyzer(" ".join(candidates), chars=True):
        if not any(token.text.encode("utf-8") in words for words in known):
            continue
        df = sum(searcher.doc_frequency(f, token.text) for f in fields)
        scored.append((-df, starts[token.startchar], token.text))
    # The index holds stems: "overment" stems to the common "over" but no article has it,
    # so the likeliest candidates are looked up in the text of a few articles.
    for _df, candidate, term in sorted(scored)[:MAX_CHECKED]:
        if _written(searcher, "text", term, candidate):
            return candidate
    return None


def vocabulary(reader: IndexReader, field: str) -> list[frozenset[bytes]]:
    """The indexed terms of ``field``, one set per segment of ``reader``.

    A segment never changes once written, so its set is read once per process and kept
    while it is among the last KEPT_SEGMENTS used: a commit adds a small segment, and
    only that one is read.
    """
    sets = []
    for leaf, _offset in reader.leaf_readers():
        key = (leaf.segment().segment_id(), field)
        with _VOCABULARIES_LOCK:
            words = _VOCABULARIES.get(key)
            if words is not None:
                _VOCABULARIES.move_to_end(key)
        if words is None:
            words = frozenset(leaf.lexicon(field)) if field in leaf.schema else frozenset()
            with _VOCABULARIES_LOCK:
                _VOCABULARIES[key] = words
                while len(_VOCABULARIES) > KEPT_SEGMENTS:
                    _VOCABULARIES.popitem(last=False)
        sets.append(words)
    return sets


def _written(searcher: Searcher, field: str, term: str, word: str) -> bool:
    """Whether ``word`` is how one of the first articles holding ``term`` writes it."""
    if not searcher.doc_frequency(field, term):
        return False  # only in titles, which are short: not checked
    matcher = searcher.reader().postings(field, term)
    for _ in range(ARTICLES_CHECKED):
        if not matcher.is_active():
            return False
        text = searcher.stored_fields(matcher.id()).get(field, "")
        if any(text[s:e].lower() == word for _pos, s, e in matcher.value_as("characters")):
            return True
        matcher.next()
    return False


def _edits(word: str) -> set[str]:
    """Every string one insertion, deletion, substitution or transposition from ``word``."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    inserts = {a + c + b for a, b in splits for c in _LETTERS}
    return (deletes | swaps | replaces | inserts) - {word}
