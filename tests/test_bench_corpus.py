"""The scaled benchmark corpus (bench/_corpus.py) is what bench/scale.py says it indexes."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from archive.model import Article
from archive.readers import read_paths
from bench import _corpus

SAMPLE_TXT = Path(__file__).resolve().parent.parent / "archive" / "data" / "sample" / "txt"


def test_scaled_corpus_has_distinct_ids_perturbed_copies_and_dates_over_years(
    tmp_path: Path,
) -> None:
    base = _corpus.load(SAMPLE_TXT)
    size = len(base) * 3 + 5
    target = _corpus.write_scaled(tmp_path / "scaled.jsonl", size, seed=3, root=SAMPLE_TXT)
    records = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]

    assert len(records) == size
    assert len({r["id"] for r in records}) == size
    first, second = records[0], records[len(base)]
    assert first["id"].removesuffix("-0") == second["id"].removesuffix("-1")
    assert first["text"] == base[0].text  # the first copy is the article as it is
    assert second["text"] != first["text"]  # later copies are perturbed
    assert sorted(second["text"].split()) != sorted(first["text"].split())  # misspelt words
    years = {r["date"][:4] for r in records}
    assert len(years) >= 5 and years <= {str(y) for y in range(2015, 2025)}
    assert {r["source"] for r in records} <= set(_corpus.SOURCES)
    # The archive reads every record, with its date, and reports no problem.
    read = list(read_paths([target]))
    assert all(isinstance(item, Article) and item.date is not None for item in read)
    assert len(read) == size
    # Same seed, same corpus: figures from two runs compare the same articles.
    again = _corpus.write_scaled(tmp_path / "again.jsonl", size, seed=3, root=SAMPLE_TXT)
    assert again.read_bytes() == target.read_bytes()


def test_perturbed_misspells_one_word_in_typo_every() -> None:
    words = " ".join(["Government"] * 400)
    changed = _corpus.perturbed(words, random.Random(1), typo_every=20).split(" ")
    assert sum(w != "Government" for w in changed) == 20


def test_scale_progress_logs_committed_articles_and_cpu_per_article(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.indexer import Settings, index_paths
    from bench import scale

    monkeypatch.setattr(scale, "PROGRESS_EVERY", 0.0)
    log = tmp_path / "progress.log"
    progress = scale.Progress(log, tmp_path / "index")
    progress.tick({1: 1.0}, 50.0)  # nothing committed yet: no line
    assert not log.exists()
    report = index_paths([SAMPLE_TXT], tmp_path / "index", Settings(workers=1))
    progress.tick({1: 2.0, 2: 1.0}, 120.0)
    line = log.read_text(encoding="utf-8")
    assert f"{report.indexed:7,} articles" in line
    assert "3.0 CPU-s" in line
    assert f"{3000 / report.indexed:6.1f} CPU-ms/article" in line
    assert "writer 120 MB" in line


def test_summary_quality_learns_segmenter_from_other_half_drawn_as_the_indexer_draws() -> None:
    from archive.segment import spread_sample
    from bench.summary_quality import split

    arts = _corpus.load(SAMPLE_TXT)
    train, test = split(arts, 3)
    assert train == spread_sample([a for a in arts if _corpus.is_train(a)], 3)
    assert test == [a for a in arts if not _corpus.is_train(a)]
    assert test and len(train) == 3
    # Swapped, each half plays the other's part.
    swapped_train, swapped_test = split(arts, len(arts), swap=True)
    assert swapped_train == test
    assert swapped_test == split(arts, len(arts))[0]
