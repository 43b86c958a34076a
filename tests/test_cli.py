"""The ``archive`` command line, run with CliRunner against real indexes in tmp_path."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import cli


@pytest.fixture
def run(tmp_path: Path) -> Callable[..., object]:
    """Run the CLI with --index-dir under tmp_path."""
    runner = CliRunner()

    def invoke(*args: str, index_dir: Path | None = None):
        return runner.invoke(cli, ["--index-dir", str(index_dir or tmp_path / "index"), *args])

    return invoke


def test_index_search_show_stats_delete(run: Callable, sample_dir: Path) -> None:
    result = run("index", str(sample_dir), "--workers", "1")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == (
        "indexed 42, updated 0, unchanged 0, deleted 0, skipped 0"
    )

    result = run("index", str(sample_dir), "--workers", "1")
    assert "indexed 0, updated 0, unchanged 42" in result.stdout

    result = run("search", "flood", "--limit", "2")
    assert result.exit_code == 0
    assert "results" in result.stdout and "Summary:" in result.stdout

    result = run("show", "csv-0004", "--json")
    doc = json.loads(result.stdout)
    assert doc["id"] == "csv-0004" and doc["summary"] and doc["segmented"] == "restored"

    result = run("stats", "--json")
    stats = json.loads(result.stdout)
    assert stats["articles"] == 42 and stats["size_bytes"] > 0 and stats["last_update"]
    assert sum(stats["source"].values()) == 40  # two headerless .txt files have no source
    assert "Valley Tribune" in run("stats").stdout

    result = run("delete", "csv-0004", "nope")
    assert result.exit_code == 0
    assert "deleted 1" in result.stdout and "no article with id 'nope'" in result.stderr
    assert run("show", "csv-0004").exit_code == 1


def test_search_json_shape(run: Callable, sample_index: Path) -> None:
    result = run(
        "search", "council", "--json", "--limit", "3", "--page", "2", index_dir=sample_index
    )
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert {"query", "total", "page", "hits", "took_ms", "facets"} <= set(data)
    assert data["query"] == "council" and data["page"] == 2 and len(data["hits"]) == 3
    for hit in data["hits"]:
        assert set(hit) >= {
            "id",
            "title",
            "author",
            "date",
            "source",
            "category",
            "score",
            "snippet",
            "summary",
        }
        assert isinstance(hit["score"], float)
    assert {f["value"] for f in data["facets"]["source"]}


def test_query_syntax_and_malformed_queries(run: Callable, sample_index: Path) -> None:
    def search(query: str) -> dict:
        result = run("search", query, "--json", "--limit", "50", index_dir=sample_index)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    assert all(h["category"] == "sport" for h in search("category:sport")["hits"])
    assert search("category:sport")["total"] >= 3
    both = search("flood AND insurers")["total"]
    assert 0 < both < search("flood OR insurers")["total"]
    assert search('"chip factory"')["total"] >= 1
    assert search("fl*")["total"] > search("flood")["total"] > 0
    for broken in ('"unbalanced AND', "title:", "(open", "x" * 10_000):
        data = search(broken)
        assert data["notes"], broken
    assert search("*")["total"] == 42


def test_readable_listing_and_errors(run: Callable, tmp_path: Path) -> None:
    result = run("search", "flood")
    assert result.exit_code == 1
    assert "no archive index" in result.stderr and "Traceback" not in result.output

    result = run("index", str(tmp_path / "missing"))
    assert result.exit_code == 1 and "no such file or folder" in result.stderr


def test_bad_input_is_reported_and_the_rest_indexed(run: Callable, tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        '{"id": "ok", "title": "Fine", "text": "Good text."}\n{broken\n', encoding="utf-8"
    )
    result = run("index", str(path), "--workers", "1")
    assert result.exit_code == 0
    assert f"{path}:2: bad JSON" in result.stderr
    assert "indexed 1, updated 0, unchanged 0, deleted 0, skipped 1" in result.stdout

    strict = run("index", str(path), "--workers", "1", "--strict")
    assert strict.exit_code == 1 and "skipped (--strict)" in strict.stderr

    nothing = tmp_path / "nothing.jsonl"
    nothing.write_text("{broken\n", encoding="utf-8")
    result = run("index", str(nothing), "--workers", "1")
    assert result.exit_code == 1 and "no article could be read" in result.stderr


def test_rebuild_flag(run: Callable, tmp_path: Path, write_jsonl: Callable) -> None:
    first = write_jsonl("a.jsonl", [{"id": "a", "text": "Alpha text."}])
    second = write_jsonl("b.jsonl", [{"id": "b", "text": "Beta text."}])
    assert run("index", str(first), "--workers", "1").exit_code == 0
    result = run("index", str(second), "--workers", "1", "--rebuild")
    assert "indexed 1" in result.stdout
    assert json.loads(run("stats", "--json").stdout)["articles"] == 1


def test_index_dir_from_environment(tmp_path: Path, write_jsonl: Callable) -> None:
    path = write_jsonl("a.jsonl", [{"id": "a", "text": "Alpha text."}])
    env = {"ARCHIVE_INDEX_DIR": str(tmp_path / "env-index")}
    result = CliRunner(env=env).invoke(cli, ["index", str(path), "--workers", "1"])
    assert result.exit_code == 0
    assert (tmp_path / "env-index").is_dir()


def test_every_command_has_an_example() -> None:
    for name, command in cli.commands.items():
        assert "Example: archive" in (command.help or ""), name


def test_summarize_command_on_the_raqqa_sample(run: Callable) -> None:
    from tests.conftest import RAQQA

    if not RAQQA.exists():
        pytest.skip("needs ../shared/samples/raqqa-offensive.txt")
    result = run("summarize", str(RAQQA), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["segmented"] == "restored" and len(data["sentences"]) == 3
    for sentence in data["sentences"]:
        assert 8 <= len(sentence.split()) <= 60
        assert sentence[0].isupper() and sentence.endswith(".")
        assert "Carol Adl" not in sentence and "Comments" not in sentence
    assert data["summary"] == " ".join(data["sentences"])

    text = "Mr. Smith met Dr. Jones in the U.S. on Monday. They talked about the budget for hours."
    piped = CliRunner().invoke(cli, ["summarize", "-", "--sentences", "1"], input=text)
    assert piped.exit_code == 0
    assert piped.stdout.startswith("- Mr. Smith met Dr. Jones in the U.S. on Monday.")
