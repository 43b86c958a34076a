"""Shared fixtures: real indexes on disk built from the shipped sample corpus."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from app.indexer import Report, Settings, index_paths

REPO = Path(__file__).resolve().parent.parent
SAMPLE_DIR = REPO / "archive" / "data" / "sample"
SHARED = REPO.parent / "shared"
BBC_DIR = SHARED / "corpora" / "bbc"
RAQQA = SHARED / "samples" / "raqqa-offensive.txt"


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
