"""Indexing on a real Dask LocalCluster started by the test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.indexer import Settings, index_paths
from index.searcher import ArchiveSearcher

distributed = pytest.importorskip("distributed")


def test_index_on_a_local_dask_cluster(sample_dir: Path, tmp_path: Path) -> None:
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        settings = Settings(scheduler=cluster.scheduler_address, batch_size=10)
        report = index_paths([sample_dir], tmp_path / "index", settings)
    assert report.indexed == 42 and report.skipped == 0
    with ArchiveSearcher.open(tmp_path / "index") as searcher:
        assert searcher.doc_count == 42
        doc = searcher.document("jl-0002")
        assert doc["summary"] and doc["segmented"] == "restored"


def test_without_the_flag_dask_is_not_imported(sample_dir: Path, tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path\n"
        "from app.indexer import Settings, index_paths\n"
        f"index_paths([Path({str(sample_dir)!r})], Path({str(tmp_path / 'ix')!r}), "
        "Settings(workers=2))\n"
        "assert not any(m.split('.')[0] in ('dask', 'distributed') for m in sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path: Path, sample_dir: Path) -> None:
    from click.testing import CliRunner

    from app.cli import cli

    result = CliRunner().invoke(
        cli,
        [
            "--index-dir",
            str(tmp_path / "ix"),
            "index",
            str(sample_dir),
            "--scheduler",
            "tcp://127.0.0.1:9",
        ],
    )
    assert result.exit_code == 1
    assert "cannot reach the Dask scheduler" in result.stderr
