"""Readers for article files: folders of .txt, CSV and JSON Lines, each optionally gzipped.

Every reader yields ``Article`` objects and ``Problem`` reports; a bad record or file is
reported once and skipped, and reading goes on with the next one.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from archive.dates import parse_date
from archive.errors import InputError
from archive.model import Article, Problem

FORMATS = ("auto", "txt", "csv", "jsonl")
_EXTENSIONS = {".txt": "txt", ".text": "txt", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_ALIASES = {
    "id": ("id", "guid", "uuid", "article_id"),
    "title": ("title", "headline"),
    "text": ("text", "body", "content", "article", "maintext"),
    "author": ("author", "authors", "byline", "by"),
    "date": ("date", "published", "pubdate", "published_at", "date_published", "datetime"),
    "source": ("source", "publication", "publisher", "site", "outlet"),
    "category": ("category", "section", "topic"),
    "url": ("url", "link", "href"),
}
_HEADER_LINE = re.compile(r"^([A-Za-z][A-Za-z _-]{0,30}):[ \t]*(.*)$")
_BAD_FILE_ERRORS = (OSError, EOFError, zlib.error, gzip.BadGzipFile)

Item = Article | Problem

# Long articles exceed the csv module's default 128 KiB field limit.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def detect_format(path: Path) -> str | None:
    """Format of a file from its extension (``.gz`` looked through), or None."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    return _EXTENSIONS.get(suffixes[-1]) if suffixes else None


def check_paths(paths: Iterable[Path]) -> None:
    """Raise InputError for the first path that does not exist."""
    for path in paths:
        if not Path(path).exists():
            raise InputError(f"{path}: no such file or folder")


def find_files(paths: Iterable[Path], fmt: str = "auto") -> Iterator[tuple[Path, Path, str]]:
    """Yield ``(file, root, format)`` for each input file; folders are walked recursively."""
    paths = [Path(p) for p in paths]
    check_paths(paths)
    for root in paths:
        if root.is_dir():
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                if any(part.startswith(".") for part in path.relative_to(root).parts):
                    continue
                found = detect_format(path) if fmt == "auto" else fmt
                if found:
                    yield path, root, found
        else:
            yield root, root, (detect_format(root) or "txt") if fmt == "auto" else fmt


def read_paths(paths: Iterable[Path], fmt: str = "auto") -> Iterator[Item]:
    """Read every article under ``paths``."""
    for path, root, found in find_files(paths, fmt):
        yield from read_file(path, found, root)


def read_file(path: Path, fmt: str, root: Path | None = None) -> Iterator[Item]:
    """Read one file in the given format, reporting a file that cannot be read at all."""
    reader = _READERS[fmt]
    try:
        with _open(path) as raw:
            yield from reader(raw, path, root or path)
    except _BAD_FILE_ERRORS as exc:
        yield Problem(str(path), 0, f"cannot read file: {getattr(exc, 'strerror', None) or exc}")


def count_records(path: Path, fmt: str) -> int:
    """Cheap count of the records a file holds, for the progress bar."""
    if fmt == "txt":
        return 1
    try:
        with _open(path) as raw:
            if fmt == "jsonl":
                return sum(1 for line in raw if line.strip())
            text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
            return max(0, sum(1 for _ in csv.reader(text)) - 1)
    except (*_BAD_FILE_ERRORS, csv.Error):
        return 0


def _open(path: Path) -> IO[bytes]:
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rb")
    return open(path, "rb")


def _decode(data: bytes) -> str:
    return data.decode("utf-8-sig")


def _undecodable(exc: UnicodeDecodeError) -> str:
    return f"not valid UTF-8 (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})"


def _read_txt(raw: IO[bytes], path: Path, root: Path) -> Iterator[Item]:
    try:
        content = _decode(raw.read())
    except UnicodeDecodeError as exc:
        yield Problem(str(path), 0, _undecodable(exc))
        return
    if "\x00" in content:
        yield Problem(str(path), 0, "binary file (contains NUL bytes)")
        return
    lines = content.splitlines()
    header, body_start = _header_block(lines)
    body = lines[body_start:]
    title = header.pop("title", "")
    if not title:
        while body and not body[0].strip():
            body.pop(0)
        title = body.pop(0).strip() if body else ""
    record = {**header, "title": title, "text": "\n".join(body)}
    record.setdefault("id", _path_id(path, root))
    yield from make_article(record, str(path), 1)


