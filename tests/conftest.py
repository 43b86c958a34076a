"""Shared fixtures: real indexes on disk built from the shipped sample corpus."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

# The half-second search budget is for people waiting on a page; on a loaded CI machine it
# would cut ordinary searches short and fail tests about something else. Tests of the
# budget itself pass their own limits. Set before the settings module is first imported.
os.environ.setdefault("ARCHIVE_TIME_LIMIT", "30")

from app.indexer import Report, Settings, index_paths

REPO = Path(__file__).resolve().parent.parent
SAMPLE_DIR = REPO / "archive" / "data" / "sample"
# Development data beside the project; the variable lets a run point elsewhere (or nowhere).
SHARED = Path(os.environ.get("ARCHIVE_SHARED_DIR") or REPO.parent / "shared")


@pytest.fixture(scope="session")
def shared() -> Callable[[str], Path]:
    """Return a function giving the path of ../shared/<relative>, skipping the test if missing."""

    def path(relative: str) -> Path:
        found = SHARED / relative
        if not found.exists():
            pytest.skip(f"needs ../shared/{relative} (development data beside the project)")
        return found

    return path


@pytest.fixture(scope="session")
def raqqa(shared: Callable[[str], Path]) -> Path:
    """The unpunctuated Raqqa article in ../shared/samples."""
    return shared("samples/raqqa-offensive.txt")


@pytest.fixture(scope="session")
def bbc_dir(shared: Callable[[str], Path]) -> Path:
    """The BBC corpus folder in ../shared/corpora."""
    return shared("corpora/bbc")


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The sample corpus shipped with the package."""
    return SAMPLE_DIR


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the whole sample corpus, built once per test session (read-only use)."""
    index_dir = tmp_path_factory.mktemp("sample") / "index"
    index_paths([SAMPLE_DIR], index_dir, Settings(workers=1))
    return index_dir


@pytest.fixture
def build_index(tmp_path: Path) -> Callable[..., tuple[Path, Report]]:
    """Index the given paths into a fresh directory under tmp_path; returns (dir, report)."""

    def build(*paths: Path, **settings: object) -> tuple[Path, Report]:
        index_dir = tmp_path / "index"
        report = index_paths(list(paths), index_dir, Settings(workers=1, **settings))
        return index_dir, report

    return build


@pytest.fixture
def write_jsonl(tmp_path: Path) -> Callable[[str, list[dict]], Path]:
    """Write records as a JSON Lines file under tmp_path."""

    def write(name: str, records: list[dict]) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        return path

    return write
