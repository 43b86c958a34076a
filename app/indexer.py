"""Bulk indexing: read, clean and summarise articles in parallel, write them with one writer."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.workers import make_pool, start_pool_server
from archive.clean import clean_line, clean_text
from archive.edits import edit_hash
from archive.errors import NothingToIndex
from archive.model import Article, Problem
from archive.readers import (
    MAX_ARTICLE_BYTES,
    ReadOptions,
    check_paths,
    count_records,
    find_files,
    indexed_paths,
    read_paths,
)
from archive.segment import (
    Segmenter,
    collection_sample,
    default_segmenter,
    is_unpunctuated,
    train_segmenter,
)
from archive.summarize import DEFAULT_SENTENCES, DEFAULT_SUMMARIZER, summarize
from index.document import Document, Summary
from index.errors import IndexUnwritable
from index.shingles import signature
from index.store import (
    RunLock,
    discard_generation,
    index_exists,
    live_dir,
    new_generation,
    open_index,
    open_or_create_index,
    publish,
    remove_stale_generations,
)
from index.stories import SIGNATURE, StoryWriter
from index.versions import carry
from index.writer import Known, ids_under, known_documents, with_postings

SEGMENTER_FILE = "segmenter.model"
#: Articles drawn from the whole input to learn a collection's sentence boundaries when its
#: index is new (restoration F1 on BBC: 0.88 from 300, 0.90 from 1,000).
TRAINING_ARTICLES = 1000
MIN_TRAINING_ARTICLES = 50
#: Records read at most to draw them (with many files, only every n-th file is read).
TRAINING_SCAN = 20_000
#: Characters of each article used for training, so one huge article cannot dominate or stall it.
TRAINING_CHARS = 20_000
#: Bumped when the clean-up or summary code changes what it makes from the same input.
PIPELINE_VERSION = "6"


@dataclass(frozen=True)
class Settings:
    """How a run reads and summarises its input."""

    fmt: str = "auto"
    summarizer: str = DEFAULT_SUMMARIZER
    sentences: int = DEFAULT_SENTENCES
    workers: int = 0
    rebuild: bool = False
    batch_size: int = 1000
    lock_wait: float = 0.0
    scheduler: str | None = None
    max_article_bytes: int = MAX_ARTICLE_BYTES
    follow_links: bool = False
    encoding: str | None = None
    dayfirst: bool = False
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @property
    def summary_key(self) -> str:
        """What a stored summary depends on besides the text."""
        return f"{PIPELINE_VERSION}:{self.summarizer}:{self.sentences}"

    def read_options(self, known: dict[str, Known] | None = None) -> ReadOptions:
        """How to read the input, keeping the ids that ``known`` articles have."""
        kept = indexed_paths((k.origin, doc_id) for doc_id, k in (known or {}).items())
        return ReadOptions(
            encoding=self.encoding,
            dayfirst=self.dayfirst,
            include=self.include,
            exclude=self.exclude,
            known_ids=kept.known_ids,
            roots=kept.roots,
            max_bytes=self.max_article_bytes,
            follow_links=self.follow_links,
        )

    @property
    def worker_count(self) -> int:
        """Processes to use: the number of cores unless set."""
        return self.workers if self.workers > 0 else (os.cpu_count() or 1)


@dataclass
class Report:
    """What a run did, for the closing line and the exit status."""

    indexed: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    skipped: int = 0
    read: int = 0
    problems: list[Problem] = field(default_factory=list)
    stale_lock_pid: int | None = None
    trained_segmenter: bool = False

    def line(self) -> str:
        """The one-line summary printed at the end of a run."""
        return (
            f"indexed {self.indexed}, updated {self.updated}, unchanged {self.unchanged}, "
            f"deleted {self.deleted}, skipped {self.skipped}"
        )


@dataclass(frozen=True)
class Task:
    """One article to prepare in a worker; ``reuse`` carries a stored summary still valid."""

    article: Article
    summary_hash: str
    content_hash: str
    replace: bool
    reuse: Summary | None


# Set in each worker process by ``init_worker`` so the segmenter is unpickled once.
_WORKER: dict[str, Any] = {}


def init_worker(segmenter: Segmenter, settings: Settings) -> None:
    """Give a worker process the segmenter and settings of the run."""
    _WORKER["segmenter"] = segmenter
    _WORKER["settings"] = settings


def prepare(task: Task) -> tuple[Task, dict[str, Any] | Problem]:
    """Clean and summarise one article into the fields the index stores (runs in a worker)."""
    article = task.article
    text = clean_text(article.text)
    title = clean_line(article.title)
    if not text and not title:
        return task, Problem(article.origin, article.line, "article has no text after clean-up")
    title = title or _first_sentence(text, _WORKER["segmenter"])
    settings: Settings = _WORKER["settings"]
    if not text:  # found by its title; there is nothing to summarise
        summary = Summary(segmented="empty", summary_note="no text")
    elif task.reuse is not None:
        summary = task.reuse
    else:
        summary = _summarize(text, title, settings)
    doc = Document(
        id=article.id,
        title=title,
        text=text,
        content_hash=task.content_hash,
        summary_hash=task.summary_hash,
        origin=article.origin,
        summary=summary,
        author=clean_line(article.author),
        source=clean_line(article.source),
        category=clean_line(article.category),
        url=article.url.strip(),
        date=article.date,
        version_hash=edit_hash(title, text),
    )
    return task, with_postings({**doc.stored_fields(), SIGNATURE: signature(text)})


def _summarize(text: str, title: str, settings: Settings) -> Summary:
    try:
        summary = summarize(
            text,
            summarizer=settings.summarizer,
            sentences=settings.sentences,
            segmenter=_WORKER["segmenter"],
            title=title,
        )
    except Exception as exc:  # one article's failure must not stop a run of millions
        return Summary(segmented="failed", summary_note=f"summary failed: {exc}")
    return Summary(
        summary=summary.summary,
        summary_sentences=list(summary.sentences),
        segmented=summary.segmented,
        summary_note=summary.note or "",
    )


def _first_sentence(text: str, segmenter: Segmenter, limit: int = 100) -> str:
    """A title for an untitled article: its first sentence, cut at a word boundary."""
    if len(text) <= limit:  # nothing to cut: spare the segmenter (100,000 one-word records)
        return text
    # The opening is enough for a title cut at ``limit``, and restoring it costs little.
    sentences = segmenter.segment(text[: limit * 3]).sentences
    first = sentences[0] if sentences else text
    if len(first) <= limit:
        return first
    return first[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"


def load_segmenter(
    index_dir: Path, paths: list[Path], fmt: str, retrain: bool, options: ReadOptions | None = None
) -> tuple[Segmenter, bool]:
    """The collection's segmenter, learned from punctuated articles drawn from all the input."""
    saved = None if retrain else _saved_segmenter(index_dir)
    if saved is not None:
        return saved, False
    drawn = collection_sample(paths, fmt, options, TRAINING_ARTICLES, TRAINING_CHARS, TRAINING_SCAN)
    sample = [text for text in drawn if not is_unpunctuated(text)]
    # A collection whose sample is punctuated throughout learns its restorer only if some
    # article turns out to need it; one with stripped articles learns it now, once.
    punctuated = len(sample) == len(drawn)
    if len(sample) < MIN_TRAINING_ARTICLES:
        return _shipped(punctuated), False
    try:
        segmenter = train_segmenter(sample, defer_restorer=punctuated)
    except Exception:  # odd text must not stop indexing; the shipped model still works
        return _shipped(punctuated), False
    model = Path(index_dir) / SEGMENTER_FILE
    model.parent.mkdir(parents=True, exist_ok=True)
    partial = model.with_suffix(".partial")
    segmenter.save(partial)
    os.replace(partial, model)  # a run killed while saving leaves no half-written model
    return segmenter, True


