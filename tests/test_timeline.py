"""The timeline of hits and multi-select facet counts, on real indexes of the sample corpus."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import numpy as np
from click.testing import CliRunner
from whoosh.util.times import datetime_to_long

from app.cli import cli
from index.facets import UNDATED
from index.limits import QueryLimits
from index.searcher import ArchiveSearcher
from index.timeline import DAY, TimeBucket, day_timeline
from tests.sample_dates import per_month, sample_dates


def timeline(counts: dict[int, int]) -> list[TimeBucket]:
    """The timeline of counts keyed by the date column's numbers, undated ones left out:
    what Whoosh's own grouping by date gives, put the way the searcher counts days."""
    dated = [(key // DAY, n) for key, n in counts.items() if key != UNDATED]
    return day_timeline(
        np.array([day for day, _ in dated], dtype=np.int64),
        np.array([n for _, n in dated], dtype=np.int64),
    )


def _months(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last`` (2024-09 form), both included."""
    year, month = map(int, first.split("-"))
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def test_timeline_counts_the_sample_per_month(sample_index: Path, sample_dir: Path) -> None:
    expected = per_month(sample_dates(sample_dir))
    with ArchiveSearcher.open(sample_index) as searcher:
        results = searcher.search("", timeline=True)
    got = {b.label: b.count for b in results.timeline}
    # Every month from the first to the last is there, empty ones with 0.
    assert list(got) == _months(min(expected), max(expected))
    assert got == {month: expected.get(month, 0) for month in got}
    assert sum(got.values()) == 40 < results.total == 42  # two headerless files have no date
    first = results.timeline[0]
    assert (first.start, first.end) == (f"{min(expected)}-01", f"{min(expected)}-31")


def test_timeline_follows_the_query_and_filters(sample_index: Path, sample_dir: Path) -> None:
    with ArchiveSearcher.open(sample_index) as searcher:
        plain = searcher.search("", timeline=True, filters={"category": ["politics"]})
        without = searcher.search("", filters={"category": ["politics"]})
        ranged = searcher.search(
            "", timeline=True, date_from=date(2024, 1, 1), date_to=date(2024, 1, 31)
        )
    assert sum(b.count for b in plain.timeline) == plain.total == 6
    assert without.timeline == []  # only computed when asked for
    # Under 90 days the buckets are days, with the empty days between.
    jan = sorted(d for d in sample_dates(sample_dir) if d.year == 2024 and d.month == 1)
    assert [b.start for b in ranged.timeline] == [
        date(2024, 1, day).isoformat() for day in range(jan[0].day, jan[-1].day + 1)
    ]
    assert {b.start: b.count for b in ranged.timeline if b.count} == {
        d.isoformat(): n for d, n in Counter(jan).items()
    }
    assert all(b.start == b.end == b.label for b in ranged.timeline)


def _counts(*days: date) -> dict[int, int]:
    return dict(Counter(datetime_to_long(datetime.combine(d, datetime.min.time())) for d in days))


def test_timeline_units_by_span() -> None:
    yearly = timeline(_counts(date(2001, 5, 1), date(2001, 6, 1), date(2014, 1, 1)))
    assert [(b.label, b.count) for b in yearly][:2] == [("2001", 2), ("2002", 0)]
    assert (yearly[-1].start, yearly[-1].end) == ("2014-01-01", "2014-12-31")
    assert len(yearly) == 14
    monthly = timeline(_counts(date(2024, 1, 31), date(2024, 4, 30)))
    assert [(b.label, b.start, b.end, b.count) for b in monthly] == [
        ("2024-01", "2024-01-01", "2024-01-31", 1),
        ("2024-02", "2024-02-01", "2024-02-29", 0),
        ("2024-03", "2024-03-01", "2024-03-31", 0),
        ("2024-04", "2024-04-01", "2024-04-30", 1),
    ]
    # Undated articles (the column's maximum) are left out; the last possible day does not
    # overflow.
    last = timeline({**_counts(date(9999, 12, 31)), UNDATED: 3})
    assert [(b.label, b.count) for b in last] == [("9999-12-31", 1)]
    for span in (date(9999, 6, 1), date(9980, 6, 1)):  # months, then years, to the last day
        final = timeline(_counts(span, date(9999, 12, 31)))[-1]
        assert (final.end, final.count) == ("9999-12-31", 1)
    assert timeline({UNDATED: 2}) == []


def test_counts_of_a_selected_facet_ignore_its_own_filter(sample_index: Path) -> None:
    with ArchiveSearcher.open(sample_index) as searcher:
        everything = searcher.search("")
        one = searcher.search("", filters={"category": ["politics"]})
        two = searcher.search("", filters={"category": ["politics", "business"]})
        courier = searcher.search("", filters={"source": ["Northfield Courier"]})
        both = searcher.search(
            "", filters={"category": ["politics"], "source": ["Northfield Courier"]}
        )
    # The other categories stay listed with the counts they would add.
    assert one.facets["category"] == everything.facets["category"]
    assert two.facets["category"] == everything.facets["category"]
    counts = dict(everything.facets["category"])
    assert two.total == counts["politics"] + counts["business"]  # OR within a facet
    # Other facets count the selection; across facets the filters AND.
    assert dict(one.facets["source"]) != dict(everything.facets["source"])
    assert sum(n for _, n in one.facets["source"]) <= one.total
    assert both.facets["category"] == courier.facets["category"]
    assert both.total == dict(courier.facets["category"])["politics"]
    assert both.facets["source"] == one.facets["source"]


def test_cli_prints_the_timeline_after_the_hits(sample_index: Path, sample_dir: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli, ["--index-dir", str(sample_index), "search", "--timeline", "--limit", "2"]
    )
    assert result.exit_code == 0, result.output
    hits, chart = result.stdout.split("\ntimeline:\n")
    assert "2. " in hits
    expected = per_month(sample_dates(sample_dir))
    rows = [line.split() for line in chart.splitlines()]
    assert [r[0] for r in rows] == _months(min(expected), max(expected))
    tallest = max(expected.values())
    for row in rows:
        count = int(row[1])
        assert count == expected.get(row[0], 0)
        bar = row[2] if len(row) > 2 else ""
        assert bar == "#" * max(round(50 * count / tallest), bool(count))
    # Without the flag there is no chart; with no dated hit the chart says so.
    plain = runner.invoke(cli, ["--index-dir", str(sample_index), "search"])
    assert "timeline" not in plain.stdout
    undated = runner.invoke(
        cli, ["--index-dir", str(sample_index), "search", "shop closures", "--timeline"]
    )
    assert undated.stdout.rstrip().endswith("timeline: none of the hits has a date")


def test_selected_facet_counts_stop_at_the_search_deadline(sample_index: Path) -> None:
    # A deadline already passed stops each pass after its first match, deterministically.
    with ArchiveSearcher.open(sample_index) as searcher:
        found = searcher.search(
            "",
            filters={"category": ["politics", "business"]},
            timeline=True,
            limits=QueryLimits(time_limit=0),
        )
    assert found.partial and found.total == 1
    assert sum(n for _, n in found.facets["category"]) == 1
    assert sum(b.count for b in found.timeline) <= 1  # the one hit may be undated


def test_cli_timeline_in_json_and_not_with_an_export(sample_index: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["--index-dir", str(sample_index), "search", "--timeline"]
    as_json = runner.invoke(cli, [*base, "--json", "--category", "politics"])
    assert as_json.exit_code == 0, as_json.output
    timeline = json.loads(as_json.stdout)["timeline"]
    assert sum(b["count"] for b in timeline) == 6
    assert set(timeline[0]) == {"start", "end", "count"}
    written = runner.invoke(cli, [*base, "--output", str(tmp_path / "out.txt")])
    assert written.exit_code == 0 and "\ntimeline:\n" in (tmp_path / "out.txt").read_text()
    export = runner.invoke(cli, [*base, "--all", "--format", "csv"])
    assert export.exit_code == 2 and "--timeline goes with one page" in export.output
