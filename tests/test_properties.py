"""Property-based tests: arbitrary input never crashes readers, clean-up, segmentation,
the query parser or the web routes."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.clean import clean_line, clean_text
from archive.model import Article, Problem
from archive.readers import read_file
from archive.segment import default_segmenter
from archive.summarize import summarize
from index.errors import QueryTooExpensive
from index.searcher import ArchiveSearcher
from web import create_app

# Each example overwrites its input file, so sharing tmp_path between examples is safe.
FAST = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
ENCODINGS = ["utf-8", "utf-16", "latin-1", "cp1252", "shift_jis", "utf-32"]

text_like = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=400)
messy_bytes = st.one_of(
    st.binary(max_size=2000),
    st.builds(
        lambda s, enc: s.encode(enc, "replace"),
        text_like,
        st.sampled_from(ENCODINGS),
    ),
    st.builds(lambda b, n: b * n, st.binary(min_size=1, max_size=8), st.integers(1, 20_000)),
)


def read_bytes(tmp_path: Path, name: str, data: bytes, fmt: str) -> list:
    path = tmp_path / name
    path.write_bytes(data)
    return list(read_file(path, fmt))


@pytest.mark.parametrize("fmt", ["txt", "csv", "jsonl"])
@FAST
@given(data=messy_bytes, gz=st.booleans())
def test_readers_never_raise_on_arbitrary_bytes(tmp_path: Path, fmt: str, data: bytes, gz: bool):
    name = f"input.{fmt}" + (".gz" if gz else "")
    items = read_bytes(tmp_path, name, gzip.compress(data) if gz else data, fmt)
    for item in items:
        assert isinstance(item, Article | Problem)
        if isinstance(item, Problem):
            assert str(item).startswith(str(tmp_path / name) + ":")
        else:
            assert item.text.strip()


@FAST
@given(
    records=st.lists(
        st.dictionaries(
            st.sampled_from(
                ["id", "title", "text", "body", "date", "author", "Source", "URL", "x"]
            ),
            st.one_of(text_like, st.integers(), st.none(), st.lists(text_like, max_size=3)),
        ),
        max_size=8,
    )
)
def test_jsonl_records_of_any_shape(tmp_path: Path, records: list[dict]) -> None:
    data = "\n".join(json.dumps(r) for r in records).encode()
    items = read_bytes(tmp_path, "r.jsonl", data, "jsonl")
    articles = [i for i in items if isinstance(i, Article)]
    skipped = [i for i in items if isinstance(i, Problem) and i.skipped]
    # Each record becomes exactly one article or one skip report; none is lost silently.
    assert len(articles) + len(skipped) == len(records)


@FAST
@given(text=st.one_of(text_like, st.text(max_size=3000)))
def test_clean_up_is_idempotent_and_safe(text: str) -> None:
    cleaned = clean_text(text)
    assert "\x00" not in cleaned
    assert "\n\n\n" not in cleaned
    assert cleaned == cleaned.strip()
    assert "\n" not in clean_line(text)


@FAST
@given(text=st.one_of(text_like, st.text(alphabet="abc XYZ\n.", max_size=5000)))
def test_segmentation_and_summaries_never_raise(text: str) -> None:
    segmentation = default_segmenter().segment(text)
    assert segmentation.method in ("punkt", "restored", "empty")
    summary = summarize(text, sentences=3)
    assert len(summary.sentences) <= 3
    assert summary.summary == " ".join(summary.sentences)


query_text = st.one_of(
    text_like,
    st.text(alphabet='abc"()*?:~^[]{}-+ ANDORNT\\/', max_size=60),
    st.builds(
        " ".join,
        st.lists(
            st.sampled_from(
                [
                    "flood",
                    "AND",
                    "OR",
                    "NOT",
                    '"',
                    "(",
                    ")",
                    "title:",
                    "*",
                    "source:",
                    "[a TO",
                    "~2",
                    "^3",
                ]
            ),
            max_size=8,
        ),
    ),
)


@FAST
@given(
    query=query_text, page=st.integers(-5, 50), sort=st.sampled_from(["relevance", "x", "newest"])
)
def test_query_parser_never_raises(sample_index: Path, query: str, page: int, sort: str) -> None:
    with ArchiveSearcher.open(sample_index) as searcher:
        try:
            results = searcher.search(query, page=page, sort=sort)
        except QueryTooExpensive as exc:  # a refusal with its reason, not a crash
            assert str(exc)
            return
    assert results.total >= 0 and results.page >= 1
    assert all(h.id for h in results.hits)


@pytest.fixture(scope="module")
def web_client(sample_index: Path) -> FlaskClient:
    return create_app({"INDEX_DIR": str(sample_index), "TESTING": True}).test_client()


param_value = st.one_of(query_text, st.integers(-10, 10**6).map(str), st.just(""))


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    path=st.sampled_from(["/", "/api/search", "/articles/csv-0001", "/api/articles/jl-0001"]),
    params=st.dictionaries(
        st.sampled_from(
            ["q", "page", "sort", "from", "to", "source", "author", "category", "year"]
        ),
        param_value,
        max_size=5,
    ),
)
def test_web_routes_never_answer_500(web_client: FlaskClient, path: str, params: dict) -> None:
    response = web_client.get(path, query_string=params)
    assert response.status_code < 500, (path, params)
    if path.startswith("/api/"):
        assert response.is_json


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(doc_id=st.text(max_size=80))
def test_article_routes_with_arbitrary_ids(web_client: FlaskClient, doc_id: str) -> None:
    for prefix in ("/articles/", "/api/articles/"):
        response = web_client.get(prefix + doc_id.replace("?", "%3F").replace("#", "%23"))
        assert response.status_code in (200, 301, 308, 404), doc_id