def _shipped(punctuated: bool) -> Segmenter:
    segmenter = default_segmenter()
    return segmenter if punctuated else segmenter.ready_to_restore()


def collection_segmenter(index_dir: Path) -> Segmenter:
    """The segmenter learned for the collection at ``index_dir``, else the shipped default."""
    return _saved_segmenter(index_dir) or default_segmenter()


def _saved_segmenter(index_dir: Path) -> Segmenter | None:
    model = live_dir(index_dir) / SEGMENTER_FILE
    if not model.exists():
        return None
    try:
        return Segmenter.load(model)
    except Exception:  # a damaged model file is relearned, not fatal
        return None


def delete_ids(index_dir: Path, ids: list[str]) -> tuple[int, list[str]]:
    """Delete articles by id; return how many were deleted and the ids not found."""
    open_index(index_dir)  # no index: say so before creating a lock file
    with RunLock(index_dir):
        ix = open_index(index_dir)  # again once locked: a rebuild may have swapped generations
        known = known_documents(ix)
        missing = [doc_id for doc_id in ids if doc_id not in known]
        with StoryWriter(ix, live_dir(index_dir)) as writer:
            deleted = writer.delete(doc_id for doc_id in ids if doc_id in known)
    return deleted, missing


def count_input(paths: Iterable[Path], fmt: str, options: ReadOptions | None = None) -> int:
    """How many records the input holds, for the progress bar."""
    found_files = find_files(paths, fmt, options)
    return sum(count_records(path, found) for path, _root, found in found_files)


