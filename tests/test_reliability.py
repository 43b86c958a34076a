"""Reliability with real processes: SIGKILL mid-run, stale and live locks, readers during
commits, rebuild swaps, concurrent runs, worker deaths and an index that cannot be written."""

from __future__ import annotations

import gc
import json
import os
import random
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import pytest

from app.indexer import Settings, index_paths
from index.errors import UnsafeLock
from index.searcher import ArchiveSearcher
from index.store import RUN_LOCK, index_exists, live_dir, open_index
from index.writer import known_documents
from web import create_app

ARCHIVE = Path(sys.executable).parent / "archive"
WORDS = "harbour council river budget storm school rail energy museum vote".split()


def corpus(path: Path, count: int, prefix: str = "k") -> Path:
    """Write ``count`` short, distinct, punctuated articles as JSON Lines."""
    rng = random.Random(count)
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            words = [rng.choice(WORDS) for _ in range(40)]
            sentences = [" ".join(words[i : i + 10]).capitalize() + "." for i in range(0, 40, 10)]
            record = {"id": f"{prefix}{n}", "title": f"Story {n}", "text": " ".join(sentences)}
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


def wait_for_commit(proc: subprocess.Popen, index_dir: Path, after: int, within: float) -> None:
    """Wait until the running ``proc`` has committed more than ``after`` articles."""
    deadline = time.monotonic() + within
    while not _has_commit(index_dir, after=after):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)


def test_sigkill_at_any_moment_leaves_a_readable_index(tmp_path: Path) -> None:
    # Enough articles that a run resumed after a kill is still writing at its last kill (600
    # were indexed within the 1.5 s once indexing got faster, so the last kill came too late).
    total = 2000
    source = corpus(tmp_path / "feed.jsonl", total)
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
        wait_for_commit(proc, index_dir, after=counts[-1] if counts else 0, within=120)
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)  # the run and its worker processes, no clean-up
        proc.wait()
        if index_exists(index_dir):
            counts.append(assert_readable(index_dir))
    assert counts and max(counts) < total, "the kills should land mid-run"

    finish = run(index_dir, "index", str(source), "--workers", "1")
    assert finish.returncode == 0, finish.stderr
    assert "was interrupted" in finish.stderr
    assert assert_readable(index_dir) == total
    known = known_documents(open_index(index_dir))
    assert sorted(known) == sorted(f"k{n}" for n in range(total))  # each exactly once


