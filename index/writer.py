"""Adding, updating and deleting documents, committed in batches by one writer."""

from __future__ import annotations

import errno
import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Self

from whoosh.index import FileIndex
from whoosh.query import Term
from whoosh.writing import IndexWriter, SegmentWriter

from index.codec import ArchiveCodec
from index.errors import IndexUnwritable
from index.merging import log_merge
from index.schema import POSTED_FIELDS, ArchiveText, Postings, make_schema
from index.store import crash_point


@dataclass(frozen=True)
class Known:
    """What the index remembers of a document, enough to decide whether to redo it."""

    content_hash: str
    summary_hash: str
    origin: str


def known_documents(ix: FileIndex) -> dict[str, Known]:
    """Map every live document id to its hashes, read from columns (no stored fields)."""
    with ix.reader() as reader:
        if reader.doc_count() == 0:
            return {}
        names = ("id", "content_hash", "summary_hash", "origin")
        ids, content, summary, origin = (reader.column_reader(name) for name in names)
        return {ids[n]: Known(content[n], summary[n], origin[n]) for n in reader.all_doc_ids()}


@functools.cache
def _schema() -> Any:
    return make_schema()


def with_postings(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` with the postings of its text fields computed here (in a worker), so the
    writer does not analyse them; ``BatchWriter.add`` takes either form."""
    schema = _schema()
    out = dict(fields)
    for name in POSTED_FIELDS:
        value = fields.get(name)
        if isinstance(value, str):
            out[name] = Postings(list(schema[name].index(value)))
            out[f"_stored_{name}"] = value
    return out


def _without_postings(fields: dict[str, Any]) -> dict[str, Any]:
    """The plain field values, for an index whose schema predates ready-made postings."""
    out = {k: v for k, v in fields.items() if not k.startswith("_stored_")}
    for name, value in fields.items():
        if isinstance(value, Postings):
            out[name] = fields[f"_stored_{name}"]
    return out


class _FlushLengths:
    """The field lengths of the segment being written, for Whoosh's per-posting statistics,
    read once per document and field.

    Whoosh asks the new segment's per-document reader for every posting: a seek and a read
    of the length column, and a ``stat`` of a column file that does not exist for every
    term of a field without lengths; at a commit that was over a quarter of the writer's
    time.
    """

    def __init__(self, reader: Any, schema: Any) -> None:
        self._reader = reader
        self._scored = {name for name, field in schema.items() if field.scorable}
        self._known: dict[tuple[int, str], Any] = {}

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> Any:
        """What the segment's reader answers, from memory after the first time."""
        if fieldname not in self._scored:  # unscored fields have no length column
            return default
        key = (docnum, fieldname)
        try:
            return self._known[key]
        except KeyError:
            length = self._known[key] = self._reader.doc_field_length(docnum, fieldname, default)
            return length

    def close(self) -> None:
        """Close the underlying reader."""
        self._reader.close()


class _SegmentWriter(SegmentWriter):
    def per_document_reader(self) -> Any:
        # Only flushing a segment asks for the reader of the segment being written.
        return _FlushLengths(super().per_document_reader(), self.schema)

    def _merge_segments(self, mergetype: Any, optimize: Any, merge: Any) -> Any:
        # Whoosh's default policy re-sorts every merged posting in a pool of Python tuples;
        # ours streams the segments' sorted term lists (index.merging). A policy, optimize
        # or no merge asked of the commit still goes to Whoosh.
        if mergetype is None and not optimize and merge is not False:
            mergetype = log_merge
        return super()._merge_segments(mergetype, optimize, merge)


class CommitOnExit:
    """A writer used in a ``with`` block: commits when the block ends, cancels on an error."""

    def commit(self) -> None:
        """Make what is pending durable."""
        raise NotImplementedError

    def cancel(self) -> None:
        """Drop what is pending."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.cancel()


class BatchWriter(CommitOnExit):
    """One writer for a whole run that commits every ``batch_size`` changes.

    Each commit is atomic in Whoosh (a new table of contents is renamed into place), so a
    run killed between commits leaves the index readable at its last commit.
    """

    def __init__(
        self,
        ix: FileIndex,
        batch_size: int = 1000,
        limitmb: int = 128,
        before_commit: Callable[[int], None] | None = None,
    ) -> None:
        self.ix = ix
        # Called with the generation of each commit just before Whoosh writes it (stories
        # save their state for it there).
        self.before_commit = before_commit
        self.batch_size = batch_size
        self.limitmb = limitmb
        self.pending = 0
        self.commits = 0
        self._writer: IndexWriter | None = None
        # Postings are only as good as the analyzer that made them: an index made before
        # they came ready-made (or by another schema) analyses the text itself.
        self._takes_postings = all(
            isinstance(ix.schema[name], ArchiveText)
            and ix.schema[name].format == _schema()[name].format
            and ix.schema[name].analyzer == _schema()[name].analyzer
            for name in POSTED_FIELDS
        )

    def _current(self) -> IndexWriter:
        if self._writer is None:
            self._writer = _SegmentWriter(
                self.ix, limitmb=self.limitmb, timeout=30.0, codec=ArchiveCodec()
            )
        return self._writer

    def add(self, doc: dict[str, Any], replace: bool) -> None:
        """Add a document; ``replace`` removes any older version with the same id first."""
        writer = self._current()
        if not self._takes_postings:
            doc = _without_postings(doc)
        if replace:
            writer.update_document(**doc)
        else:
            writer.add_document(**doc)
        self._count()

    def delete(self, ids: Iterable[str]) -> int:
        """Delete documents by id and return how many existed."""
        deleted = 0
        for doc_id in ids:
            deleted += self._current().delete_by_query(Term("id", doc_id))
            self._count()
        return deleted

    def _count(self) -> None:
        self.pending += 1
        if self.pending >= self.batch_size:
            self.commit()

    def commit(self, merge: bool = True) -> None:
        """Commit what is pending (without merging segments when ``merge`` is False);
        nothing to do when nothing is."""
        if self._writer is None:
            return
        writer, self._writer = self._writer, None
        try:
            if self.before_commit is not None:
                self.before_commit(writer.generation)
            writer.commit(merge=merge)
        except OSError as exc:
            writer.cancel()
            reason = "the disk is full" if exc.errno == errno.ENOSPC else exc.strerror
            raise IndexUnwritable(f"could not commit to the index: {reason}") from exc
        self.pending = 0
        self.commits += 1
        crash_point(f"commit-{self.commits}")

    def cancel(self) -> None:
        """Drop what is pending; the index stays at its last commit."""
        if self._writer is not None:
            self._writer.cancel()
            self._writer = None
            self.pending = 0


def ids_under(known: dict[str, Known], origins: Iterable[str]) -> Iterator[str]:
    """Ids of documents whose origin is one of ``origins`` or lies below one of them."""
    prefixes = tuple(o.rstrip("/") for o in origins)
    for doc_id, info in known.items():
        if any(info.origin == p or info.origin.startswith(p + "/") for p in prefixes):
            yield doc_id
