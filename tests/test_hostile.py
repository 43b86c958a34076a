"""A hostile corpus: payloads in every field, an article over the size cap, thousands of
one-word articles and duplicate ids across files index and render safely."""

from __future__ import annotations

import json
import os
import random
from html import escape
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from app.cli import cli
from app.indexer import Report, Settings, index_paths
from index.searcher import ArchiveSearcher
from web import create_app

PAYLOADS = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '"><svg onload=alert(1)>')
ONE_WORD_ARTICLES = 5_000
#: A cap well below the article's size proves the cut as well as the 5 MB default would.
CAP = 400_000


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
    sentences = []
    while len(sentences) < 10_000:  # 800 KB, cut to CAP when read
        a, b, c = (rng.choice(words) for _ in range(3))
        sentences.append(
            f"The {a} commission published its annual dredging ledger for the {b} {c}. "
        )
    (folder / "huge.txt").write_text("Huge article\n\n" + "".join(sentences))
    # The same ids again in a file read later: reported and skipped, the first kept.
    (folder / "zz-dupes.jsonl").write_text(
        "".join(json.dumps({"id": f"w{n}", "text": "duplicate"}) + "\n" for n in range(5))
    )


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Report]:
    root = tmp_path_factory.mktemp("hostile")
    hostile_corpus(root / "corpus")
    index_dir = root / "index"
    report = index_paths(
        [root / "corpus"], index_dir, Settings(workers=2, batch_size=2_000, max_article_bytes=CAP)
    )
    return index_dir, report


@pytest.mark.slow
def test_hostile_corpus_indexes_completely(hostile_index: tuple[Path, Report]) -> None:
    index_dir, report = hostile_index
    assert report.skipped == 5
    assert sum("duplicate id" in str(p) for p in report.problems) == 5
    assert any(f"huge.txt:0: text longer than {CAP:,} bytes" in str(p) for p in report.problems)
    assert report.indexed == ONE_WORD_ARTICLES + 2 * len(PAYLOADS) + 1
    with ArchiveSearcher.open(index_dir) as searcher:
        assert searcher.doc_count == report.indexed
        assert searcher.document("w3")["text"] != "duplicate"
        huge = searcher.document("corpus/huge")
        assert CAP - 100_000 < len(huge["text"]) <= CAP
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
        # The payload articles are near-copies of each other: list them all, uncollapsed.
        ids = [h.id for h in searcher.search("payload", pagelen=50, collapse_stories=False).hits]
    assert len(ids) == 2 * len(PAYLOADS)
    pages += [client.get("/articles/" + doc_id.replace("?", "%3F")) for doc_id in ids]
    for response in pages:
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        for payload in PAYLOADS:
            assert payload not in html
    api = client.get("/api/search", query_string={"q": "payload", "collapse": "0"})
    assert api.is_json and api.json["total"] == 2 * len(PAYLOADS)


# Bad inputs one at a time: each is one reported (skipped or repaired) record, never an abort.


def run_cli(*args: str, index_dir: Path) -> object:
    """Run the CLI keeping colour codes, as a terminal would get them."""
    return CliRunner().invoke(cli, ["--index-dir", str(index_dir), *args], color=True)


def test_max_article_bytes_caps_what_is_stored(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "long.txt").write_text("Long story\n\n" + "The harbour wall held. " * 2000)
    index_dir = tmp_path / "index"
    result = run_cli(
        "index", str(corpus), "--workers", "1", "--max-article-bytes", "2000", index_dir=index_dir
    )
    assert result.exit_code == 0, result.output
    assert "text longer than 2,000 bytes; kept the first 2,000" in result.stderr
    assert "indexed 1," in result.stdout
    with ArchiveSearcher.open(index_dir) as searcher:
        assert len(searcher.document("corpus/long")["text"]) <= 2000


def test_far_dates_with_offsets_are_dropped_not_fatal(tmp_path: Path, write_jsonl) -> None:
    dates = [
        "9999-12-31T23:59:59-14:00",
        "0001-01-01T00:00:00+14:00",
        "Fri, 31 Dec 9999 23:59:59 -1400",
    ]
    path = write_jsonl(
        "dates.jsonl",
        [{"id": f"d{n}", "text": "Dated story.", "date": d} for n, d in enumerate(dates)],
    )
    report = index_paths([path], tmp_path / "index", Settings(workers=1))
    assert report.indexed == 3 and report.skipped == 0
    assert [p.reason.split(";")[0] for p in report.problems] == [
        f"date out of range {d!r}" for d in dates
    ]
    with ArchiveSearcher.open(tmp_path / "index") as searcher:
        assert searcher.document("d0")["date"] is None


def test_deeply_nested_json_is_flattened_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    path.write_text(
        '{"id": "deep", "text": "Nested story.", "author": '
        + "[" * 450
        + '"Ann"'
        + "]" * 450
        + "}\n"
        '{"id": "deeper", "text": "x", "tags": ' + "[" * 100_000 + "]" * 100_000 + "}\n"
    )
    report = index_paths([path], tmp_path / "index", Settings(workers=1))
    assert report.indexed == 1 and report.skipped == 1
    assert "bad JSON: nested too deeply" in str(report.problems[0])
    with ArchiveSearcher.open(tmp_path / "index") as searcher:
        assert searcher.document("deep")["author"] == "Ann"


