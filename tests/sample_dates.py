"""The sample corpus's article dates, read from its files independently of the archive's readers."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

#: The four date formats the sample's txt headers use (see its README).
_TXT_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M", "%d %b %Y")


def _txt_date(raw: str) -> date:
    for fmt in _TXT_FORMATS:
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    return parsedate_to_datetime(raw).date()  # "Sun, 07 Jan 2024 18:45:00 +0000"


def sample_dates(sample_dir: Path) -> list[date]:
    """Every dated article's date in the sample corpus (headerless txt files have none)."""
    dates = []
    with open(sample_dir / "articles.csv", encoding="utf-8", newline="") as f:
        dates += [date.fromisoformat(row["date"][:10]) for row in csv.DictReader(f) if row["date"]]
    for line in (sample_dir / "articles.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("date"):
            dates.append(date.fromisoformat(record["date"][:10]))
    for path in sorted((sample_dir / "txt").rglob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                break  # the header ends at the first blank line
            if line.startswith("Date:"):
                dates.append(_txt_date(line.removeprefix("Date:").strip()))
    return dates


def per_month(dates: list[date]) -> Counter[str]:
    """How many of ``dates`` fall in each month, keyed 2024-09."""
    return Counter(d.strftime("%Y-%m") for d in dates)