ProgressFn = Callable[[int], None]
ProblemFn = Callable[[Problem], None]


def index_paths(
    paths: list[Path],
    index_dir: Path,
    settings: Settings,
    *,
    on_problem: ProblemFn | None = None,
    on_progress: ProgressFn | None = None,
) -> Report:
    """Index every article under ``paths`` into ``index_dir`` and report what changed."""
    check_paths(paths)  # fail on a missing path before locking or walking any folder
    run = IndexRun(paths, settings, on_problem, on_progress)
    report = run.report
    index_dir = Path(index_dir)
    with RunLock(index_dir, timeout=settings.lock_wait) as lock:
        report.stale_lock_pid = lock.stale_pid
        remove_stale_generations(index_dir)  # left by a rebuild killed before tidying up
        # A rebuild writes a new generation and publishes it only when complete, so searches
        # keep answering from the old one and a kill or a failure loses nothing.
        fresh = settings.rebuild or not index_exists(index_dir)
        staged = fresh and index_exists(index_dir)
        target = new_generation(index_dir) if fresh else live_dir(index_dir)
        try:
            if fresh and not staged:
                publish(index_dir, target)  # nothing to keep: show each commit as it lands
            run.into(target, previous=live_dir(index_dir) if staged else None)
            if staged:
                publish(index_dir, target)
        except BaseException as exc:
            unpublished = staged and live_dir(index_dir) != target
            if unpublished:
                discard_generation(target)
            removed = "the partial rebuild was removed and " if unpublished else ""
            if isinstance(exc, OSError):
                reason = "the disk is full" if exc.errno == errno.ENOSPC else exc.strerror or exc
                raise IndexUnwritable(
                    f"could not write the index at {index_dir}: {reason}; "
                    f"{removed}the index is unchanged since its last commit"
                ) from exc
            if unpublished and isinstance(exc, IndexUnwritable):
                raise IndexUnwritable(f"{exc}; {removed}the index is unchanged") from exc
            raise
    if report.read == 0:
        raise NothingToIndex(
            "no article could be read from "
            + ", ".join(str(p) for p in paths)
            + (f" ({report.skipped} skipped)" if report.skipped else "")
        )
    return report


