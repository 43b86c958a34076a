"""Stories: near-copies grouped at index time (MinHash LSH kept with each commit), collapsed
in search (library, web, API, CLI) and listed on the article page; kills mid-run."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from whoosh.filedb.filestore import FileStorage

from app.cli import cli
from app.indexer import Settings, delete_ids, index_paths
from index.schema import make_schema
from index.searcher import ArchiveSearcher
from index.settings import MERGE_FACTOR
from index.store import INDEX_NAME, index_exists, live_dir, open_index
from index.stories import StoryState
from index.writer import BatchWriter
from web import create_app

ARCHIVE = Path(sys.executable).parent / "archive"
VOCABULARY = [f"w{n}" for n in range(400)]
#: The quickest summariser: these tests are about stories, not summaries.
LUHN = Settings(workers=1, summarizer="luhn")


def prose(rng: random.Random, sentences: int = 12) -> list[str]:
    """Paragraphs of punctuated sentences of random words, three sentences each."""
    made = [
        " ".join(rng.choice(VOCABULARY) for _ in range(10)).capitalize() + "."
        for _ in range(sentences)
    ]
    return [" ".join(made[i : i + 3]) for i in range(0, sentences, 3)]


def write(path: Path, records: list[dict]) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record) + "\n")
    return path


def stored_stories(index_dir: Path) -> dict[str, str]:
    with open_index(index_dir).searcher() as searcher:
        return {doc["id"]: doc["story"] for doc in searcher.all_stored_fields()}


def assert_consistent(index_dir: Path, killed: bool = False) -> dict[str, str]:
    """The LSH state of the committed generation gives every article its stored story, but
    those it lists as lagging (only a run killed before its end leaves any)."""
    ix = open_index(index_dir)
    state = StoryState.load(live_dir(index_dir), ix.latest_generation())
    assert state is not None, "no state for the committed generation"
    stored = stored_stories(index_dir)
    assert state.stories().keys() == stored.keys()
    assert {d for d, s in state.stories().items() if stored[d] != s} <= state.lagging
    assert killed or not state.lagging
    return stored


def syndicated(rng: random.Random, n: int, copies: int = 1) -> list[dict]:
    """An original and ``copies`` re-furnished copies of it, from other sources."""
    paragraphs = prose(rng)
    records = [
        {
            "id": f"orig{n}",
            "title": f"Original {n}",
            "text": "\n\n".join(paragraphs),
            "date": "2024-03-02",
            "source": "Wire",
        }
    ]
    for c in range(copies):
        text = "\n\n".join(["By Jane Moss, Press Association", *paragraphs, "Share this article"])
        if c % 2:
            text = re.sub(r"[^\w\s]", "", text)  # a scraper that loses punctuation
        records.append(
            {
                "id": f"copy{n}-{c}",
                "title": f"Re-titled {n}/{c}",
                "text": text,
                "date": f"2024-03-0{3 + c}",
                "source": f"Paper {c}",
            }
        )
    return records


def test_copies_with_changed_furniture_are_one_story(tmp_path: Path) -> None:
    rng = random.Random(1)
    records = syndicated(rng, 0, copies=3) + syndicated(rng, 1)
    reordered = prose(rng)
    records.append({"id": "plain", "title": "Plain", "text": "\n\n".join(reordered)})
    records.append(
        {"id": "moved", "title": "Moved", "text": "\n\n".join([*reordered[2:], *reordered[:2]])}
    )
    index_dir = tmp_path / "index"
    index_paths([write(tmp_path / "a.jsonl", records)], index_dir, LUHN)
    stories = assert_consistent(index_dir)
    assert {stories[d] for d in ("orig0", "copy0-0", "copy0-1", "copy0-2")} == {"orig0"}
    assert stories["orig1"] == stories["copy1-0"] == "orig1"
    assert stories["plain"] == stories["moved"] == "moved"  # undated: ties go by id


def test_different_stories_with_the_same_wire_opening_are_not(tmp_path: Path) -> None:
    rng = random.Random(2)
    opening = prose(rng, sentences=3)[0]
    records = [
        {"id": f"s{n}", "title": "Storm", "text": "\n\n".join([opening, *prose(rng)])}
        for n in range(3)
    ]
    index_dir = tmp_path / "index"
    index_paths([write(tmp_path / "a.jsonl", records)], index_dir, LUHN)
    assert stored_stories(index_dir) == {"s0": "s0", "s1": "s1", "s2": "s2"}


def test_a_copy_in_a_later_run_joins_the_story_without_rereading(tmp_path: Path) -> None:
    rng = random.Random(3)
    first = syndicated(rng, 0) + [{"id": f"x{n}", "text": " ".join(prose(rng))} for n in range(5)]
    index_dir = tmp_path / "index"
    index_paths([write(tmp_path / "a.jsonl", first)], index_dir, LUHN)
    later = syndicated(random.Random(3), 0, copies=2)[2]  # the same paragraphs, another copy
    index_paths([write(tmp_path / "b.jsonl", [later])], index_dir, LUHN)
    stories = assert_consistent(index_dir)
    assert stories["copy0-1"] == stories["copy0-0"] == "orig0"
    # The second commit's state file holds the one new article: nothing old was re-read.
    ix = open_index(index_dir)
    listing = json.loads(
        (live_dir(index_dir) / f"stories-{ix.latest_generation()}.json").read_text()
    )
    import numpy as np

    with np.load(live_dir(index_dir) / listing["files"][-1]) as delta:
        assert list(delta["ids"]) == ["copy0-1"]


def test_an_earlier_copy_becomes_the_story_id_and_a_delete_moves_it_on(tmp_path: Path) -> None:
    rng = random.Random(4)
    records = syndicated(rng, 0)
    index_dir = tmp_path / "index"
    index_paths([write(tmp_path / "a.jsonl", records)], index_dir, LUHN)
    earlier = dict(records[1], id="early", date="2024-01-01", source="Early Post")
    index_paths([write(tmp_path / "b.jsonl", [earlier])], index_dir, LUHN)
    assert assert_consistent(index_dir) == {"orig0": "early", "copy0-0": "early", "early": "early"}
    assert delete_ids(index_dir, ["early"]) == (1, [])
    assert assert_consistent(index_dir) == {"orig0": "orig0", "copy0-0": "orig0"}


def test_committed_members_are_rewritten_once_when_the_run_ends(tmp_path: Path) -> None:
    paragraphs = prose(random.Random(5))
    records = [
        {
            "id": f"c{i}",
            "title": f"Copy {i}",
            "text": "\n\n".join([f"Printed by paper {i}", *paragraphs]),
            "date": f"2024-03-{20 - i}",  # each copy dated before those already committed
        }
        for i in range(5)
    ]
    index_dir = tmp_path / "index"
    one_a_commit = Settings(workers=1, summarizer="luhn", batch_size=1)
    index_paths([write(tmp_path / "feed.jsonl", records)], index_dir, one_a_commit)
    assert set(assert_consistent(index_dir).values()) == {"c4"}
    ix = open_index(index_dir)
    # Rewritten at each earlier copy, the members were deleted 0 + 1 + 2 + 3 + 4 = 10 times.
    assert ix.doc_count_all() - ix.doc_count() == 4


def test_rewrites_at_the_run_end_merge_once_and_a_kill_among_them_is_finished_next_run(
    tmp_path: Path,
) -> None:
    paragraphs = prose(random.Random(9))
    copies = 13
    records = [
        {
            "id": f"c{i}",
            "title": f"Copy {i}",
            "text": "\n\n".join([f"Printed by paper {i}", *paragraphs]),
            "date": f"2024-03-{28 - i}",  # each copy dated before those already committed
        }
        for i in range(copies)
    ]
    feed = write(tmp_path / "feed.jsonl", records)
    index_dir = tmp_path / "index"
    # One article a commit, then one rewrite a commit: killed at the 11th of 12 rewrites.
    env = {**os.environ, "ARCHIVE_TEST_KILL_AT": f"commit-{copies + 11}"}
    killed = _archive(index_dir, "index", str(feed), "--workers", "1", "--batch-size", "1", env=env)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    stories = assert_consistent(index_dir, killed=True)
    assert list(stories.values()).count("c12") == copies - 1  # one rewrite left to do
    state = StoryState.load(live_dir(index_dir), open_index(index_dir).latest_generation())
    assert state is not None and len(state.lagging) == 1
    # No rewrite commit merged: each left its own segment beside those of the run's commits
    # (the 11th commit merged the first 10; merging as they came merged at the 7th rewrite).
    assert len(open_index(index_dir)._segments()) == 4 + 11
    again = _archive(index_dir, "index", str(feed), "--workers", "1", "--batch-size", "1")
    assert again.returncode == 0, again.stderr
    assert set(assert_consistent(index_dir).values()) == {"c12"}
    ix = open_index(index_dir)
    assert len(ix._segments()) < MERGE_FACTOR  # the last rewrite's commit merged them
    assert ix.doc_count() == copies


def test_a_changed_text_leaves_its_story_and_is_matched_by_its_new_text(tmp_path: Path) -> None:
    rng = random.Random(6)
    records = syndicated(rng, 0)
    index_dir = tmp_path / "index"
    index_paths([write(tmp_path / "a.jsonl", records)], index_dir, LUHN)
    rewritten = "\n\n".join(prose(rng))
    records[1]["text"] = rewritten
    index_paths([write(tmp_path / "a.jsonl", records)], index_dir, LUHN)
    assert assert_consistent(index_dir) == {"orig0": "orig0", "copy0-0": "copy0-0"}
    # A later run knows copy0-0 by its new text (read from the saved state, not the old one).
    again = {"id": "again", "text": "By Tom Reid\n\n" + rewritten, "date": "2024-05-01"}
    index_paths([write(tmp_path / "b.jsonl", [again])], index_dir, LUHN)
    assert assert_consistent(index_dir)["again"] == "copy0-0"


def test_an_index_from_before_stories_gains_them_at_its_next_run(tmp_path: Path) -> None:
    schema = make_schema()
    schema.remove("story")  # as indexes were written before stories
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    ix = FileStorage(str(index_dir)).create_index(schema, indexname=INDEX_NAME)
    with BatchWriter(ix) as writer:
        for record in syndicated(random.Random(7), 0):
            fields = {k: record[k] for k in ("id", "title", "text", "source")}
            writer.add(fields, replace=False)
    index_paths([write(tmp_path / "b.jsonl", syndicated(random.Random(9), 1))], index_dir, LUHN)
    assert assert_consistent(index_dir) == {
        "orig0": "copy0-0",  # undated here: ties go by id
        "copy0-0": "copy0-0",
        "orig1": "orig1",
        "copy1-0": "orig1",
    }


@pytest.fixture(scope="module")
def story_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two stories of three and two articles, and one article alone, all mentioning harbour."""
    tmp = tmp_path_factory.mktemp("stories")
    rng = random.Random(5)
    records = syndicated(rng, 0, copies=2) + syndicated(rng, 1)
    records.append({"id": "alone", "title": "Alone", "text": " ".join(prose(rng))})
    for record in records:
        record["text"] += "\n\nThe harbour master said the harbour would reopen soon."
    records[1]["title"] = "Wire copy: 1 < 2 & 3"
    index_dir = tmp / "index"
    index_paths([write(tmp / "a.jsonl", records)], index_dir, LUHN)
    return index_dir


