"""A timeline of hits: how many matching articles fall in each day, month or year."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from index.facets import UNDATED

#: Microseconds in a day, the unit of the date column's numbers.
DAY = 86_400_000_000
#: Hits spread over fewer days than this are counted per day.
DAILY_UNDER_DAYS = 90
#: Hits spread over more years than this are counted per year.
YEARLY_OVER_YEARS = 10


@dataclass
class TimeBucket:
    """Articles dated from ``start`` to ``end`` (ISO dates, both included)."""

    start: str
    end: str
    count: int

    @property
    def label(self) -> str:
        """The bucket's name: 2024, 2024-09 or 2024-09-27 for a year, month or day."""
        if self.start == self.end:
            return self.start
        if self.start.endswith("-01-01") and self.end.endswith("-12-31"):
            return self.start[:4]
        return self.start[:7]


def timeline(counts: dict[Any, int]) -> list[TimeBucket]:
    """Hits per day, month or year, every bucket from the first dated hit to the last.

    Days when the hits span under 90 days, years when over 10 years, months otherwise;
    empty buckets in between are kept so the chart shows the gaps. Undated hits are left out.
    """
    per_day: Counter[date] = Counter()
    for key, n in counts.items():
        if key != UNDATED:
            # The column counts microseconds from 0001-01-01, day ordinal 1.
            per_day[date.fromordinal(key // DAY + 1)] += n
    if not per_day:
        return []
    first, last = min(per_day), max(per_day)
    if (last - first).days < DAILY_UNDER_DAYS:
        unit = _day
    elif (last - first).days > YEARLY_OVER_YEARS * 365.25:
        unit = _year
    else:
        unit = _month
    per_bucket: Counter[date] = Counter()
    # Where each day's bucket starts, without the dearer end that unit() works out too.
    start_of = {_day: lambda d: d, _month: lambda d: d.replace(day=1)}.get(
        unit, lambda d: d.replace(month=1, day=1)
    )
    for day, n in per_day.items():
        per_bucket[start_of(day)] += n
    buckets = []
    start, end = unit(first)
    while True:
        buckets.append(TimeBucket(start.isoformat(), end.isoformat(), per_bucket[start]))
        if end >= last:  # checked before stepping on: the day after 9999-12-31 overflows
            return buckets
        start, end = unit(end + timedelta(days=1))


def _day(day: date) -> tuple[date, date]:
    return day, day


def _month(day: date) -> tuple[date, date]:
    start = day.replace(day=1)
    following = (start + timedelta(days=32)).replace(day=1)
    return start, following - timedelta(days=1)


def _year(day: date) -> tuple[date, date]:
    return date(day.year, 1, 1), date(day.year, 12, 31)
