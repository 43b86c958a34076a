"""Facets, timeline, hits and snippets from the numpy columns and page-only highlighting are
the same as Whoosh's own FacetCollector, TermsCollector and highlighter give over every match."""

from __future__ import annotations

import csv
import json
import random
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from whoosh import sorting
from whoosh.index import FileIndex, create_in
from whoosh.searching import Searcher

from index.document import Document, Summary
from index.facets import date_order, facet_groups, filter_query, top_values
from index.highlight import snippet
from index.limits import QueryLimits
from index.parsing import parse_query, query_parser
from index.reading import ReaderCache
from index.schema import FACET_FIELDS, make_schema, scoring
from index.searcher import ArchiveSearcher
from index.store import open_index
from tests.test_timeline import timeline

#: The reference has no time limit; on a busy machine a search's could cut the counts short.
UNHURRIED = QueryLimits(time_limit=600)
WORDS = (
    "flood river council budget port wall storm rain school library theatre election vote "
    "market bank price factory chip heat summer road bridge water power music film"
).split()


def _reference(
    searcher: Searcher,
    text: str,
    filters: dict[str, list[str]],
    date_from: date | None = None,
    date_to: date | None = None,
    sort: str = "relevance",
    page: int = 1,
) -> dict[str, Any]:
    """What a search showed before: Whoosh's collectors over every match, plainly."""
    query, _ = parse_query(query_parser(), text)
    groups = facet_groups()
    dates = sorting.TranslateFacet(lambda key: key, sorting.FieldFacet("date"))
    dates.maptype = sorting.Count
    groups["date"] = dates
    found = searcher.search(
        query,
        limit=None,
        groupedby=groups,
        terms=True,
        filter=filter_query(filters, date_from, date_to),
        sortedby=date_order(sort == "newest") if sort != "relevance" else None,
    )
    facets = {name: top_values(found.groups(name)) for name in FACET_FIELDS}
    for name in filters:
        # A facet filtered on counts its values under the other facets' filters alone.
        others = {k: v for k, v in filters.items() if k != name}
        again = searcher.search(
            query,
            limit=None,
            groupedby={name: groups[name]},
            filter=filter_query(others, date_from, date_to),
        )
        facets[name] = top_values(again.groups(name))
    shown = found[(page - 1) * 10 : page * 10]
    return {
        "total": len(found),
        "hits": [(h["id"], round(h.score, 4) if h.score is not None else None) for h in shown],
        "snippets": [snippet(h) for h in shown],
        "all_snippets": [snippet(h) for h in found],
        "facets": facets,
        "timeline": timeline(found.groups("date")),
    }


def _ours(
    searcher: ArchiveSearcher,
    text: str,
    filters: dict[str, list[str]],
    date_from: date | None = None,
    date_to: date | None = None,
    sort: str = "relevance",
    page: int = 1,
) -> dict[str, Any]:
    found = searcher.search(
        text,
        filters=filters,
        date_from=date_from,
        date_to=date_to,
        sort=sort,
        page=page,
        timeline=True,
        limits=UNHURRIED,
    )
    assert not found.relaxed and not found.partial
    exported = searcher.iter_hits(
        text, filters=filters, date_from=date_from, date_to=date_to, sort=sort, limits=UNHURRIED
    )
    return {
        "total": found.total,
        "hits": [(h.id, h.score) for h in found.hits],
        "snippets": [h.snippet for h in found.hits],
        "all_snippets": [h.snippet for h in exported],
        "facets": found.facets,
        "timeline": found.timeline,
    }


def _assert_same(ix: FileIndex, searches: list[tuple[Any, ...]]) -> None:
    with ArchiveSearcher(ix) as ours, ix.searcher(weighting=scoring()) as plain:
        for args in searches:
            expected = _reference(plain, *args)
            got = _ours(ours, *args)
            assert expected["total"] > 0, args
            assert got == expected, args


def _sample_categories(sample_dir: Path) -> Counter[str]:
    """Articles per category, read from the sample's files without the archive's readers."""
    found: Counter[str] = Counter()
    with open(sample_dir / "articles.csv", encoding="utf-8", newline="") as f:
        found.update(row["category"] for row in csv.DictReader(f) if row["category"])
    for line in (sample_dir / "articles.jsonl").read_text(encoding="utf-8").splitlines():
        found.update(filter(None, [json.loads(line).get("category")]))
    for path in sorted((sample_dir / "txt").rglob("*.txt")):
        header = path.read_text(encoding="utf-8").split("\n\n", 1)[0].splitlines()
        named = [line.split(":", 1)[1].strip() for line in header if line.startswith("Category:")]
        found[named[0] if named else path.parent.name] += 1
    return found