class IndexRun:
    """One pass over the input: owns the ids it has seen, the origins that failed and the
    report, which the reading side fills while the pool's results are written."""

    def __init__(
        self,
        paths: list[Path],
        settings: Settings,
        on_problem: ProblemFn | None = None,
        on_progress: ProgressFn | None = None,
    ) -> None:
        self.paths = paths
        self.settings = settings
        self.report = Report()
        self.seen: dict[str, str] = {}
        self.failed_origins: set[str] = set()
        self._on_problem = on_problem or (lambda p: None)
        self.progress = on_progress or (lambda n: None)

    def note(self, problem: Problem) -> None:
        """Record a problem, counting it as skipped when its record was."""
        self.report.problems.append(problem)
        if problem.skipped:
            self.report.skipped += 1
        self._on_problem(problem)

    def into(self, index_dir: Path, previous: Path | None = None) -> None:
        """Index into ``index_dir``, which the caller has locked; a rebuild passes the
        ``previous`` index, whose articles' versions it keeps."""
        settings, report = self.settings, self.report
        start_pool_server(settings, init_worker)  # its imports overlap learning the model
        segmenter, report.trained_segmenter = load_segmenter(
            index_dir,
            self.paths,
            settings.fmt,
            retrain=not index_exists(index_dir),
            options=settings.read_options(),
        )
        ix = open_or_create_index(index_dir)
        known = known_documents(ix)
        # The stored documents the run started from: a re-read article's versions go on.
        before = open_index(previous) if previous else ix
        kept = known_documents(before) if previous else known
        with (
            StoryWriter(ix, index_dir, batch_size=settings.batch_size) as writer,
            before.searcher() as stored,
        ):
            with make_pool(settings, init_worker, (segmenter, settings)) as pool:
                for task, result in pool(prepare, self.tasks(ix, known)):
                    self.progress(1)
                    if isinstance(result, Problem):
                        self.failed_origins.add(task.article.origin)
                        self.note(result)
                        continue
                    if task.article.id in kept:
                        result = carry(result, stored.document(id=task.article.id), edit_hash)
                    writer.add(result, replace=task.replace)
                    if task.replace:
                        report.updated += 1
                    else:
                        report.indexed += 1
            report.deleted = writer.delete(self.gone(known))
            # The story rewrites and the merge that end the run (the writer's peak) need
            # none of these: at 100,000 articles the ids seen are some 25 MB.
            self.seen.clear()
            known.clear()
            kept.clear()

    def gone(self, known: dict[str, Known]) -> list[str]:
        """Ids indexed from under this run's paths that it did not see, bar failed files."""
        roots = (str(Path(p).resolve()) for p in self.paths)
        return [
            doc_id
            for doc_id in ids_under(known, roots)
            if doc_id not in self.seen and known[doc_id].origin not in self.failed_origins
        ]

    def tasks(self, ix: Any, known: dict[str, Known]) -> Iterator[Task]:
        """Read the input and yield the articles that need work; count the rest."""
        settings, report = self.settings, self.report
        with ix.searcher() as stored:
            for item in read_paths(self.paths, settings.fmt, settings.read_options(known)):
                if isinstance(item, Problem):
                    if item.skipped:
                        self.failed_origins.add(str(Path(item.path).resolve()))
                        self.progress(1)
                    self.note(item)
                    continue
                report.read += 1
                if item.id in self.seen:
                    self.failed_origins.add(item.origin)
                    reason = f"duplicate id {item.id!r} (first at {self.seen[item.id]})"
                    self.note(Problem(item.origin, item.line, reason))
                    self.progress(1)
                    continue
                self.seen[item.id] = item.where
                content_hash = item.content_hash()
                summary_hash = item.text_hash(settings.summary_key)
                old = known.get(item.id)
                if (
                    old is not None
                    and old.content_hash == content_hash
                    and old.summary_hash == summary_hash
                ):
                    report.unchanged += 1
                    self.progress(1)
                    continue
                reuse = None
                if old is not None and old.summary_hash == summary_hash:
                    reuse = Summary.from_stored(stored.document(id=item.id) or {})
                yield Task(item, summary_hash, content_hash, replace=old is not None, reuse=reuse)