def test_a_number_too_long_to_convert_is_a_bad_row_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "numbers.jsonl"
    path.write_text(
        '{"id": "long", "text": "Story.", "views": ' + "1" * 4301 + "}\n"
        '{"id": "ok", "text": "Another story."}\n'
    )
    report = index_paths([path], tmp_path / "index", Settings(workers=1))
    assert report.indexed == 1 and report.skipped == 1
    assert str(report.problems[0]) == f"{path}:1: bad JSON: a number too long to read"


def _deep_folders(root: Path, depth: int) -> None:
    """Make ``root/d/d/...`` ``depth`` deep with an article at depth 1,200, relative to open
    folders (the whole path is too long for one system call)."""
    fd = os.open(root, os.O_RDONLY)
    for level in range(depth):
        os.mkdir("d", dir_fd=fd)
        inner = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = inner
        if level == 1_200:
            article = os.open("deep.txt", os.O_WRONLY | os.O_CREAT, dir_fd=fd)
            os.write(article, b"Deep story\n\nFound at the bottom of the folders.")
            os.close(article)
    os.close(fd)


def _remove_deep_folders(root: Path) -> None:
    """Remove what ``_deep_folders`` made, without recursion."""
    fds = [os.open(root, os.O_RDONLY)]
    while True:
        try:
            fds.append(os.open("d", os.O_RDONLY, dir_fd=fds[-1]))
        except FileNotFoundError:
            break
    while len(fds) > 1:
        inner = fds.pop()
        for name in os.listdir(inner):
            os.unlink(name, dir_fd=inner)
        os.close(inner)
        os.rmdir("d", dir_fd=fds[-1])
    os.close(fds[0])


def test_folders_thousands_deep_are_walked_without_recursion(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "top.txt").write_text("Top story\n\nAt the top.")
    _deep_folders(corpus, 2_500)
    try:
        report = index_paths([corpus], tmp_path / "index", Settings(workers=1))
    finally:
        _remove_deep_folders(corpus)
    assert report.indexed == 2
    assert len(report.problems) == 1 and "cannot read folder: File name too long" in str(
        report.problems[0]
    )


def test_lone_surrogates_are_repaired_and_every_page_renders(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"id": "s\\ud800", "author": "Ann \\udfff", "title": "Harbour",'
        ' "text": "Harbour \\ud800 news."}\n'
    )
    index_dir = tmp_path / "index"
    result = run_cli("index", str(path), "--workers", "1", index_dir=index_dir)
    assert result.exit_code == 0, result.output
    assert "indexed 1," in result.stdout
    assert result.stderr.count("lone surrogates") == 1
    shown = run_cli("show", "s\ufffd", index_dir=index_dir)
    assert shown.exit_code == 0 and "Ann \ufffd" in shown.stdout
    found = run_cli("search", "harbour", index_dir=index_dir)
    assert found.exit_code == 0 and "[s\ufffd]" in found.stdout
    client = create_app({"INDEX_DIR": str(index_dir), "TESTING": True}).test_client()
    for url in ("/?q=harbour", "/articles/" + quote("s\ufffd"), "/api/search?q=harbour"):
        assert client.get(url).status_code == 200, url


def test_links_out_of_the_corpus_are_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("Secret\n\nThe root password is hunter2.")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "story.txt").write_text("Story\n\nA harbour story.")
    (corpus / "passwd.txt").symlink_to(secret)
    (corpus / "again.txt").symlink_to(corpus / "story.txt")  # inside the folder: read
    index_dir = tmp_path / "index"
    result = run_cli("index", str(corpus), "--workers", "1", index_dir=index_dir)
    assert result.exit_code == 0, result.output
    assert f"{corpus / 'passwd.txt'}:0: links outside {corpus}; skipped" in result.stderr
    assert "indexed 2," in result.stdout
    with ArchiveSearcher.open(index_dir) as searcher:
        assert searcher.document("corpus/passwd") is None
    result = run_cli("index", str(corpus), "--workers", "1", "--follow-links", index_dir=index_dir)
    assert "indexed 1," in result.stdout and "links outside" not in result.stderr
    with ArchiveSearcher.open(index_dir) as searcher:
        assert "hunter2" in searcher.document("corpus/passwd")["text"]


def test_control_characters_reach_the_terminal_escaped(tmp_path: Path, write_jsonl) -> None:
    doc_id = "x\x1b[2J"
    url = "https://example.org/\x1b]8;;https://evil.example\x07link"
    path = write_jsonl(
        "esc.jsonl", [{"id": doc_id, "url": url, "title": "Harbour", "text": "Harbour news."}]
    )
    index_dir = tmp_path / "index"
    assert run_cli("index", str(path), "--workers", "1", index_dir=index_dir).exit_code == 0
    found = run_cli("search", "harbour", index_dir=index_dir)
    shown = run_cli("show", doc_id, index_dir=index_dir)
    assert found.exit_code == 0 and shown.exit_code == 0
    assert "[x\\x1b[2J]" in found.stdout and "\x1b[2J" not in found.stdout
    assert "\x1b[1m" in found.stdout  # the title is still shown bold
    assert "url: https://example.org/\\x1b]8;;https://evil.example\\x07link" in shown.stdout
    assert "\x1b]" not in shown.stdout and "\x07" not in shown.stdout
    assert json.loads(run_cli("show", doc_id, "--json", index_dir=index_dir).stdout)["url"] == url
