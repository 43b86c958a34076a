"""Stories: groups of near-copies (syndicated, re-titled, re-furnished) found with MinHash LSH.

Every article has a ``story`` field, the id of the earliest-dated member of its group (ties
and undated articles by id). The LSH state (each article's signature, date and story, and the
band buckets built from them) is kept in the index's generation folder, so a new article
joins its story without reading old articles again:

* ``stories-G.json`` lists the files whose rows make the state at Whoosh commit ``G``;
* ``stories-G.npz`` holds the rows added, re-grouped or removed by commit ``G`` (after
  ``MAX_DELTAS`` of them, one file of every row replaces them).

Both are written and fsynced before Whoosh writes commit ``G``'s table of contents, and
files no committed list names are removed after it, so a run killed at any moment leaves
the state of the last commit. When a new member is dated earlier than the story's id, or
joins two stories into one, the other members' ``story`` fields must be rewritten from their
stored fields: members still queued for the commit are changed in place; committed ones are
listed as lagging (saved with the state) and rewritten once each when the run ends, because
a story of k copies arriving in random date order changes about k - ln k times and each
rewrite costs the writer a fetch, a new analysis, a delete and an add. Until then, and
after a run killed before its end (the next run rewrites them), a lagging member's stored
story is an older id of its story. Removing a member never splits its story; when it was
the story's id, the next earliest member becomes it.
"""

from __future__ import annotations

import json
import os
import sys
import zipfile
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib.format import dtype_to_descr, write_array_header_2_0
from whoosh.fields import ID
from whoosh.index import FileIndex
from whoosh.searching import Searcher

from index.shingles import MIN_WORDS, NUM_PERM, SHINGLE_WORDS, signature
from index.store import crash_point, fsync_dir
from index.writer import BatchWriter, CommitOnExit

#: The key under which a prepared document carries its signature to the writer.
SIGNATURE = "_story_signature"
#: Bands x rows = NUM_PERM; a pair sharing a share s of text becomes a candidate with
#: probability 1 - (1 - s**ROWS)**BANDS (0.5: 0.87, 0.6: 0.99, 0.7: 0.9998).
BANDS = 32
ROWS = NUM_PERM // BANDS
#: Candidates estimated to share at least this much text are the same story.
THRESHOLD = 0.5
#: Delta files a state may have before they are folded into one.
MAX_DELTAS = 16
#: What a saved state depends on: a change of any of them rebuilds it from the stored text.
PARAMS = f"shingles={SHINGLE_WORDS},perm={NUM_PERM},bands={BANDS},min={MIN_WORDS},t={THRESHOLD}"
UNDATED = "~"  # sorts after every ISO date
_UNSIGNED: Any = object()
_NO_SIGNATURE = np.zeros(NUM_PERM, dtype=np.uint32)
_BAND_MIX = np.array([0x9E3779B97F4A7C15**i % 2**64 for i in range(1, ROWS + 1)], np.uint64)


def date_key(value: Any) -> str:
    """The sort key of an article's date; undated articles sort last."""
    return value.isoformat() if isinstance(value, datetime) else UNDATED


def band_keys(sigs: np.ndarray) -> np.ndarray:
    """One bucket key per band of each signature (the band number is part of the key)."""
    bands = sigs.astype(np.uint64).reshape(-1, BANDS, ROWS) * _BAND_MIX
    keys = bands.sum(axis=2, dtype=np.uint64) ^ np.arange(BANDS, dtype=np.uint64)
    return keys.reshape(sigs.shape[:-1] + (BANDS,))


