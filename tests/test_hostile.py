"""A hostile corpus at scale: payloads in every field, a 10 MB article, 100,000 one-word
articles and duplicate ids across files index and render safely."""

from __future__ import annotations

import json
import random
from html import escape
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from app.indexer import Report, Settings, index_paths
from index.searcher import ArchiveSearcher
from web import create_app

PAYLOADS = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '"><svg onload=alert(1)>')
ONE_WORD_ARTICLES = 100_000


def hostile_corpus(folder: Path) -> None:
    """Write the corpus: every kind of hostility in one folder."""
    folder.mkdir()
    rng = random.Random(3)
    words = ["harbour", "ledger", "quorum", "tariff", "ballot", "dredge", "pylon", "ferry"]
    with (folder / "tiny.jsonl").open("w", encoding="utf-8") as out:
        for n in range(ONE_WORD_ARTICLES):
            out.write(json.dumps({"id": f"w{n}", "text": rng.choice(words)}) + "\n")
    fields = ("title", "author", "source", "category", "url", "date")
    records = []
    for n, payload in enumerate(PAYLOADS):
        for encoded in (payload, escape(payload)):
            record = {name: f"{name} {encoded}" for name in fields}
            record["id"] = f"x{n}{encoded}"
            record["text"] = f"Harbour story {encoded} with the payload inside. " * 5
            records.append(record)
    (folder / "xss.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    sentence = "The harbour commission published its annual dredging ledger today. "
    (folder / "huge.txt").write_text("Huge article\n\n" + sentence * (10_000_000 // len(sentence)))
    # The same ids again in a file read later: reported and skipped, the first kept.
    (folder / "zz-dupes.jsonl").write_text(
        "".join(json.dumps({"id": f"w{n}", "text": "duplicate"}) + "\n" for n in range(5))
    )


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Report]:
    root = tmp_path_factory.mktemp("hostile")
    hostile_corpus(root / "corpus")
    index_dir = root / "index"
    report = index_paths([root / "corpus"], index_dir, Settings(workers=2, batch_size=20_000))
    return index_dir, report


@pytest.mark.slow
def test_hostile_corpus_indexes_completely(hostile_index: tuple[Path, Report]) -> None:
    index_dir, report = hostile_index
    assert report.skipped == 5
    assert sum("duplicate id" in str(p) for p in report.problems) == 5
    assert report.indexed == ONE_WORD_ARTICLES + 2 * len(PAYLOADS) + 1
    with ArchiveSearcher.open(index_dir) as searcher:
        assert searcher.doc_count == report.indexed
        assert searcher.document("w3")["text"] != "duplicate"
        huge = searcher.document("corpus/huge")
        assert len(huge["text"]) > 9_000_000
        assert huge["summary"]  # summarised from its opening, with a note about the cut
        results = searcher.search("dredging ledger")
        assert results.hits[0].id == "corpus/huge"
        assert len(results.hits[0].snippet) < 2000


@pytest.mark.slow
def test_hostile_corpus_renders_safely(hostile_index: tuple[Path, Report]) -> None:
    index_dir, _report = hostile_index
    client: FlaskClient = create_app({"INDEX_DIR": str(index_dir), "TESTING": True}).test_client()
    pages = [
        client.get("/", query_string={"q": "harbour story"}),
        client.get("/", query_string={"q": PAYLOADS[0]}),
        client.get("/", query_string={"q": "ferry", "page": "500"}),
        client.get("/articles/corpus/huge", query_string={"q": "ledger"}),
    ]
    with ArchiveSearcher.open(index_dir) as searcher:
        ids = [h.id for h in searcher.search("payload", pagelen=50).hits]
    assert len(ids) == 2 * len(PAYLOADS)
    pages += [client.get("/articles/" + doc_id.replace("?", "%3F")) for doc_id in ids]
    for response in pages:
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        for payload in PAYLOADS:
            assert payload not in html
    api = client.get("/api/search", query_string={"q": "payload"})
    assert api.is_json and api.json["total"] == 2 * len(PAYLOADS)
