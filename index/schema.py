"""The Whoosh schema of the archive: one document per article."""

from whoosh.analysis import StemmingAnalyzer
from whoosh.fields import DATETIME, ID, STORED, TEXT, Schema
from whoosh.scoring import BM25F, WeightingModel

#: Fields that can be used as facets and exact-match filters.
FACET_FIELDS = ("source", "author", "category", "year")

#: Fields a search looks in when the query names none.
SEARCH_FIELDS = ("title", "text")


def scoring() -> WeightingModel:
    """BM25F as tuned on Cranfield (bench/relevance.py): K1 1.6 rather than Whoosh's 1.2."""
    return BM25F(B=0.75, K1=1.6)


def make_schema() -> Schema:
    """Build the schema; text is stored with character offsets so snippets need no re-analysis."""
    analyzer = StemmingAnalyzer()
    return Schema(
        id=ID(stored=True, unique=True, sortable=True),
        title=TEXT(analyzer=analyzer, stored=True, field_boost=2.0),
        # No spelling lists: indexing the unstemmed words as well took three times as long
        # (13 vs 4 ms an article on the BBC corpus). Suggestions come from the stemmed
        # terms and the stored text instead (index/spelling.py).
        text=TEXT(analyzer=analyzer, stored=True, chars=True),
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
