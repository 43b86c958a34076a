"""Reliability with real processes: SIGKILL mid-run, stale and live locks, readers during
commits, and an index that cannot be written."""

from __future__ import annotations

import json
import os
import random
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.searcher import ArchiveSearcher
from index.store import index_exists
from index.writer import known_documents

ARCHIVE = Path(sys.executable).parent / "archive"
WORDS = "harbour council river budget storm school rail energy museum vote".split()


def corpus(path: Path, count: int) -> Path:
    """Write ``count`` short, distinct, punctuated articles as JSON Lines."""
    rng = random.Random(count)
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            words = [rng.choice(WORDS) for _ in range(40)]
            sentences = [" ".join(words[i : i + 10]).capitalize() + "." for i in range(0, 40, 10)]
            record = {"id": f"k{n}", "title": f"Story {n}", "text": " ".join(sentences)}
            out.write(json.dumps(record) + "\n")
    return path


def archive_cmd(index_dir: Path, *args: str) -> list[str]:
    return [str(ARCHIVE), "--index-dir", str(index_dir), *args]


def run(index_dir: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        archive_cmd(index_dir, *args), capture_output=True, text=True, timeout=300, **kwargs
    )


def assert_readable(index_dir: Path) -> int:
    """The index opens, searches and lists its documents; return its size."""
    with ArchiveSearcher.open(index_dir) as searcher:
        count = searcher.doc_count
        results = searcher.search("harbour", pagelen=5)
        assert results.total <= count
        for hit in results.hits:
            assert searcher.document(hit.id) is not None
    return count


def _has_commit(index_dir: Path, after: int) -> bool:
    if not index_exists(index_dir):
        return False
    try:
        with ArchiveSearcher.open(index_dir) as searcher:
            return searcher.doc_count > after
    except Exception:
        return False


def test_sigkill_at_any_moment_leaves_a_readable_index(tmp_path: Path) -> None:
    source = corpus(tmp_path / "feed.jsonl", 600)
    index_dir = tmp_path / "index"
    rng = random.Random(7)
    counts = []
    for delay in (rng.uniform(0.0, 0.3), rng.uniform(0.3, 0.8), rng.uniform(0.8, 1.5)):
        proc = subprocess.Popen(
            archive_cmd(index_dir, "index", str(source), "--workers", "2", "--batch-size", "20"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        # Kill once the run is writing (after start-up and learning sentence boundaries).
        deadline = time.monotonic() + 120
        while not _has_commit(index_dir, after=counts[-1] if counts else 0):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)  # the run and its worker processes, no clean-up
        proc.wait()
        if index_exists(index_dir):
            counts.append(assert_readable(index_dir))
    assert counts and max(counts) < 600, "the kills should land mid-run"

    finish = run(index_dir, "index", str(source), "--workers", "1")
    assert finish.returncode == 0, finish.stderr
    assert "was interrupted" in finish.stderr
    assert assert_readable(index_dir) == 600
    from index.store import open_index

    known = known_documents(open_index(index_dir))
    assert sorted(known) == sorted(f"k{n}" for n in range(600))  # each exactly once


def test_a_live_lock_makes_a_second_run_fail_or_wait(tmp_path: Path) -> None:
    source = corpus(tmp_path / "feed.jsonl", 5)
    index_dir = tmp_path / "index"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from index.store import RunLock\n"
            f"lock = RunLock({str(index_dir)!r}).acquire(); print('locked', flush=True)\n"
            "time.sleep(float(sys.argv[1])); lock.release()",
            "8",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    refused = run(index_dir, "index", str(source), "--workers", "1")
    assert refused.returncode == 1
    assert f"another 'archive index' run (pid {holder.pid})" in refused.stderr
    assert "Traceback" not in refused.stderr

    waited = run(index_dir, "index", str(source), "--workers", "1", "--wait", "30")
    holder.wait()
    assert waited.returncode == 0, waited.stderr
    assert "indexed 5" in waited.stdout
    assert "was interrupted" not in waited.stderr  # a clean release is not a stale lock


def test_readers_keep_answering_while_a_run_commits(tmp_path: Path) -> None:
    source = corpus(tmp_path / "feed.jsonl", 300)
    index_dir = tmp_path / "index"
    first = corpus(tmp_path / "seed.jsonl", 10)
    assert run(index_dir, "index", str(first), "--workers", "1").returncode == 0
    proc = subprocess.Popen(
        archive_cmd(index_dir, "index", str(source), "--workers", "1", "--batch-size", "10"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    searches, sizes = 0, set()
    while proc.poll() is None:
        sizes.add(assert_readable(index_dir))
        searches += 1
    assert proc.returncode == 0, proc.stderr.read()
    assert searches > 20 and len(sizes) > 3, "searches should have seen several commits"
    assert assert_readable(index_dir) == 300  # the seed ids are among the feed ids


def test_an_unwritable_index_directory_is_a_clear_error(tmp_path: Path) -> None:
    source = corpus(tmp_path / "feed.jsonl", 3)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the index folder should be")
    result = run(blocker / "index", "index", str(source), "--workers", "1")
    assert result.returncode == 1
    assert "cannot write to the index directory" in result.stderr
    assert "Traceback" not in result.stderr


def _limit_file_size() -> None:
    # A file-size limit makes writes fail as a full disk would, without a real full disk.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (150_000, 150_000))


@pytest.mark.skipif(not hasattr(resource, "RLIMIT_FSIZE"), reason="needs RLIMIT_FSIZE")
def test_a_failing_disk_leaves_the_previous_index_intact(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    assert (
        run(index_dir, "index", str(corpus(tmp_path / "a.jsonl", 20)), "--workers", "1").returncode
        == 0
    )
    big = corpus(tmp_path / "big.jsonl", 400)
    result = run(index_dir, "index", str(big), "--workers", "1", preexec_fn=_limit_file_size)
    assert result.returncode == 1
    assert "could not write the index" in result.stderr or "could not commit" in result.stderr
    assert "Traceback" not in result.stderr
    assert assert_readable(index_dir) == 20
