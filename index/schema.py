"""The Whoosh schema of the archive: one document per article."""

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from whoosh.analysis import CompositeAnalyzer, StemmingAnalyzer, Token
from whoosh.fields import DATETIME, ID, STORED, TEXT, Schema
from whoosh.formats import Characters, Positions
from whoosh.lang.porter import stem
from whoosh.scoring import BM25F, WeightingModel

#: Fields that can be used as facets and exact-match filters.
FACET_FIELDS = ("source", "author", "category", "year")

#: Fields a search looks in when the query names none.
SEARCH_FIELDS = ("title", "text")


def scoring() -> WeightingModel:
    """BM25F as tuned on Cranfield (bench/relevance.py): K1 1.6 rather than Whoosh's 1.2."""
    return BM25F(B=0.75, K1=1.6)


#: Stems of the words seen, shared by every analyzer in the process (news vocabulary repeats).
_cached_stem = functools.lru_cache(maxsize=200_000)(stem)


class ArchiveAnalyzer(CompositeAnalyzer):
    """Whoosh's StemmingAnalyzer, run as one loop with a C-level stem cache.

    The chain of four generators (tokenise, lower-case, stop words, stem) and its Python
    stem cache were most of the single writer's time; this gives the same tokens, positions
    and offsets. Calls with options the loop does not handle go through the chain.
    """

    def __init__(self) -> None:
        super().__init__(StemmingAnalyzer())

    def __call__(  # type: ignore[override]
        self,
        value: Any,
        positions: bool = False,
        chars: bool = False,
        removestops: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        """Tokens of ``value``: stemmed words, stop words and one-letter words left out."""
        if not removestops or kwargs.keys() - {"boosts"} or not isinstance(value, str):
            kwargs.update(positions=positions, chars=chars, removestops=removestops, mode=mode)
            return super().__call__(value, **kwargs)
        token = Token(positions, chars, removestops=True, mode=mode, **kwargs)
        return _tokens(value, token, *self._parts())

    def postings(self, value: str, fmt: Positions) -> list[tuple[bytes, int, float, bytes]]:
        """What ``fmt.word_values`` makes of this analyzer's tokens, term by term, without a
        Token per word: (term, frequency, weight, encoded positions or characters)."""
        chars = isinstance(fmt, Characters)
        seen: dict[str, list[Any]] = {}
        for term, pos, match in _terms(value, *self._parts()):
            entry = (pos, match.start(), match.end()) if chars else pos
            found = seen.get(term)
            if found is None:
                seen[term] = [entry]
            else:
                found.append(entry)
        boost = fmt.field_boost
        return [(t.encode(), len(p), float(len(p)) * boost, fmt.encode(p)) for t, p in seen.items()]

    def _parts(self) -> tuple[Any, Any, Any, frozenset[str]]:
        tokenizer, _lower, stops, stemmer = self.items
        stem_fn = _cached_stem if stemmer.stemfn is stem and not stemmer.lang else stemmer._stem
        return tokenizer.expression, stops, stem_fn, stemmer.ignore


def _terms(
    value: str, expression: Any, stops: Any, stem_fn: Any, ignore: frozenset[str]
) -> Iterator[tuple[str, int, Any]]:
    """What RegexTokenizer | LowercaseFilter | StopFilter(renumber=True) | StemFilter keep
    of ``value``: (term, position, the word's match)."""
    stoplist, minsize, maxsize = stops.stops, stops.min, stops.max
    pos = -1
    for index, match in enumerate(expression.finditer(value)):
        text = match.group(0).lower()
        if len(text) < minsize or (maxsize is not None and len(text) > maxsize) or text in stoplist:
            continue
        # Like StopFilter: the first word keeps its place, the rest follow it closely.
        pos = index if pos < 0 else pos + 1
        yield (text if text in ignore else stem_fn(text)), pos, match


def _tokens(
    value: str, token: Token, expression: Any, stops: Any, stem_fn: Any, ignore: frozenset[str]
) -> Iterator[Token]:
    """The loop of ``ArchiveAnalyzer``: the tokens the chain yields, one reused Token as they do."""
    positions, chars = token.positions, token.chars
    for term, pos, match in _terms(value, expression, stops, stem_fn, ignore):
        token.text = term
        token.boost = 1.0
        token.stopped = False
        if positions:
            token.pos = pos
        if chars:
            token.startchar = match.start()
            token.endchar = match.end()
        yield token


@dataclass(frozen=True)
class Postings:
    """A text field's postings as Whoosh's ``FieldType.index`` gives them: (term, frequency,
    weight, encoded positions and offsets) for each term."""

    items: list[tuple[bytes, int, float, bytes]]


class ArchiveText(TEXT):
    """A TEXT field that also takes its postings ready-made (``Postings``).

    Workers analyse and encode each article's text in parallel, so the single writer only
    adds the postings; the text to store comes as ``_stored_<field>``.
    """

    def index(self, value: Any, **kwargs: Any) -> Any:
        """The postings of ``value``, computed unless they come with it."""
        if isinstance(value, Postings):
            return iter(value.items)
        analyzer, fmt = self.analyzer, self.format
        if (
            isinstance(value, str)
            and not kwargs
            and isinstance(analyzer, ArchiveAnalyzer)
            and type(fmt) in (Positions, Characters)
        ):
            return iter(analyzer.postings(value, fmt))
        return super().index(value, **kwargs)


#: The text fields whose postings workers compute.
POSTED_FIELDS = ("title", "text")


def make_schema() -> Schema:
    """Build the schema; text is stored with character offsets so snippets need no re-analysis."""
    analyzer = ArchiveAnalyzer()
    return Schema(
        id=ID(stored=True, unique=True, sortable=True),
        title=ArchiveText(analyzer=analyzer, stored=True, field_boost=2.0),
        # No spelling lists: indexing the unstemmed words as well took three times as long
        # (13 vs 4 ms an article on the BBC corpus). Suggestions come from the stemmed
        # terms and the stored text instead (index/spelling.py).
        text=ArchiveText(analyzer=analyzer, stored=True, chars=True),
        author=ID(stored=True, sortable=True),
        source=ID(stored=True, sortable=True),
        category=ID(stored=True, sortable=True),
        year=ID(stored=True, sortable=True),
        date=DATETIME(stored=True, sortable=True),
        url=STORED(),
        summary=STORED(),
        summary_sentences=STORED(),
        segmented=STORED(),
        summary_note=STORED(),
        # content_hash detects any change; summary_hash (text + summary settings) decides
        # whether the stored summary can be reused.
        content_hash=ID(stored=True, sortable=True),
        summary_hash=ID(stored=True, sortable=True),
        origin=ID(stored=True, sortable=True),
        indexed_at=DATETIME(stored=True),
        # Earlier versions of a re-read article travel with it (index/versions.py).
        version_hash=STORED(),
        version_seen=STORED(),
        versions=STORED(),
        # The id of the earliest member of the article's group of near-copies (index/stories.py).
        story=ID(stored=True, sortable=True),
    )