def _header_block(lines: list[str]) -> tuple[dict[str, str], int]:
    """Parse leading ``Key: value`` lines ended by a blank line; empty when there are none."""
    header: dict[str, str] = {}
    for number, line in enumerate(lines):
        if not line.strip():
            known = any(_field(key) for key in header)
            return (header, number + 1) if header and known else ({}, 0)
        match = _HEADER_LINE.match(line)
        if not match:
            return {}, 0
        header[match.group(1).strip().lower()] = match.group(2).strip()
    return {}, 0


def _path_id(path: Path, root: Path) -> str:
    if root == path:
        return path.name.split(".")[0]
    relative = path.relative_to(root).as_posix().split(".")[0]
    return f"{root.resolve().name}/{relative}"


def _read_csv(raw: IO[bytes], path: Path, root: Path) -> Iterator[Item]:
    bad_lines: set[int] = set()

    def lines() -> Iterator[str]:
        for number, line in enumerate(raw, start=1):
            try:
                yield _decode(line) if number == 1 else line.decode("utf-8")
            except UnicodeDecodeError:
                bad_lines.add(number)
                yield line.decode("utf-8", "replace")

    reader = csv.reader(lines())
    try:
        header = next(reader)
    except StopIteration:
        yield Problem(str(path), 1, "empty CSV file")
        return
    except csv.Error as exc:
        yield Problem(str(path), 1, f"malformed CSV header: {exc}")
        return
    names = [name.strip().lower() for name in header]
    if not any(_field(name) == "text" for name in names):
        yield Problem(str(path), 1, "CSV header has no text column (text, body or content)")
        return
    previous = reader.line_num
    while True:
        start = previous + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            previous = reader.line_num
            yield Problem(str(path), start, f"malformed CSV row: {exc}")
            continue
        previous = reader.line_num
        if not row or not any(cell.strip() for cell in row):
            continue
        if any(start <= n <= previous for n in bad_lines):
            yield Problem(str(path), start, "not valid UTF-8")
            continue
        if len(row) != len(names):
            yield Problem(
                str(path), start, f"malformed CSV row: {len(row)} fields, header has {len(names)}"
            )
            continue
        yield from make_article(dict(zip(names, row, strict=True)), str(path), start)


def _read_jsonl(raw: IO[bytes], path: Path, root: Path) -> Iterator[Item]:
    for number, line in enumerate(raw, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(_decode(line) if number == 1 else line.decode("utf-8"))
        except UnicodeDecodeError as exc:
            yield Problem(str(path), number, _undecodable(exc))
            continue
        except (json.JSONDecodeError, RecursionError) as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
            yield Problem(str(path), number, f"bad JSON: {reason}")
            continue
        if not isinstance(record, dict):
            yield Problem(str(path), number, f"bad JSON: expected an object, got {_kind(record)}")
            continue
        yield from make_article(record, str(path), number)


def _kind(value: Any) -> str:
    return {list: "an array", str: "a string", type(None): "null"}.get(type(value), "a number")


def _field(name: str) -> str | None:
    name = name.strip().lower()
    for field, aliases in _ALIASES.items():
        if name in aliases:
            return field
    return None


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_as_text(v) for v in value if v is not None)
    if isinstance(value, dict):
        return _as_text(value.get("name", ""))
    return str(value)


def make_article(record: dict[str, Any], path: str, line: int) -> Iterator[Item]:
    """Turn one raw record into an Article, reporting what is wrong with it."""
    fields: dict[str, str] = {}
    for key, value in record.items():
        name = _field(str(key))
        if name and name not in fields:
            fields[name] = _as_text(value).strip()
    text = fields.get("text", "")
    if not text.strip():
        yield Problem(path, line, "article has no text")
        return
    date = None
    if fields.get("date"):
        try:
            date = parse_date(fields["date"])
        except ValueError as exc:
            yield Problem(path, line, f"{exc}; kept the article without a date", skipped=False)
    title = fields.get("title", "")
    doc_id = fields.get("id") or _content_id(title, text)
    yield Article(
        id=doc_id,
        title=title,
        text=text,
        author=fields.get("author", ""),
        date=date,
        source=fields.get("source", ""),
        category=fields.get("category", ""),
        url=fields.get("url", ""),
        origin=str(Path(path).resolve()),
        line=line,
    )


def _content_id(title: str, text: str) -> str:
    return hashlib.blake2b(f"{title}\x00{text}".encode(), digest_size=8).hexdigest()


_READERS: dict[str, Callable[[IO[bytes], Path, Path], Iterator[Item]]] = {
    "txt": _read_txt,
    "csv": _read_csv,
    "jsonl": _read_jsonl,
}
