"""Parsing the dates found in scraped articles into datetimes."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

_FORMATS = (
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d",
    "%Y/%m/%d %H:%M",
    "%d %b %Y",
    "%d %B %Y",
    "%d %b %Y %H:%M",
    "%d %B %Y %H:%M",
    "%b %d %Y",
    "%B %d %Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%d.%m.%Y",
)
#: ``01/02/2024`` or ``01-02-2024 10:30``: day-first in Europe, month-first in the US.
_NUMERIC = re.compile(r"(\d{1,2})[/-](\d{1,2})[/-](\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")


def parse_date(value: str, *, dayfirst: bool = False) -> datetime:
    """Parse ISO 8601, RFC 2822 and common written dates; raise ValueError otherwise.

    Aware times are converted to UTC and made naive, so every date in the index compares.
    ``01/02/2024`` is 1 February with ``dayfirst``; without it, a numeric date that reads
    both ways is refused as ambiguous.
    """
    text = " ".join(value.split())
    if not text:
        raise ValueError("empty date")
    for parse in (_iso, _rfc2822, _written, lambda t: _numeric(t, dayfirst)):
        parsed = parse(text)
        if parsed is not None:
            if parsed.tzinfo is not None:
                try:
                    parsed = parsed.astimezone(UTC).replace(tzinfo=None)
                except OverflowError:  # 9999-12-31T23:59:59-14:00 is past year 9999 in UTC
                    raise ValueError(f"date out of range {value[:60]!r}") from None
            if not 1000 <= parsed.year <= 9999:
                break
            return parsed
    raise ValueError(f"unrecognised date {value[:60]!r}")


def _iso(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _rfc2822(text: str) -> datetime | None:
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _written(text: str) -> datetime | None:
    text = text.replace("Sept ", "Sep ")
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def _numeric(text: str, dayfirst: bool) -> datetime | None:
    match = _NUMERIC.fullmatch(text)
    if match is None:
        return None
    first, second, year = (int(g) for g in match.groups()[:3])
    hour, minute, sec = [*(int(g) for g in match.groups()[3:] if g is not None), 0, 0, 0][:3]
    orders = [(second, first)] if dayfirst else [(first, second), (second, first)]
    readings = set()
    for month, day in orders:
        try:
            readings.add(datetime(year, month, day, hour, minute, sec))
        except ValueError:
            continue
    if len(readings) > 1:
        raise ValueError(f"ambiguous date {text[:60]!r} (day or month first? --dayfirst)")
    return readings.pop() if readings else None
