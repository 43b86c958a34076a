"""The archive's settings in one table: name, default and help, read by the CLI and the web app.

Nothing here imports Whoosh, so the CLI can show defaults without paying for it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

INDEX_DIR = "instance/index"
PAGE_SIZE = 10
MAX_PAGE_SIZE = 100
MAX_PAGE = 1000
FACET_SIZE = 10
SNIPPET_CHARS = 240
MAX_SHOWN_CHARS = 500_000


def _seconds(variable: str, default: float) -> float:
    """A number of seconds from the environment, else the default."""
    value = os.environ.get(variable, "").strip()
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{variable} must be a number of seconds, not {value!r}") from None


# A slower machine, or an operator who prefers complete answers to fast ones, can move
# the budget without touching every command line and app config.
TIME_LIMIT = _seconds("ARCHIVE_TIME_LIMIT", 0.5)
EXPORT_TIME_LIMIT = 30.0
#: Bytes of posting lists (8 per posting) and field lengths a process keeps as arrays for
#: fast scoring (index/postings.py), least recently used dropped first: 64 MB holds about
#: 8 million postings, every posting of the title and text of some 20,000 news articles.
POSTINGS_CACHE_BYTES = 64 * 1024 * 1024
SORTS = ("relevance", "newest", "oldest")
#: Merge policy (index/merging.py): segments of about MERGE_FLOOR documents form the lowest
#: tier, each next tier is MERGE_FACTOR times larger, and MERGE_FACTOR segments of one
#: tier are merged into one of the next.
MERGE_FLOOR = 1000
MERGE_FACTOR = 10


@dataclass(frozen=True)
class Setting:
    """One setting: its name, default and what it does."""

    name: str
    default: object
    help: str


SETTINGS = (
    Setting("index_dir", INDEX_DIR, "Where the index lives."),
    Setting("page_size", PAGE_SIZE, "Results per page."),
    Setting("max_page_size", MAX_PAGE_SIZE, "Most results the API returns on one page."),
    Setting("max_page", MAX_PAGE, "Deepest result page served; nobody reads past it."),
    Setting("facet_size", FACET_SIZE, "Values listed per facet."),
    Setting("snippet_chars", SNIPPET_CHARS, "Characters of text around the matches in a result."),
    Setting(
        "max_shown_chars",
        MAX_SHOWN_CHARS,
        "Characters of an article its web page shows (the API returns the whole text).",
    ),
    Setting(
        "time_limit",
        TIME_LIMIT,
        "Seconds a search may run before the best results found so far are returned.",
    ),
    Setting(
        "export_time_limit",
        EXPORT_TIME_LIMIT,
        "Seconds an export may spend finding every match before it is refused.",
    ),
    Setting("sorts", SORTS, "Orders results can be sorted in."),
    Setting(
        "postings_cache_bytes",
        POSTINGS_CACHE_BYTES,
        "Bytes of posting lists a process keeps in memory as arrays for fast scoring.",
    ),
)
HELP = {setting.name: setting.help for setting in SETTINGS}
