"""Exporting every hit from the command line: csv, jsonl and json parsed back and compared."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import cli
from index import searcher as searcher_module
from index.export import COLUMNS, neutralise, plain_snippet

SAMPLE_TOTAL = 42


@pytest.fixture
def run(sample_index: Path) -> Callable[..., object]:
    """Run the CLI on the sample index (or another given one); fails on a non-zero exit."""

    def invoke(*args: str, index_dir: Path = sample_index):
        result = CliRunner().invoke(cli, ["--index-dir", str(index_dir), *args])
        assert result.exit_code == 0, result.output
        return result

    return invoke


def expected_rows(run: Callable, *args: str) -> list[dict]:
    """The hits ``--json`` prints (every one on a page), as an export writes them."""
    hits = json.loads(run("search", *args, "--json", "--limit", "1000").stdout)["hits"]
    assert hits, "the comparison needs hits"
    for hit in hits:  # counts of the similar articles a collapsed hit stands for: not exported
        del hit["similar"], hit["similar_sources"]
    return [{**hit, "snippet": plain_snippet(hit["snippet"])} for hit in hits]


def csv_rows(text: str) -> list[dict]:
    """CSV text parsed back, cells as the JSON hits have them."""
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    for row in rows:
        row["score"] = float(row["score"])
        row["date"] = row["date"] or None
    return rows


@pytest.mark.parametrize("query", ["council", "", "flood OR river"])
def test_every_format_parses_back_to_the_json_hits(run: Callable, query: str) -> None:
    expected = expected_rows(run, query)
    exported_csv = run("search", query, "--all", "--format", "csv").stdout
    assert exported_csv.splitlines()[0] == ",".join(COLUMNS)
    assert csv_rows(exported_csv) == [
        {k: neutralise(v) for k, v in row.items()} for row in expected
    ]
    jsonl = run("search", query, "--all", "--format", "jsonl").stdout
    assert [json.loads(line) for line in jsonl.splitlines()] == expected
    assert json.loads(run("search", query, "--all", "--format", "json").stdout) == expected
    # Without --all the same formats write one page.
    page = run("search", query, "--format", "jsonl", "--limit", "3", "--page", "2").stdout
    assert [json.loads(line) for line in page.splitlines()] == expected[3:6]


def test_snippets_are_plain_text(run: Callable) -> None:
    html = json.loads(run("search", "council", "--json").stdout)["hits"][0]["snippet"]
    assert "<mark>" in html
    row = json.loads(run("search", "council", "--all", "--format", "jsonl").stdout.splitlines()[0])
    assert "<mark>" not in row["snippet"] and "&amp;" not in row["snippet"]
    assert row["snippet"] == plain_snippet(html)


def test_batches_give_the_same_hits_and_snippets(
    run: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = expected_rows(run, "council")
    monkeypatch.setattr(searcher_module, "EXPORT_BATCH", 4)
    jsonl = run("search", "council", "--all", "--format", "jsonl").stdout
    assert len(expected) > 4
    assert [json.loads(line) for line in jsonl.splitlines()] == expected


def test_all_exports_the_whole_sample_corpus_past_the_page_limit(
    run: Callable, tmp_path: Path
) -> None:
    out = tmp_path / "all.csv"
    result = run("search", "", "--all", "--format", "csv", "--output", str(out), "--limit", "5")
    assert result.stdout == ""
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert len(rows) == SAMPLE_TOTAL
    assert len({row["id"] for row in rows}) == SAMPLE_TOTAL
    text = run("search", "", "--all").stdout
    assert f"\n{SAMPLE_TOTAL}. " in text and f"\n{SAMPLE_TOTAL + 1}. " not in text


def test_filters_are_the_web_pages(run: Callable) -> None:
    rows = [
        json.loads(line)
        for line in run(
            "search", "", "--all", "--format", "jsonl", "--category", "politics",
            "--category", "business", "--year", "2024",
        ).stdout.splitlines()
    ]  # fmt: skip
    api_like = expected_rows(
        run, "", "--category", "politics", "--category", "business", "--year", "2024"
    )
    assert rows == api_like
    assert {r["category"] for r in rows} == {"politics", "business"}
    assert all(r["date"].startswith("2024") for r in rows)

    dated = run("search", "", "--all", "--format", "jsonl", "--from", "2024-01-01", "--to",
                "2024-06-30", "--sort", "oldest").stdout.splitlines()  # fmt: skip
    dates = [json.loads(line)["date"][:10] for line in dated]
    assert dates and dates == sorted(dates)
    assert all("2024-01-01" <= d <= "2024-06-30" for d in dates)


def test_json_flag_is_format_json(run: Callable) -> None:
    flag = json.loads(run("search", "flood", "--json").stdout)
    option = json.loads(run("search", "flood", "--format", "json").stdout)
    flag.pop("took_ms"), option.pop("took_ms")
    assert flag == option and flag["facets"]


def test_csv_injection_is_neutralised(
    tmp_path: Path, build_index: Callable, write_jsonl: Callable
) -> None:
    hostile = {
        "id": "evil-1",
        "title": '=HYPERLINK("http://evil.example/","Click")',
        "author": "+44 cmd",
        "source": "@SUM(A1:A9)",
        "category": "-2+3",
        "date": "2024-01-02",
        "url": "https://example.org/evil",
        "text": "=cmd|' /C calc'!A0 starts this article about the harbour wall and its repair.",
    }
    index_dir, _ = build_index(write_jsonl("evil.jsonl", [hostile]))
    result = CliRunner().invoke(
        cli, ["--index-dir", str(index_dir), "search", "harbour", "--all", "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    (row,) = csv.DictReader(io.StringIO(result.stdout, newline=""))
    assert row["title"] == "'" + hostile["title"]
    assert row["author"] == "'+44 cmd"
    assert row["source"] == "'@SUM(A1:A9)"
    assert row["category"] == "'-2+3"
    assert row["snippet"].startswith("'=cmd")
    assert row["id"] == "evil-1" and row["url"] == hostile["url"]
    # JSON Lines are for programs: the values stay exactly as stored.
    jsonl = CliRunner().invoke(
        cli, ["--index-dir", str(index_dir), "search", "harbour", "--all", "--format", "jsonl"]
    )
    assert json.loads(jsonl.stdout)["title"] == hostile["title"]


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@x", "\tx", "\rx"])
def test_neutralise_formula_starts(cell: str) -> None:
    assert neutralise(cell) == "'" + cell
    assert neutralise("plain " + cell) == "plain " + cell
    assert neutralise(-1.5) == -1.5


def test_an_export_cut_short_is_an_error_not_a_partial_file(sample_index: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["--index-dir", str(sample_index), "search", "", "--all", "--format", "csv"]
        + ["--time-limit", "0"],
    )
    assert result.exit_code == 1
    assert "took longer than 0 s" in result.output and "id,title" not in result.output


def test_output_file(run: Callable, sample_index: Path, tmp_path: Path) -> None:
    listing = tmp_path / "listing.txt"
    run("search", "council", "--all", "--output", str(listing))
    text = listing.read_text(encoding="utf-8")
    assert "\x1b[" not in text and text.startswith("\n1. ")
    jsonl = tmp_path / "hits.jsonl"
    run("search", "council", "--all", "--format", "jsonl", "--output", str(jsonl))
    assert (
        jsonl.read_text(encoding="utf-8")
        == run("search", "council", "--all", "--format", "jsonl").stdout
    )
    result = CliRunner().invoke(
        cli,
        ["--index-dir", str(sample_index), "search", "council", "--all", "--format", "csv"]
        + ["--output", str(tmp_path / "missing" / "out.csv")],
    )
    assert result.exit_code == 1 and "cannot write" in result.output
