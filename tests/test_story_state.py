"""The stories' LSH state: its numpy band buckets answer as a dict of lists would, a saved
state grows on as an unsaved one does, and its memory per article stays small."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np

from index.shingles import NUM_PERM
from index.stories import BANDS, MAX_DELTAS, Buckets, Signatures, StoryState, band_keys


def clustered(n: int, seed: int = 1, stories: int = 300) -> list[np.ndarray]:
    """Signatures of ``n`` near-copies of ``stories`` texts (15% of each signature redrawn)."""
    rng = np.random.default_rng(seed)
    bases = rng.integers(0, 2**32, size=(stories, NUM_PERM), dtype=np.uint32)
    sigs = []
    for i in range(n):
        sig = bases[i % stories].copy()
        redrawn = rng.random(NUM_PERM) < 0.15
        sig[redrawn] = rng.integers(0, 2**32, size=int(redrawn.sum()), dtype=np.uint32)
        sigs.append(sig)
    return sigs


def dated(i: int) -> str:
    return f"20{15 + i % 10}-0{1 + i % 9}-1{i % 10}T00:00:00"


def test_buckets_find_what_a_dict_of_lists_finds_across_folds() -> None:
    rng = np.random.default_rng(3)
    buckets = Buckets()
    buckets.FOLD = 50  # fold every few rows, so lookups span the arrays and the dict
    buckets.RUN = 1000  # and several runs
    reference: dict[int, list[int]] = {}
    pool = rng.integers(0, 2**64, size=400, dtype=np.uint64)  # shared keys: real buckets
    bulk = rng.choice(pool, size=(20, BANDS))
    buckets.extend(bulk, np.arange(20))
    for row, keys in enumerate(bulk.tolist()):
        for k in keys:
            reference.setdefault(k, []).append(row)
    for row in range(20, 300):
        keys = rng.choice(pool, size=BANDS)
        buckets.add(keys, row)
        for k in keys.tolist():
            reference.setdefault(k, []).append(row)
        probe = rng.choice(pool, size=BANDS)
        expected = {r for k in probe.tolist() for r in reference.get(k, ())}
        assert buckets.find(probe) == expected
    assert buckets.pending < 50 < buckets.filed
    assert len(buckets.runs) > 5
    assert all(len(keys) <= buckets.RUN for keys, _ in buckets.runs)
    assert len(buckets) == 300 * BANDS
    assert buckets.find(np.array([1, 2], dtype=np.uint64)) == set()


def test_filing_band_keys_never_copies_every_bucket() -> None:
    buckets = Buckets()
    buckets.FOLD = 4 * BANDS
    buckets.RUN = 64 * BANDS
    rng = np.random.default_rng(5)
    keys = rng.integers(0, 2**64, size=(4000, BANDS), dtype=np.uint64)
    buckets.extend(keys[:1000], np.arange(1000))
    tracemalloc.start()
    try:
        for row in range(1000, 4000):
            buckets.add(keys[row], row)
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - held < held / 10  # no fold held the filed entries twice
    assert buckets.filed > 3900 * BANDS
    assert buckets.find(keys[17]) == {17}
    assert buckets.find(keys[3999]) == {3999}


def test_band_keys_of_many_signatures_are_those_of_each() -> None:
    sigs = np.stack(clustered(5))
    assert band_keys(sigs).tolist() == [band_keys(sig).tolist() for sig in sigs]


def test_a_loaded_state_groups_new_articles_as_one_never_saved(tmp_path: Path) -> None:
    sigs = clustered(900, seed=2)
    whole = StoryState()
    for i, sig in enumerate(sigs):
        whole.add(f"d{i}", sig, dated(i))
    first = StoryState()
    for i, sig in enumerate(sigs[:600]):
        first.add(f"d{i}", sig, dated(i))
    first.save(tmp_path, 1)
    loaded = StoryState.load(tmp_path, 1)
    assert loaded is not None
    for i, sig in enumerate(sigs[600:], start=600):
        loaded.add(f"d{i}", sig, dated(i))
    assert loaded.stories() == whole.stories()
    assert len(set(whole.stories().values())) == 300


def test_memory_per_article_stays_small() -> None:
    # The band buckets were a dict of lists: about 4 kB more per article on such signatures
    # (the writer grew 5 MB per 1,000 articles in bench/scale.py); now about 1.1 kB.
    sigs = clustered(6000)
    state = StoryState()
    held = {}
    tracemalloc.start()
    try:
        for i, sig in enumerate(sigs, start=1):
            state.add(f"doc{i:07d}", sig, dated(i))
            if i in (2000, 6000):
                held[i] = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert (held[6000] - held[2000]) / 4000 < 2000


def test_a_state_folded_into_one_file_is_written_without_copying_it(tmp_path: Path) -> None:
    # Every MAX_DELTAS commits the state is saved whole: made as whole arrays, the copies
    # of every signature and id added about 80 MB to the writer's peak at 100,000 articles.
    sigs = clustered(20_000, seed=3, stories=5000)
    state = StoryState()
    for i, sig in enumerate(sigs):
        state.add(f"doc{i:07d}", sig, dated(i))
    state.remove("doc0000007")
    state.lagging = {"doc0000011", "doc0000012"}
    state.files = [f"stories-{n}.npz" for n in range(MAX_DELTAS)]  # the next save folds
    tracemalloc.start()
    try:
        state.save(tmp_path, 5)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert state.files == ["stories-5.npz"]
    assert peak < 20_000 * NUM_PERM * 4 / 4  # a quarter of the signatures' bytes
    loaded = StoryState.load(tmp_path, 5)
    assert loaded is not None
    assert loaded.stories() == state.stories()
    assert loaded.lagging == state.lagging
    live = [state.rows[d] for d in state.rows]
    assert (loaded.sigs[range(len(live))] == state.sigs[live]).all()
    with np.load(tmp_path / "stories-5.npz") as part:
        assert part["ids"].dtype == np.array(list(state.rows), dtype=str).dtype
        assert part["signed"].dtype == bool and part["signed"].all()


def test_signatures_grow_without_copying_those_held() -> None:
    sigs = Signatures()
    sig = np.arange(NUM_PERM, dtype=np.uint32)
    tracemalloc.start()
    try:
        for row in range(4 * Signatures.BLOCK + 1):
            sigs[row] = sig + row
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - held < held / 10  # no moment held the signatures twice
    rows = [4 * Signatures.BLOCK, 0, Signatures.BLOCK + 3]
    assert sigs[rows].tolist() == [(sig + r).tolist() for r in rows]
