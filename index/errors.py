"""Errors the search layer raises; callers turn them into messages."""


class SearchIndexError(Exception):
    """Base class of every expected error from the index package."""


class IndexNotFound(SearchIndexError):
    """There is no index at the given directory yet."""


class IndexLocked(SearchIndexError):
    """Another live process holds the index's write lock."""


class IndexUnwritable(SearchIndexError):
    """The index directory cannot be created or written to."""


class UnsafeLock(IndexUnwritable):
    """The run lock's path is not a plain file the archive can safely write."""


class QueryTooExpensive(SearchIndexError):
    """A query would expand to too many terms; the message says how to narrow it."""


class SearchBusy(SearchIndexError):
    """No turn came for a costly search (too many waiting, or for too long): refused."""


class SearchTimedOut(SearchIndexError):
    """Finding every match of an export took longer than its time limit."""


class UnknownVersion(SearchIndexError):
    """An article has no version with the number asked for."""


class IndexCorrupt(SearchIndexError):
    """A segment read for a merge breaks the order its format guarantees."""
