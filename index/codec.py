"""Whoosh's file format, written with less work: blocks of one posting are not compressed."""

from __future__ import annotations

from typing import Any

from whoosh.codec.whoosh3 import W3Codec, W3PostingsWriter


class _PostingsWriter(W3PostingsWriter):
    def _write_block(self, last: bool = False) -> None:
        if len(self._ids) > 1:
            super()._write_block(last)
            return
        # Most terms of a segment occur in one document. zlib makes such a block larger
        # (a 13-byte pickle becomes 21 bytes) and each call costs ~0.1 ms, which at a
        # commit was most of the time spent writing postings. Whoosh's own writer meant
        # to skip pickles under 20 bytes, but overwrites that choice; its reader takes
        # either, as each block says whether it is compressed.
        level, self._compression = self._compression, 0  # type: ignore[has-type]
        try:
            super()._write_block(last)
        finally:
            self._compression = level


class ArchiveCodec(W3Codec):
    """Whoosh's W3 codec whose postings writer leaves one-posting blocks uncompressed.

    Segments keep their codec in the table of contents; this one is saved as the plain
    ``W3Codec`` it reads as, so an index does not depend on this module to be opened.
    """

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
        return (W3Codec, (self._blocklimit, self._compression, self._inlinelimit))