def test_search_collapses_stories_unless_asked_not_to(story_index: Path) -> None:
    with ArchiveSearcher.open(story_index) as searcher:
        grouped = searcher.search("harbour")
        every = searcher.search("harbour", collapse_stories=False)
        listed = searcher.search("harbour", filters={"story": ["orig0"]})
        paged = [searcher.search("harbour", page=p, pagelen=1) for p in (1, 2, 3)]
    assert (grouped.total, grouped.articles, len(grouped.hits)) == (3, 6, 3)
    assert sorted(grouped.stories[h.id].similar for h in grouped.hits) == [0, 1, 2]
    head = next(h for h in grouped.hits if h.story == "orig0")
    assert (grouped.stories[head.id].similar, grouped.stories[head.id].sources) == (2, 2)
    assert (every.total, len(every.hits)) == (6, 6)
    assert sorted(h.id for h in listed.hits) == ["copy0-0", "copy0-1", "orig0"]
    assert [p.total for p in paged] == [3, 3, 3] and paged[0].pages == 3
    assert len({p.hits[0].id for p in paged}) == 3  # each page shows another story


def test_web_and_api_collapse_on_and_off(story_index: Path) -> None:
    client = create_app({"INDEX_DIR": str(story_index), "TESTING": True}).test_client()
    page = client.get("/?q=harbour").get_data(as_text=True)
    assert "3 results for" in page and "3 stories from 6 articles" in page
    assert "and 2 similar articles from 2 sources" in page
    assert 'href="/?q=harbour&amp;story=orig0"' in page
    every = client.get("/?q=harbour&collapse=0").get_data(as_text=True)
    assert "6 results for" in every and "similar article" not in every
    assert "Wire copy: 1 &lt; 2 &amp; 3" in every
    assert '<input type="hidden" name="collapse" value="0">' in every  # the date form keeps it
    story = client.get("/?q=harbour&story=orig0").get_data(as_text=True)
    assert "3 results for" in story and "Story: orig0" in story

    api = client.get("/api/search?q=harbour").json
    assert api["total"] == 3 and api["articles"] == 6 and api["collapsed"] is True
    hit = next(h for h in api["hits"] if h["story"] == "orig0")
    assert (hit["similar"], hit["similar_sources"]) == (2, 2)
    off = client.get("/api/search?q=harbour&collapse=0").json
    assert off["total"] == 6 and all(h["similar"] == 0 for h in off["hits"])
    assert {h["story"] for h in off["hits"]} == {"orig0", "orig1", "alone"}
    assert client.get("/api/search?q=harbour&collapse=maybe").status_code == 400