class Buckets:
    """The LSH band buckets: bucket key -> rows, as runs of sorted numpy arrays with a small
    dict of recent entries, because a Python dict of lists costs about 5 kB per article.

    Runs hold at most ``RUN`` entries, so filing new entries copies only the last run: one
    sorted array of every entry was copied whole at each fold, 26 MB more at its peak at
    100,000 articles (the writer's highest point).
    """

    #: Recent entries kept in the dict before they are filed into the runs.
    FOLD = 32 * 1024
    #: Entries of a run at most (12 bytes each).
    RUN = 1 << 19

    def __init__(self) -> None:
        self.runs: list[tuple[np.ndarray, np.ndarray]] = []
        self.recent: dict[int, list[int]] = {}
        self.pending = 0

    def __len__(self) -> int:
        return self.filed + self.pending

    @property
    def filed(self) -> int:
        """Entries in the sorted runs."""
        return sum(len(keys) for keys, _ in self.runs)

    def find(self, keys: np.ndarray) -> set[int]:
        """Every row filed under any of ``keys``."""
        found: set[int] = set()
        for run_keys, run_rows in self.runs:
            lo = np.searchsorted(run_keys, keys, side="left")
            hi = np.searchsorted(run_keys, keys, side="right")
            for i in np.flatnonzero(hi > lo):
                found.update(run_rows[lo[i] : hi[i]].tolist())
        for k in keys.tolist():
            found.update(self.recent.get(k, ()))
        return found

    def add(self, keys: np.ndarray, row: int) -> None:
        """File ``row`` under each of ``keys``."""
        for k in keys.tolist():
            self.recent.setdefault(k, []).append(row)
        self.pending += len(keys)
        if self.pending >= self.FOLD:
            self.fold()

    def extend(self, keys: np.ndarray, rows: np.ndarray) -> None:
        """File many rows at once: ``keys`` has one line of band keys per row."""
        width = keys.shape[-1]
        step = max(1, self.RUN // width)
        for start in range(0, len(rows), step):
            part = rows[start : start + step].astype(np.int32)
            self._file(keys[start : start + step].reshape(-1), np.repeat(part, width))

    def fold(self) -> None:
        """Move the recent entries into the sorted arrays."""
        if not self.recent:
            return
        keys = np.fromiter(
            (k for k, rows in self.recent.items() for _ in rows), np.uint64, self.pending
        )
        rows = np.fromiter((r for v in self.recent.values() for r in v), np.int32, self.pending)
        self.recent = {}
        self.pending = 0
        self._file(keys, rows)

    def _file(self, keys: np.ndarray, rows: np.ndarray) -> None:
        order = np.argsort(keys, kind="stable")
        keys, rows = keys[order], rows[order]
        if self.runs and len(self.runs[-1][0]) + len(keys) <= self.RUN:
            last_keys, last_rows = self.runs.pop()
            at = np.searchsorted(last_keys, keys, side="right")
            keys, rows = np.insert(last_keys, at, keys), np.insert(last_rows, at, rows)
        self.runs.append((keys, rows))


class Signatures:
    """Each row's signature, in blocks of ``BLOCK`` rows: growing never copies those held
    (a single array grown by a quarter held both copies, 90 MB at 100,000 articles)."""

    BLOCK = 8192

    def __init__(self) -> None:
        self.blocks: list[np.ndarray] = []

    def __setitem__(self, row: int, sig: np.ndarray) -> None:
        block, at = divmod(row, self.BLOCK)
        while block >= len(self.blocks):
            self.blocks.append(np.zeros((self.BLOCK, NUM_PERM), dtype=np.uint32))
        self.blocks[block][at] = sig

    def __getitem__(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """The signatures of ``rows``, one per row, in their order."""
        rows = np.asarray(rows, dtype=np.int64)
        out = np.empty((rows.size, NUM_PERM), dtype=np.uint32)
        blocks, at = np.divmod(rows, self.BLOCK)
        for block in np.unique(blocks).tolist():
            mask = blocks == block
            out[mask] = self.blocks[block][at[mask]]
        return out


class StoryState:
    """Every article's signature, date and story, with the band buckets that find candidates."""

    def __init__(self) -> None:
        self.rows: dict[str, int] = {}
        self.ids: list[str] = []
        self.dates: list[str] = []
        self.story: list[str] = []
        self.signed: list[bool] = []
        self.sigs = Signatures()
        self.buckets = Buckets()
        self.members: dict[str, set[int]] = {}
        self.files: list[str] = []
        self.changed: set[str] = set()
        self.removed: set[str] = set()
        #: Committed articles whose stored story field is not yet their story.
        self.lagging: set[str] = set()

    def __len__(self) -> int:
        return len(self.rows)

    def stories(self) -> dict[str, str]:
        """Every article's story id."""
        return {doc_id: self.story[row] for doc_id, row in self.rows.items()}

    def add(self, doc_id: str, sig: np.ndarray | None, date: str) -> dict[str, str]:
        """Place an article (replacing one with its id); return every story id that changed."""
        changes = self.remove(doc_id) if doc_id in self.rows else {}
        row = self._append(doc_id, sig, date, doc_id)
        self.changed.add(doc_id)
        group = {row}
        if sig is not None:
            keys = band_keys(sig)
            candidates = {r for r in self.buckets.find(keys) if self._alive(r)}
            if candidates:
                found = sorted(candidates)
                shares = np.mean(self.sigs[found] == sig, axis=1)
                for r, share in zip(found, shares, strict=True):
                    if share >= THRESHOLD:
                        group |= self.members.get(self.story[r], set())
            self.buckets.add(keys, row)
        changes.update(self._regroup(group))
        return changes

    def remove(self, doc_id: str) -> dict[str, str]:
        """Forget an article; return the story ids of the members left that changed."""
        row = self.rows.pop(doc_id, None)
        if row is None:
            return {}
        self.removed.add(doc_id)
        self.changed.discard(doc_id)
        self.lagging.discard(doc_id)
        rest = self.members.pop(self.story[row], set()) - {row}
        self.story[row] = ""
        return self._regroup(rest) if rest else {}

    def _append(self, doc_id: str, sig: np.ndarray | None, date: str, story: str) -> int:
        row = len(self.ids)
        self.sigs[row] = _NO_SIGNATURE if sig is None else sig
        self.ids.append(doc_id)
        self.dates.append(date)
        self.story.append(story)
        self.signed.append(sig is not None)
        self.rows[doc_id] = row
        self.removed.discard(doc_id)
        return row

    def _alive(self, row: int) -> bool:
        return self.rows.get(self.ids[row]) == row

    def _regroup(self, group: set[int]) -> dict[str, str]:
        story = self.ids[min(group, key=lambda r: (self.dates[r], self.ids[r]))]
        changes = {}
        for row in group:
            old = self.story[row]
            if old == story:
                continue
            left = self.members.get(old)
            if left is not None:
                left.discard(row)
                if not left:
                    del self.members[old]
            self.story[row] = story
            changes[self.ids[row]] = story
            self.changed.add(self.ids[row])
        self.members[story] = set(group)
        return changes

    # Saving and loading, a commit at a time.

    def save(self, folder: Path, generation: int) -> None:
        """Write the rows changed since the last save, and the list for commit ``generation``."""
        folder = Path(folder)
        fold = len(self.files) >= MAX_DELTAS
        ids = list(self.rows) if fold else sorted(d for d in self.changed if d in self.rows)
        rows = [self.rows[d] for d in ids]
        data = folder / f"stories-{generation}.npz"
        columns = {
            "ids": _rows_of(ids, str),
            "dates": _rows_of([self.dates[r] for r in rows], str),
            "story": _rows_of([self.story[r] for r in rows], str),
            "signed": _rows_of([self.signed[r] for r in rows], bool),
            "sigs": (np.dtype(np.uint32), (len(rows), NUM_PERM), lambda a, b: self.sigs[rows[a:b]]),
            "removed": _rows_of([] if fold else sorted(self.removed), str),
            "lagging": _rows_of(sorted(self.lagging), str),
        }
        _write_atomic(data, lambda out: _savez_by_rows(out, columns))
        files = [data.name] if fold else [*self.files, data.name]
        listing = json.dumps({"params": PARAMS, "files": files}).encode()
        _write_atomic(folder / f"stories-{generation}.json", lambda out: out.write(listing))
        fsync_dir(folder)
        self.files = files
        self.changed.clear()
        self.removed.clear()
        crash_point("stories-saved")

    @classmethod
    def load(cls, folder: Path, generation: int) -> StoryState | None:
        """The state saved for commit ``generation``, or None when there is none usable."""
        folder = Path(folder)
        try:
            listing = json.loads((folder / f"stories-{generation}.json").read_text("utf-8"))
            if listing.get("params") != PARAMS:
                return None
            state = cls()
            for name in listing["files"]:
                with np.load(folder / name, allow_pickle=False) as part:
                    state._apply(part)
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a damaged or missing state is rebuilt from the stored text
        state.files = list(listing["files"])
        state._index()
        return state

    def _apply(self, part: Any) -> None:
        for doc_id in part["removed"]:
            self.rows.pop(str(doc_id), None)
        # Each item read from the file decompresses its whole array: read each once.
        sigs, dates, story, signed = (part[k] for k in ("sigs", "dates", "story", "signed"))
        # Each file lists every article lagging at its commit (files before had none).
        self.lagging = {str(d) for d in part["lagging"]} if "lagging" in part else set()
        for i, doc_id in enumerate(part["ids"].tolist()):
            # A later row for an id replaces the earlier one (new text, or a new story).
            self._append(doc_id, sigs[i], str(dates[i]), str(story[i]))
            self.signed[-1] = bool(signed[i])

    def _index(self) -> None:
        for row in self.rows.values():
            self.members.setdefault(self.story[row], set()).add(row)
        signed = np.fromiter((r for r in self.rows.values() if self.signed[r]), np.int64)
        for start in range(0, len(signed), 8192):  # bounds the uint64 copy of the signatures
            rows = signed[start : start + 8192]
            self.buckets.extend(band_keys(self.sigs[rows]), rows)
        self.changed.clear()
        self.removed.clear()

    def tidy(self, folder: Path, generation: int) -> None:
        """Remove state files that commit ``generation`` does not use."""
        keep = {*self.files, f"stories-{generation}.json"}
        for entry in Path(folder).glob("stories-*"):
            if entry.name not in keep:
                entry.unlink(missing_ok=True)


#: A column to save: its dtype, its shape, and its rows from a to b.
Column = tuple[np.dtype, tuple[int, ...], Callable[[int, int], np.ndarray]]
_SAVE_ROWS = 1024


def _rows_of(values: list[Any], kind: type) -> Column:
    """A column of strings or booleans, as ``np.array(values, dtype=kind)`` would hold it."""
    if kind is str:
        dtype = np.dtype(f"<U{max((len(v) for v in values), default=1) or 1}")
    else:
        dtype = np.dtype(kind)
    return dtype, (len(values),), lambda a, b: np.array(values[a:b], dtype=dtype)


def _savez_by_rows(out: Any, columns: dict[str, Column]) -> None:
    """Write ``np.savez``'s format (a zip of .npy files) a few thousand rows at a time.

    A state folded into one file holds every article: made whole, its arrays are copies of
    every signature and id (about 80 MB at 100,000 articles) beside the state itself.
    """
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, (dtype, shape, rows) in columns.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                header = {"descr": dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
                write_array_header_2_0(member, header)
                for start in range(0, shape[0], _SAVE_ROWS):
                    member.write(rows(start, start + _SAVE_ROWS).tobytes())


def _write_atomic(path: Path, write: Any) -> None:
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as out:
        write(out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, path)


def story_field() -> ID:
    """The schema type of the ``story`` field (an index made before stories gains it)."""
    return ID(stored=True, sortable=True)


class StoryWriter(CommitOnExit):
    """Gives each article its story before it is written, and commits the LSH state with
    the Whoosh commit it belongs to; used like ``BatchWriter``.

    Documents wait in memory until the batch is full because a later article of the batch
    may change an earlier one's story, and Whoosh cannot update a document it has not
    committed yet.
    """

    def __init__(self, ix: FileIndex, folder: Path, batch_size: int = 1000) -> None:
        self.ix = ix
        self.folder = Path(folder)
        self.batch_size = batch_size
        self.writer = BatchWriter(ix, batch_size=sys.maxsize, before_commit=self._save)
        self.batch: dict[str, tuple[dict[str, Any], bool]] = {}
        self._searcher: Searcher | None = None
        if "story" not in ix.schema:
            writer = ix.writer(timeout=30.0)
            writer.add_field("story", story_field())
            writer.commit()
        self.generation = ix.latest_generation()
        state = StoryState.load(self.folder, self.generation)
        self.state = state if state is not None else self._rebuild()
        self.state.tidy(self.folder, self.generation)

    def _rebuild(self) -> StoryState:
        # No usable state (an index from before stories, or other settings): fingerprint the
        # stored text once, and give every article whose story differs its new one.
        self.state = state = StoryState()
        stored: dict[str, str] = {}
        with self.ix.searcher() as searcher:
            for fields in searcher.all_stored_fields():
                sig = signature(fields.get("text") or "")
                state.add(fields["id"], sig, date_key(fields.get("date")))
                stored[fields["id"]] = fields.get("story", "")
        self._restory({d: s for d, s in state.stories().items() if stored[d] != s})
        self.finish()
        if not self.writer.commits:  # nothing to rewrite: save the state on its own
            state.save(self.folder, self.generation)
        return state

    def add(self, fields: dict[str, Any], replace: bool) -> None:
        """Place a prepared document in its story and queue it for the next commit."""
        sig = fields.pop(SIGNATURE, _UNSIGNED)
        if sig is _UNSIGNED:
            sig = signature(fields.get("text") or "")
        changes = self.state.add(fields["id"], sig, date_key(fields.get("date")))
        fields["story"] = changes.pop(fields["id"], fields["id"])
        self.state.lagging.discard(fields["id"])
        self.batch[fields["id"]] = (fields, replace)
        self._restory(changes)
        if len(self.batch) >= self.batch_size:
            self.commit()

    def delete(self, ids: Iterable[str]) -> int:
        """Delete documents by id, moving their stories on; return how many existed."""
        deleted = 0
        for doc_id in ids:
            self.batch.pop(doc_id, None)
            self._restory(self.state.remove(doc_id))
            deleted += self.writer.delete([doc_id])
        return deleted

    def _restory(self, changes: dict[str, str]) -> None:
        for doc_id, story in changes.items():
            if doc_id in self.batch:
                self.batch[doc_id][0]["story"] = story
            else:
                self.state.lagging.add(doc_id)

    def finish(self) -> None:
        """Commit what is queued, then rewrite the lagging members, a batch per commit.

        Only the last of those commits merges segments: each rewrite deletes documents
        from the large segments and adds a small one, and merging as they come merged the
        same large segments again and again (at 100,000 articles, minutes per merge); the
        small segments left by a run killed before its end are merged by the next commit.
        """
        self.commit()
        lagging = sorted(self.state.lagging)  # commits add none: sorted once, not per batch
        for start in range(0, len(lagging), self.batch_size):
            self._searcher = self.ix.searcher()
            for doc_id in lagging[start : start + self.batch_size]:
                self.state.lagging.discard(doc_id)
                stored = self._searcher.document(id=doc_id)
                if stored is not None:
                    stored["story"] = self.state.story[self.state.rows[doc_id]]
                    self.batch[doc_id] = (stored, True)
            self.commit(merge=start + self.batch_size >= len(lagging))

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            # No article is placed after this: the band buckets (about 0.4 kB an article)
            # need not be held through the rewrites.
            self.state.buckets = Buckets()
            self.finish()
        super().__exit__(exc_type, *rest)

    def commit(self, merge: bool = True) -> None:
        """Write the queued documents and commit them with the state they belong to
        (without merging segments when ``merge`` is False)."""
        for fields, replace in self.batch.values():
            self.writer.add(fields, replace=replace)
        self.batch = {}
        commits = self.writer.commits
        self.writer.commit(merge=merge)
        if self.writer.commits > commits:
            self.state.tidy(self.folder, self.generation)
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None

    def _save(self, generation: int) -> None:
        self.state.save(self.folder, generation)
        self.generation = generation

    def cancel(self) -> None:
        """Drop what is queued; the index and its state stay at their last commit."""
        self.batch = {}
        self.writer.cancel()
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None
