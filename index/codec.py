"""Whoosh's file format, written with less work: a term in one document has its posting
inlined in its entry in the term table, with no block of its own in the postings file, and
the term table's hash entries are kept in arrays while a segment is written."""

from __future__ import annotations

from array import array
from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import W3Codec, W3FieldWriter, W3PostingsWriter, W3TermInfo
from whoosh.filedb import filetables

#: Posting lists shorter than this are inlined (Whoosh's default, 1, inlines none).
INLINE_LIMIT = 2


class _PostingsWriter(W3PostingsWriter):
    def finish_postings(self) -> W3TermInfo:
        # Most terms of a segment occur in one document, and each block costs a pickle, a
        # zlib call (which makes a block of one posting larger) and a header: most of the
        # time a commit spent writing postings. Whoosh's reader takes inlined postings, but
        # whoosh-reloaded's writer calls them ``set_inline``, a method W3TermInfo does not
        # have (it is ``set_inlined``); otherwise this is Whoosh's own branch.
        if self.written() or len(self) >= self._inlinelimit:
            return super().finish_postings()  # type: ignore[no-any-return]
        terminfo: W3TermInfo = self._terminfo  # type: ignore[has-type]
        terminfo.add_block(self)
        # A format without values (an ID field) reads back None from a block; a matcher
        # over inlined postings returns "" for no values, which a merge refuses.
        terminfo.set_inlined(self._ids, self._weights, self._values or [None] * len(self._ids))
        self._terminfo = None
        return terminfo


#: One slot of a term table's hash tables as Whoosh packs it (``!Iq``: hash, key position).
_SLOT = np.dtype([("hash", ">u4"), ("pos", ">i8")])


class _Bucket:
    """One of the term table's 256 hash buckets: the (hash, position) entries Whoosh appends,
    held as two arrays (12 bytes an entry) rather than tuples of two ints (about 120)."""

    def __init__(self) -> None:
        self.hashes = array("I")
        self.positions = array("q")

    def append(self, entry: tuple[int, int]) -> None:
        """Keep one entry (a key's hash and its position in the file)."""
        self.hashes.append(entry[0])
        self.positions.append(entry[1])


class _TermTable(filetables.OrderedHashWriter):
    """Whoosh's term table writer, writing the same bytes from compact buckets.

    Whoosh holds one entry per term of the segment until the table is written: a merge at
    100,000 articles writes several hundred thousand terms, tens of megabytes of the writer's
    peak in tuples.
    """

    @classmethod
    def adopt(cls, writer: filetables.OrderedHashWriter) -> _TermTable:
        """This writer in place of ``writer``, whose header is written and which holds no key."""
        table = cls.__new__(cls)
        table.__dict__.update(writer.__dict__)
        table.buckets = [_Bucket() for _ in range(256)]
        return table

    def _write_hashes(self) -> None:
        # Whoosh's open addressing, entry by entry in the order added: the same slots.
        dbfile = self.dbfile
        for bucket in self.buckets:
            numslots = 2 * len(bucket.hashes)
            self.directory.append((dbfile.tell(), numslots))
            table = np.zeros(numslots, dtype=_SLOT)
            taken = bytearray(numslots)  # no key is at position 0: an empty slot is (0, 0)
            slots = []
            for h in bucket.hashes:
                slot = (h >> 8) % numslots
                while taken[slot]:
                    slot = (slot + 1) % numslots
                taken[slot] = 1
                slots.append(slot)
            table["hash"][slots] = bucket.hashes
            table["pos"][slots] = bucket.positions
            dbfile.write(table.tobytes())


class _FieldWriter(W3FieldWriter):
    def __init__(self, codec: W3Codec, storage: Any, segment: Any) -> None:
        super().__init__(codec, storage, segment)
        self._tindex = _TermTable.adopt(self._tindex)  # type: ignore[has-type]


class ArchiveCodec(W3Codec):
    """Whoosh's W3 codec whose postings writer inlines posting lists of one document and whose
    term table holds its entries compactly.

    Segments keep their codec in the table of contents; this one is saved as the plain
    ``W3Codec`` it reads as, so an index does not depend on this module to be opened.
    """

    def __init__(self) -> None:
        super().__init__(inlinelimit=INLINE_LIMIT)

    def field_writer(self, storage: Any, segment: Any) -> W3FieldWriter:
        """Whoosh's field writer with the compact term table."""
        return _FieldWriter(self, storage, segment)

    def postings_writer(self, dbfile: Any, byteids: bool = False) -> W3PostingsWriter:
        """A postings writer with Whoosh's settings."""
        return _PostingsWriter(
            dbfile,
            blocklimit=self._blocklimit,
            byteids=byteids,
            compression=self._compression,
            inlinelimit=self._inlinelimit,
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # Whoosh's own writer fails on inlining: a segment's codec keeps its default limit.
        return (W3Codec, (self._blocklimit, self._compression))