def test_article_page_lists_the_other_members(story_index: Path) -> None:
    client = create_app({"INDEX_DIR": str(story_index), "TESTING": True}).test_client()
    page = client.get("/articles/orig0").get_data(as_text=True)
    members = page[page.index("Same story elsewhere") : page.index("More like this")]
    assert members.count("<li>") == 2
    assert "Paper 0" in members and "2024-03-03" in members and "Paper 1" in members
    assert "Wire copy: 1 &lt; 2 &amp; 3" in members
    assert re.search(r"(9\d|100)% of the text in common", members)
    assert 'href="/?story=orig0"' in members
    alone = client.get("/articles/alone").get_data(as_text=True)
    assert "Same story elsewhere" not in alone


def test_cli_collapses_unless_no_collapse(story_index: Path) -> None:
    base = ["--index-dir", str(story_index), "search", "harbour"]
    grouped = CliRunner().invoke(cli, base)
    assert grouped.exit_code == 0, grouped.output
    assert grouped.output.startswith("3 results from 6 articles")
    assert "and 2 similar articles from 2 sources: --story orig0" in grouped.output
    every = CliRunner().invoke(cli, [*base, "--no-collapse"])
    assert every.output.startswith("6 results (") and "similar article" not in every.output
    listed = CliRunner().invoke(cli, [*base, "--story", "orig0", "--json"])
    assert sorted(h["id"] for h in json.loads(listed.output)["hits"]) == [
        "copy0-0",
        "copy0-1",
        "orig0",
    ]


