"""Indexing gives the same index after the speed work: documents, summaries, hits, snippets.

``data/indexing_sample.json`` was written by the code before the speed-ups (cached one-loop
analyzer, Punkt without NLTK's regex-timeout wrapper), with
``python tests/test_indexing_same.py tests/data/indexing_sample.json``; its summaries were
rewritten when the learned scorer gained features (hits, snippets and facets unchanged).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from nltk.tokenize.punkt import PunktSentenceTokenizer
from whoosh.analysis import StemmingAnalyzer
from whoosh.fields import TEXT
from whoosh.index import create_in, open_dir

from app.indexer import Settings, index_paths
from archive.clean import clean_text
from archive.model import Article
from archive.readers import read_paths
from archive.segment import default_segmenter
from index.schema import ArchiveAnalyzer, ArchiveText, make_schema
from index.searcher import ArchiveSearcher

EXPECTED = Path(__file__).parent / "data" / "indexing_sample.json"
SAMPLE = Path(__file__).resolve().parent.parent / "archive" / "data" / "sample"
QUERIES = (
    "flood",
    "harbour",
    "river AND council",
    '"river wren"',
    "rail strike",
    "library closure",
    "battery",
    "hospital admissions",
    "bus fares",
    "otters",
    "category:politics",
    "marath*",
    "planning NOT chip",
)


def snapshot(index_dir: Path) -> dict[str, Any]:
    """What an index holds and answers: each article's stored fields, hits and snippets."""
    searcher = ArchiveSearcher.open(index_dir)
    try:
        with searcher.ix.searcher() as whoosh_searcher:
            docs = {
                fields["id"]: {
                    name: fields.get(name)
                    for name in ("title", "summary", "summary_sentences", "segmented")
                }
                for fields in whoosh_searcher.all_stored_fields()
            }
        hits = {}
        for query in QUERIES:
            found = searcher.search(query, pagelen=50, facets=True, snippets=True)
            ranked = [(hit.id, round(hit.score or 0.0, 6), hit.snippet) for hit in found.hits]
            hits[query] = {
                "total": found.total,
                # Equal scores rank in indexing order, which worker processes may change.
                "hits": [list(h) for h in sorted(ranked, key=lambda h: (-h[1], h[0]))],
                # Likewise facet values with equal counts.
                "facets": {
                    name: [list(v) for v in sorted(vs, key=lambda v: (-v[1], v[0]))]
                    for name, vs in found.facets.items()
                },
            }
    finally:
        searcher.close()
    return {"documents": dict(sorted(docs.items())), "searches": hits}


def sample_texts() -> list[str]:
    """The cleaned bodies of the sample corpus, and a few awkward strings."""
    texts = [clean_text(a.text) for a in read_paths([SAMPLE]) if isinstance(a, Article)]
    return texts + [
        "",
        "a an the of",
        'U.S. e-mail 3.5 café Ünïcode x y zz "Stop." (He left.) Mr. Smith... Really?" she asked.',
    ]


def test_sample_index_is_as_before(sample_index: Path) -> None:
    """The sample corpus indexes to the documents, summaries and hits stored before."""
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    assert snapshot(sample_index) == expected


def test_two_workers_index_as_one(sample_index: Path, tmp_path: Path) -> None:
    """Work spread over worker processes gives the same index as work in one process."""
    index_paths([SAMPLE], tmp_path / "index", Settings(workers=2))
    assert snapshot(tmp_path / "index") == snapshot(sample_index)


def test_index_made_before_is_written_as_before(sample_index: Path, tmp_path: Path) -> None:
    """An index whose schema predates ready-made postings analyses text in the writer, as
    it did, and ends up the same."""
    schema = make_schema()
    schema.remove("title")
    schema.remove("text")
    schema.add("title", TEXT(analyzer=StemmingAnalyzer(), stored=True, field_boost=2.0))
    schema.add("text", TEXT(analyzer=StemmingAnalyzer(), stored=True, chars=True))
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    create_in(str(index_dir), schema)  # the layout of an earlier version: files in the path
    index_paths([SAMPLE], index_dir, Settings(workers=2))
    assert not isinstance(open_dir(str(index_dir)).schema["text"], ArchiveText)
    assert snapshot(index_dir) == snapshot(sample_index)


@pytest.mark.parametrize(
    "options",
    [
        {"positions": True, "chars": True, "boosts": True, "mode": "index"},
        {},
        {"chars": True, "mode": "index", "removestops": False},
        {"mode": "query"},
    ],
)
def test_analyzer_gives_whoosh_tokens(options: dict[str, Any]) -> None:
    """The one-loop analyzer yields exactly the tokens of Whoosh's StemmingAnalyzer."""

    def tokens(analyzer: Any, text: str) -> list[tuple[Any, ...]]:
        names = ("text", "pos", "startchar", "endchar", "boost", "stopped")
        return [tuple(getattr(t, n, None) for n in names) for t in analyzer(text, **options)]

    ours, whoosh = ArchiveAnalyzer(), StemmingAnalyzer()
    for text in sample_texts():
        assert tokens(ours, text) == tokens(whoosh, text)


def test_fields_post_as_whoosh() -> None:
    """Postings made straight from the analyzer's words are Whoosh's, byte for byte."""
    from whoosh.fields import FieldType

    schema = make_schema()
    odd = ["", "a", "The the THE", "İstanbul ǅemal straße x.y.z 3.14", "word " * 300]
    for name in ("title", "text"):
        for text in [*sample_texts(), *odd]:
            assert list(schema[name].index(text)) == list(FieldType.index(schema[name], text))


def test_punkt_sentences_as_nltk() -> None:
    """Punkt with ``re`` patterns splits exactly where NLTK's own tokenizer does."""
    segmenter = default_segmenter()
    nltk_punkt = PunktSentenceTokenizer(segmenter.params)
    for text in sample_texts():
        assert segmenter.punkt.tokenize(text) == nltk_punkt.tokenize(text)


if __name__ == "__main__":
    # Rewrite the stored expectations (only from code known to index as intended).
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        index_paths([SAMPLE], Path(tmp) / "index", Settings(workers=1))
        data = snapshot(Path(tmp) / "index")
    Path(sys.argv[1]).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