def test_a_live_lock_makes_a_second_run_fail_or_wait(tmp_path: Path) -> None:
    source = corpus(tmp_path / "feed.jsonl", 5)
    index_dir = tmp_path / "index"
    # The holder keeps the lock until told to let go (not for a fixed time), so a slow
    # machine cannot release it before the refused run has looked.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from index.store import RunLock\n"
            f"lock = RunLock({str(index_dir)!r}).acquire(); print('locked', flush=True)\n"
            "sys.stdin.readline(); lock.release()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    refused = run(index_dir, "index", str(source), "--workers", "1")
    assert refused.returncode == 1
    assert f"another 'archive index' run (pid {holder.pid})" in refused.stderr
    assert "Traceback" not in refused.stderr

    waiting = subprocess.Popen(
        archive_cmd(index_dir, "index", str(source), "--workers", "1", "--wait", "120"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(2)  # usually enough for it to be waiting; if not, it simply finds the lock free
    holder.communicate("release\n", timeout=60)
    out, err = waiting.communicate(timeout=300)
    assert waiting.returncode == 0, err
    assert "indexed 5" in out
    assert "was interrupted" not in err  # a clean release is not a stale lock


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


def process_tree(root: int) -> dict[int, int]:
    """Every living process below ``root``, mapped to its parent (read from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()  # the name may hold spaces
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    tree: dict[int, int] = {}
    todo = [root]
    while todo:
        parent = todo.pop()
        for pid, ppid in parents.items():
            if ppid == parent:
                tree[pid] = parent
                todo.append(pid)
    return tree


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def assert_all_exit(pids: Iterable[int], within: float = 10.0) -> None:
    """Every process in ``pids`` ends within ``within`` seconds (workers poll their parent)."""
    deadline = time.monotonic() + within
    while any(alive(pid) for pid in pids):
        assert time.monotonic() < deadline, "worker processes outlived the run"
        time.sleep(0.1)


def start_run_with_workers(index_dir: Path, source: Path) -> subprocess.Popen:
    """Start an indexing run with two workers and return once it has committed."""
    proc = subprocess.Popen(
        archive_cmd(index_dir, "index", str(source), "--workers", "2", "--batch-size", "200"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for_commit(proc, index_dir, after=0, within=180)
    return proc


needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


@needs_proc
def test_killing_only_the_parent_leaves_no_worker_holding_the_lock(tmp_path: Path) -> None:
    source = corpus(tmp_path / "feed.jsonl", 3000)
    index_dir = tmp_path / "index"
    proc = start_run_with_workers(index_dir, source)
    below = process_tree(proc.pid)
    assert len(below) >= 2, "the run should have started its workers"
    proc.kill()  # the parent alone, not its process group
    proc.wait()
    assert_all_exit(below)
    finish = run(index_dir, "index", str(source), "--workers", "2")  # no --wait: lock is free
    assert finish.returncode == 0, finish.stderr
    assert "was interrupted" in finish.stderr
    assert assert_readable(index_dir) == 3000


@needs_proc
def test_a_killed_worker_ends_the_run_with_a_clear_message(tmp_path: Path) -> None:
    source = corpus(tmp_path / "feed.jsonl", 3000)
    index_dir = tmp_path / "index"
    proc = start_run_with_workers(index_dir, source)
    tree = process_tree(proc.pid)
    leaves = [
        pid
        for pid in tree
        if pid not in tree.values()
        and b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]
    committed = assert_readable(index_dir)
    os.kill(leaves[0], signal.SIGKILL)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert "a worker process died" in stderr
    assert "Traceback" not in stderr
    assert assert_readable(index_dir) >= committed
    assert_all_exit(tree)


@pytest.mark.parametrize("step, expected", [("swap", 20), ("swapped", 30)])
def test_a_rebuild_killed_at_its_swap_leaves_a_consistent_index(
    tmp_path: Path, step: str, expected: int
) -> None:
    index_dir = tmp_path / "index"
    new = corpus(tmp_path / "new.jsonl", 30)
    first = run(index_dir, "index", str(corpus(tmp_path / "old.jsonl", 20)), "--workers", "1")
    assert first.returncode == 0
    env = {**os.environ, "ARCHIVE_TEST_KILL_AT": step}
    killed = run(index_dir, "index", str(new), "--workers", "1", "--rebuild", env=env)
    assert killed.returncode == -signal.SIGKILL
    # Every command, read or write, finds one whole index: the old or the new.
    stats = run(index_dir, "stats")
    assert stats.returncode == 0, stats.stderr
    assert f"articles:    {expected}" in stats.stdout
    search = run(index_dir, "search", "Story", "--json")
    assert search.returncode == 0 and json.loads(search.stdout)["total"] == expected
    again = run(index_dir, "index", str(new), "--workers", "1")
    assert again.returncode == 0, again.stderr
    assert assert_readable(index_dir) == 30
    assert len(list(index_dir.glob("gen-*"))) == 1, "the next run removes the dead generation"


def test_an_index_from_before_generations_is_used_then_migrated(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    index_paths([corpus(tmp_path / "a.jsonl", 20)], index_dir, Settings(workers=1))
    generation = live_dir(index_dir)
    for item in generation.iterdir():  # lay it out flat, as earlier versions wrote it
        if not item.name.startswith("."):
            item.rename(index_dir / item.name)
    for item in [*generation.iterdir(), index_dir / "CURRENT"]:
        item.unlink()
    generation.rmdir()
    (index_dir / "notes.txt").write_text("the user's own file", encoding="utf-8")
    assert assert_readable(index_dir) == 20

    bigger = corpus(tmp_path / "b.jsonl", 25)
    index_paths([bigger], index_dir, Settings(workers=1))
    assert not (index_dir / "CURRENT").exists(), "an incremental run updates it in place"
    assert assert_readable(index_dir) == 25

    index_paths([bigger], index_dir, Settings(workers=1, rebuild=True))
    assert assert_readable(index_dir) == 25
    assert sorted(p.name for p in index_dir.iterdir()) == [
        "CURRENT",
        RUN_LOCK,
        "gen-1",
        "notes.txt",
    ]


def test_three_runs_across_a_rebuild_never_write_at_once(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    rebuilt = corpus(tmp_path / "a.jsonl", 600, prefix="a")
    waiting = corpus(tmp_path / "b.jsonl", 800, prefix="b")
    late = corpus(tmp_path / "c.jsonl", 20, prefix="c")
    seed = run(index_dir, "index", str(corpus(tmp_path / "seed.jsonl", 10)), "--workers", "1")
    assert seed.returncode == 0

    def start(source: Path, *args: str) -> subprocess.Popen:
        command = archive_cmd(index_dir, "index", str(source), "--workers", "1", *args)
        return subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )

    a = start(rebuilt, "--rebuild", "--batch-size", "50")
    lock = index_dir / RUN_LOCK
    deadline = time.monotonic() + 60
    while lock.read_text() != str(a.pid):
        assert a.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    b = start(waiting, "--batch-size", "10", "--wait", "600")
    assert a.wait(timeout=300) == 0, a.stderr.read()
    assert b.poll() is None, "B should still be waiting or writing when C starts"
    c = start(late, "--wait", "600")
    ended: dict[str, float] = {}
    deadline = time.monotonic() + 300
    while len(ended) < 2:
        assert time.monotonic() < deadline
        for name, proc in (("b", b), ("c", c)):
            if name not in ended and proc.poll() is not None:
                ended[name] = time.monotonic()
        time.sleep(0.02)
    for proc in (b, c):
        stderr = proc.stderr.read()
        assert proc.returncode == 0 and "Traceback" not in stderr, stderr
    # C has far less to do than B: it ends after B only because it waited for B's lock.
    assert ended["c"] > ended["b"]
    expected = {f"a{n}" for n in range(600)} | {f"b{n}" for n in range(800)}
    assert set(known_documents(open_index(index_dir))) == expected | {f"c{n}" for n in range(20)}


def test_a_server_sees_a_rebuild_within_a_second(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    first = run(index_dir, "index", str(corpus(tmp_path / "a.jsonl", 20)), "--workers", "1")
    assert first.returncode == 0
    client = create_app({"INDEX_DIR": str(index_dir), "TESTING": True}).test_client()
    assert client.get("/api/search?q=Story").json["total"] == 20
    # Both runs commit once, so the rebuilt index has the old one's generation number.
    new = corpus(tmp_path / "new.jsonl", 30, prefix="r")
    assert run(index_dir, "index", str(new), "--rebuild", "--workers", "1").returncode == 0
    swapped = time.monotonic()
    while client.get("/api/search?q=Story").json["total"] != 30:
        assert time.monotonic() - swapped < 1.0, "the server still answers from the old index"
        time.sleep(0.05)
    assert client.get("/api/articles/r0").status_code == 200
    gc.collect()  # the old generation's files close once nothing refers to its readers
    held = [os.readlink(fd) for fd in Path("/proc/self/fd").iterdir() if fd.is_symlink()]
    assert not [name for name in held if str(index_dir) in name and "(deleted)" in name]


def test_a_rebuild_leaves_folders_it_did_not_make(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    source = corpus(tmp_path / "a.jsonl", 10)
    index_paths([source], index_dir, Settings(workers=1))
    backups = [tmp_path / "index.old", tmp_path / "index.rebuild", index_dir / "gen-7"]
    for folder in backups:  # a 'cp -r' backup, and a folder that only looks like a generation
        folder.mkdir()
        (folder / "keep.txt").write_text("mine", encoding="utf-8")
    for _ in range(2):
        index_paths([source], index_dir, Settings(workers=1, rebuild=True))
    assert all((folder / "keep.txt").read_text(encoding="utf-8") == "mine" for folder in backups)
    assert assert_readable(index_dir) == 10


@pytest.mark.parametrize("kind", ["symlink", "hard link"])
def test_a_lock_that_is_not_a_plain_file_is_refused(tmp_path: Path, kind: str) -> None:
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    lock = index_dir / RUN_LOCK
    lock.symlink_to(victim) if kind == "symlink" else os.link(victim, lock)
    with pytest.raises(UnsafeLock, match="refusing to use it as the run lock"):
        index_paths([corpus(tmp_path / "a.jsonl", 3)], index_dir, Settings(workers=1))
    assert victim.read_text(encoding="utf-8") == "precious"


def _no_file_growth() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


@pytest.mark.skipif(not hasattr(resource, "RLIMIT_FSIZE"), reason="needs RLIMIT_FSIZE")
def test_a_lock_that_cannot_be_written_is_a_clear_error(tmp_path: Path) -> None:
    source = corpus(tmp_path / "a.jsonl", 3)
    result = run(
        tmp_path / "index", "index", str(source), "--workers", "1", preexec_fn=_no_file_growth
    )
    assert result.returncode == 1
    assert "cannot record this run in" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(not hasattr(resource, "RLIMIT_FSIZE"), reason="needs RLIMIT_FSIZE")
def test_a_failed_rebuild_removes_its_partial_copy(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    first = run(index_dir, "index", str(corpus(tmp_path / "a.jsonl", 20)), "--workers", "1")
    assert first.returncode == 0
    big = corpus(tmp_path / "big.jsonl", 400)
    result = run(
        index_dir, "index", str(big), "--workers", "1", "--rebuild", preexec_fn=_limit_file_size
    )
    assert result.returncode == 1
    assert "the partial rebuild was removed" in result.stderr
    assert "Traceback" not in result.stderr
    assert [p.name for p in index_dir.glob("gen-*")] == [live_dir(index_dir).name]
    assert assert_readable(index_dir) == 20
