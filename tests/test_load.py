"""A bounded load test against a real `archive serve` while an index run commits."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.mark.slow
def test_fifty_clients_while_indexing(tmp_path: Path, bbc_dir: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "load_test.py"),
            "--corpus",
            str(bbc_dir / "tech"),
            "--background",
            str(bbc_dir / "entertainment"),
            "--clients",
            "50",
            "--requests",
            "800",
            "--max-seconds",
            "240",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "errors: 0" in result.stdout
    during = re.search(r"requests answered while it was committing: (\d+)", result.stdout)
    assert during and int(during.group(1)) >= 100
