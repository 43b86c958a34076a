"""The ``archive`` command line, run with CliRunner against real indexes in tmp_path."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import cli
from app.progress import Progress


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


def test_summarize_command_on_the_raqqa_sample(run: Callable, raqqa: Path) -> None:
    result = run("summarize", str(raqqa), "--json")
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


def test_raqqa_sample_is_indexed_found_and_summarised(
    run: Callable, tmp_path: Path, raqqa: Path
) -> None:
    result = run("index", str(raqqa.parent), "--workers", "1")
    assert result.exit_code == 0, result.output
    assert "indexed 1, updated 0, unchanged 0, deleted 0, skipped 0" in result.stdout
    assert "no text" not in result.stderr

    result = run("search", "Raqqa")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    [hit] = [i for i, line in enumerate(lines) if "[samples/raqqa-offensive]" in line]
    assert "The US led coalition is preparing an offensive" in lines[hit]
    assert "Raqqa" in lines[hit + 1]  # the snippet
    assert any(line.strip().startswith("Summary: ") for line in lines[hit + 1 :])

    doc = json.loads(run("show", "samples/raqqa-offensive", "--json").stdout)
    assert doc["title"].startswith("The US led coalition") and len(doc["title"]) <= 102
    assert doc["segmented"] == "restored" and doc["summary"].count(".") >= 2
    assert not doc["title"].startswith("Carol Adl")


def test_include_and_exclude_globs(run: Callable, tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    (folder / "drafts").mkdir(parents=True)
    (folder / "README.txt").write_text("About this corpus\n\nHow it was made.", "utf-8")
    (folder / "LICENSE").write_text("MIT\n\nPermission is granted.", "utf-8")
    (folder / ".notes.txt").write_text("Notes\n\nPrivate.", "utf-8")
    (folder / "story.txt").write_text("Story\n\nThe text.", "utf-8")
    (folder / "drafts" / "draft.txt").write_text("Draft\n\nNot yet.", "utf-8")
    result = run("index", str(folder), "--workers", "1")
    assert "indexed 2, updated 0" in result.stdout
    ids = {h["id"] for h in json.loads(run("search", "", "--json").stdout)["hits"]}
    assert ids == {"corpus/story", "corpus/drafts/draft"}

    result = run(
        "index", str(folder), "--workers", "1", "--include", "readme*", "--exclude", "drafts/*"
    )
    assert "indexed 1, updated 0, unchanged 1, deleted 1" in result.stdout
    ids = {h["id"] for h in json.loads(run("search", "", "--json").stdout)["hits"]}
    assert ids == {"corpus/story", "corpus/README"}


def test_encoding_option_and_fallback_warning(run: Callable, tmp_path: Path) -> None:
    path = tmp_path / "greek.txt"
    path.write_bytes("Ειδήσεις\n\nΗ βουλή ψήφισε σήμερα.".encode("cp1253"))
    result = run("index", str(path), "--workers", "1")
    assert result.exit_code == 0 and "indexed 1" in result.stdout
    assert f"{path}:0: not valid UTF-8: read as cp1252" in result.stderr
    result = run("index", str(path), "--workers", "1", "--encoding", "cp1253")
    assert "updated 1" in result.stdout and "read as cp1253" in result.stderr
    assert json.loads(run("show", "greek", "--json").stdout)["title"] == "Ειδήσεις"
    result = run("index", str(path), "--encoding", "klingon")
    assert result.exit_code == 2 and "unknown encoding 'klingon'" in result.output


def test_dayfirst_option(run: Callable, tmp_path: Path) -> None:
    path = tmp_path / "dates.csv"
    path.write_text("id,title,text,date\nd1,Vote,The vote was held.,01/02/2024\n", "utf-8")
    result = run("index", str(path), "--workers", "1")
    assert result.exit_code == 0 and "ambiguous date '01/02/2024'" in result.stderr
    assert json.loads(run("show", "d1", "--json").stdout)["date"] is None
    result = run("index", str(path), "--workers", "1", "--dayfirst")
    assert "updated 1" in result.stdout and "ambiguous" not in result.stderr
    assert json.loads(run("show", "d1", "--json").stdout)["date"].startswith("2024-02-01")


def _first_line(result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()[0]


@pytest.mark.parametrize("query", ["the new year", "council", "flood OR insurers", "*"])
def test_text_total_is_the_json_total_whatever_the_limit(
    run: Callable, sample_index: Path, query: str
) -> None:
    # Whoosh's top-N collector counted only what it kept: 'the new year' said 14 with
    # --limit 1, 17 with 2 and 20 (the truth) with 10.
    total = json.loads(run("search", query, "--json", index_dir=sample_index).stdout)["total"]
    assert total > 1
    for limit in ("1", "2", "3", "10"):
        line = _first_line(run("search", query, "--limit", limit, index_dir=sample_index))
        assert line.startswith(f"{total} results ("), (limit, line)
        page = run("search", query, "--json", "--limit", limit, index_dir=sample_index)
        assert json.loads(page.stdout)["total"] == total


def test_one_result_is_singular(run: Callable, sample_index: Path) -> None:
    line = _first_line(run("search", "flood insurance council", index_dir=sample_index))
    assert line.startswith("1 result (") and "page 1 of 1" in line


@pytest.mark.parametrize("as_json", [False, True])
def test_page_past_the_last_exits_1(run: Callable, sample_index: Path, as_json: bool) -> None:
    extra = ["--json"] if as_json else []
    last = run("search", "council", "--limit", "10", "--page", "2", *extra, index_dir=sample_index)
    assert last.exit_code == 0 and last.stdout
    result = run(
        "search", "council", "--limit", "10", "--page", "3", *extra, index_dir=sample_index
    )
    assert result.exit_code == 1
    assert result.stdout == ""  # not the last page passed off as page 3
    assert "page 3 is past the last page" in result.stderr and "2 pages of 10" in result.stderr


def test_unknown_field_and_missing_facet_value_get_a_note(
    run: Callable, sample_index: Path
) -> None:
    result = run("search", "foo:council", index_dir=sample_index)
    assert result.exit_code == 0
    assert "note: There is no searchable field 'foo'" in result.stderr
    # The value is searched for as a word rather than giving a silent 0.
    assert int(_first_line(result).split()[0]) > 0

    result = run("search", "category:Politics", index_dir=sample_index)
    assert "No article has category 'Politics' (did you mean 'politics'?)" in result.stderr
    result = run("search", "flood source:Nowhere", "--json", index_dir=sample_index)
    assert json.loads(result.stdout)["notes"] == ["No article has source 'Nowhere'."]

    quiet = run("search", 'category:politics "foo:bar"', index_dir=sample_index)
    assert quiet.exit_code == 0 and "note:" not in quiet.stderr


def test_summariser_names_match_the_summarisers() -> None:
    from archive import summarize
    from archive.choices import SUMMARIZERS

    assert set(SUMMARIZERS) == {*summarize._PLAIN_SUMMARIZERS, "edmundson", "learned"}


def test_progress_lines_when_the_output_is_not_a_terminal(run: Callable, sample_dir: Path) -> None:
    result = run("index", str(sample_dir), "--workers", "1", "--progress-every", "0")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("indexing: ")]
    assert len(lines) == 42
    assert lines[0] == "indexing: 1 of 42 articles (2%)"  # no rate, no ETA from one article
    assert lines[-1].startswith("indexing: 42 of 42 articles (100%)")


def test_no_eta_until_the_rate_is_known() -> None:
    now = 0.0
    progress = Progress(total=100, clock=lambda: now)
    now = 4.0  # set-up before the first article: opening the index, learning sentences
    progress.advance(1)
    # Extrapolating from the set-up promised hours for a run of under a minute.
    assert progress.seconds_left is None and progress.line() == "1 of 100 articles (1%)"
    for _ in range(12):
        now += 1 / 3
        progress.advance(1)
    assert progress.rate == pytest.approx(3.0)
    assert progress.seconds_left == pytest.approx(29.0)
    assert progress.line() == "13 of 100 articles (13%), 3 articles/s, ETA 0:00:29"
    assert Progress().line() == "0 articles"


def _archive_on_a_terminal(*args: str) -> str:
    """Run the real ``archive`` command with a pseudo-terminal as its output; all it wrote."""
    controller, terminal = os.openpty()
    command = [sys.executable, "-c", "from app.cli import main; main()", *args]
    proc = subprocess.Popen(command, stdin=terminal, stdout=terminal, stderr=terminal)
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the command has exited and closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    assert proc.wait(timeout=120) == 0
    return b"".join(chunks).decode()


def test_terminal_bar_shows_no_eta_before_the_rate_and_progress_flag_prints_lines(
    tmp_path: Path, sample_dir: Path
) -> None:
    index_dir = str(tmp_path / "index")
    shown = _archive_on_a_terminal(
        "--index-dir", index_dir, "index", str(sample_dir), "--workers", "1"
    )
    frames = [f for f in re.split(r"[\r\n]+", shown) if "Indexing" in f]
    first = next(f for f in frames if "1/42" in f)
    assert not re.search(r"\d:\d\d:\d\d", first), first
    assert any("42/42" in f for f in frames)

    shown = _archive_on_a_terminal(
        *("--index-dir", index_dir, "index", str(sample_dir), "--rebuild", "--workers", "1"),
        *("--progress", "--progress-every", "0"),
    )
    assert "Indexing  [" not in shown and "indexing: 42 of 42 articles (100%)" in shown


#: Packages that only indexing, summarising or serving need; importing them took 1.4-1.9 s.
HEAVY_MODULES = {"nltk", "numpy", "sumy", "flask", "werkzeug", "waitress", "web"}
ARCHIVE_HEAVY = {"archive.summarize", "archive.segment", "archive.restore", "app.indexer"}


@pytest.mark.parametrize(
    "args",
    [["search", "council"], ["search", "council", "--json"], ["show", "csv-0006"], ["stats"]],
    ids=" ".join,
)
def test_read_only_commands_do_not_import_summarisers_or_the_web(
    sample_index: Path, args: list[str]
) -> None:
    code = (
        "import json, sys\n"
        "from app.cli import main\n"
        "sys.argv[1:] = json.loads(sys.argv[1])\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "print('MODULES', json.dumps(sorted(sys.modules)))\n"
    )
    argv = json.dumps(["--index-dir", str(sample_index), *args])
    done = subprocess.run(
        [sys.executable, "-c", code, argv], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    modules = set(json.loads(done.stdout.rsplit("MODULES ", 1)[1]))
    assert "index.searcher" in modules  # the command did run
    # Facet counts (in --json) are numpy bincounts; nothing else may pay for numpy.
    heavy = HEAVY_MODULES - {"numpy"} if "--json" in args else HEAVY_MODULES
    imported = {name for name in modules if name.split(".")[0] in heavy}
    assert not imported and not modules & ARCHIVE_HEAVY, sorted(imported | modules & ARCHIVE_HEAVY)


def test_snippets_in_the_listing_stay_on_one_line(sample_index: Path) -> None:
    result = CliRunner().invoke(cli, ["--index-dir", str(sample_index), "search", "flood defences"])
    assert result.exit_code == 0
    snippets = [line for line in result.stdout.splitlines() if "…" in line]
    assert snippets and not any("\\n" in line for line in snippets)