def _feed(path: Path, stories: int) -> Path:
    rng = random.Random(stories)
    records = [r for n in range(stories) for r in syndicated(rng, n, copies=2)]
    random.Random(0).shuffle(records)
    return write(path, records)


def _archive(index_dir: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    command = [str(ARCHIVE), "--index-dir", str(index_dir), *args, "--summarizer", "luhn"]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, **kwargs)


def test_a_kill_between_saving_stories_and_committing_leaves_them_consistent(
    tmp_path: Path,
) -> None:
    index_dir = tmp_path / "index"
    index_paths([_feed(tmp_path / "a.jsonl", 4)], index_dir, LUHN)
    before = assert_consistent(index_dir)
    env = {**os.environ, "ARCHIVE_TEST_KILL_AT": "stories-saved"}
    more = _feed(tmp_path / "b.jsonl", 8)  # the first four stories again, and four more
    killed = _archive(index_dir, "index", str(more), "--workers", "1", "--batch-size", "5", env=env)
    assert killed.returncode == -signal.SIGKILL
    assert assert_consistent(index_dir, killed=True) == before
    index_paths([more], index_dir, LUHN)
    stories = assert_consistent(index_dir)
    assert all(stories[f"copy{n}-{c}"] == f"orig{n}" for n in range(8) for c in range(2))


def test_sigkill_at_any_moment_leaves_stories_consistent(tmp_path: Path) -> None:
    source = _feed(tmp_path / "feed.jsonl", 40)
    index_dir = tmp_path / "index"
    rng = random.Random(8)
    sizes = []
    for delay in (rng.uniform(0.0, 0.2), rng.uniform(0.2, 0.6)):
        proc = subprocess.Popen(
            [str(ARCHIVE), "--index-dir", str(index_dir), "index", str(source)]
            + ["--workers", "1", "--batch-size", "7", "--summarizer", "luhn"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while not (index_exists(index_dir) and stored_stories(index_dir)):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        sizes.append(len(assert_consistent(index_dir, killed=True)))
    assert min(sizes) < 120, "the kills should land mid-run"
    index_paths([source], index_dir, LUHN)
    stories = assert_consistent(index_dir)
    assert len(stories) == 120
    assert all(stories[f"copy{n}-{c}"] == f"orig{n}" for n in range(40) for c in range(2))
