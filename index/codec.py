"""Whoosh's file format, written with less work: a term in one document has its posting
inlined in its entry in the term table, with no block of its own in the postings file."""

from __future__ import annotations

from typing import Any

from whoosh.codec.whoosh3 import W3Codec, W3PostingsWriter, W3TermInfo

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


class ArchiveCodec(W3Codec):
    """Whoosh's W3 codec whose postings writer inlines posting lists of one document.

    Segments keep their codec in the table of contents; this one is saved as the plain
    ``W3Codec`` it reads as, so an index does not depend on this module to be opened.
    """

    def __init__(self) -> None:
        super().__init__(inlinelimit=INLINE_LIMIT)

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
