"""Errors the archive library raises; the CLI turns them into messages and exit codes."""


class ArchiveError(Exception):
    """Base class of every expected archive error."""


class InputError(ArchiveError):
    """An input file or record could not be read."""


class NothingToIndex(ArchiveError):
    """No article could be read from the given paths."""


class SummaryError(ArchiveError):
    """A summariser name or setting is invalid."""