def test_sample_counts_and_snippets_match_whoosh(sample_index: Path, sample_dir: Path) -> None:
    ix = open_index(sample_index)
    with ArchiveSearcher(ix) as searcher:
        everything = searcher.search("", timeline=True)
    # Known counts, from the files themselves.
    expected = _sample_categories(sample_dir)
    assert dict(everything.facets["category"]) == dict(expected)
    assert sum(b.count for b in everything.timeline) == 40
    _assert_same(
        ix,
        [
            ("flood", {}),
            ("council OR budget", {}),
            ('"flood defence"', {}),
            ("port NOT holdings", {}),
            ("title:flood OR factory", {}),
            ("fact*", {}),
            ("council OR (budget AND library)", {}),
            ("said", {"category": ["politics", "business"]}),
            ("council", {"category": ["politics"], "year": ["2024"]}),
            ("said", {}, date(2024, 1, 1), date(2024, 12, 31), "newest"),
            ("said", {}, None, None, "oldest", 2),
            ("", {"category": ["culture", "health"]}, None, None, "newest"),
        ],
    )


def _article(rng: random.Random, n: int) -> dict[str, Any]:
    """A generated article's fields: few words, so that NOT and phrases find something."""
    dated = rng.random() < 0.8
    return Document(
        id=f"doc-{n}",
        title=" ".join(rng.sample(WORDS, 3)).title(),
        text=" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 30)))
        + ". "
        + " ".join(rng.choice(WORDS) for _ in range(8))
        + ".",
        content_hash=str(n),
        summary_hash=str(n),
        origin="gen",
        summary=Summary(),
        author=rng.choice(["", "Ann Lee", "Bo Chen", "Cy Dee"]),
        source=rng.choice(["Herald", "Post", ""]),
        category=rng.choice(["news", "sport", "arts"]),
        date=datetime(rng.randint(2019, 2024), rng.randint(1, 12), rng.randint(1, 28))
        if dated
        else None,
    ).stored_fields()


@pytest.fixture
def segmented_index(tmp_path: Path) -> FileIndex:
    """An index of generated articles in three segments, with deletions and replacements."""
    rng = random.Random(14)
    ix = create_in(str(tmp_path), make_schema())
    for batch in range(3):
        writer = ix.writer()
        for n in range(batch * 80, batch * 80 + 80):
            writer.add_document(**_article(rng, n))
        if batch:
            for n in rng.sample(range(batch * 80), 10):
                writer.delete_by_term("id", f"doc-{n}")
            for n in rng.sample(range(batch * 80), 5):
                writer.update_document(**_article(rng, n))
        writer.commit(merge=False)
    assert len(ix.reader().leaf_readers()) == 3
    return ix


def test_segmented_counts_and_snippets_match_whoosh(segmented_index: FileIndex) -> None:
    _assert_same(
        segmented_index,
        [
            ("flood", {}),
            ("flood river", {}),
            ("storm OR rain", {"category": ["news", "arts"]}),
            ('"river wall"', {}),
            ("market NOT bank", {"author": ["Ann Lee"], "source": ["Post", "Herald"]}),
            ("ma*", {"source": ["Herald"]}, date(2020, 1, 1), date(2022, 6, 30)),
            ("water OR (power AND music)", {}, None, None, "newest", 2),
            ("", {"year": ["2021", "2023"], "category": ["sport"]}, None, None, "oldest"),
            ("title:film OR road", {"author": ["Bo Chen", "Cy Dee"]}, None, date(2022, 1, 1)),
        ],
    )


def test_reader_cache_shares_columns_until_a_commit(segmented_index: FileIndex) -> None:
    cache = ReaderCache(Path(segmented_index.storage.folder))
    first, second = cache.searcher(), cache.searcher()
    assert first.columns is second.columns
    before = first.search("", facets=True)
    writer = segmented_index.writer()
    writer.add_document(**{**_article(random.Random(1), 999), "category": "late"})
    writer.commit(merge=False)
    after = cache.searcher()
    assert after.columns is not first.columns
    # The new commit's article is counted: the columns were read again.
    assert after.search("").total == before.total + 1
    assert ("late", 1) in after.search("").facets["category"]
