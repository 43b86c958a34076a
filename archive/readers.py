"""Readers for article files: folders of .txt, CSV and JSON Lines, each optionally gzipped.

Every reader yields ``Article`` objects and ``Problem`` reports; a bad record or file is
reported once and skipped, and reading goes on with the next one.
"""

from __future__ import annotations

import csv
import fnmatch
import gzip
import hashlib
import io
import json
import re
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path, PurePath
from typing import IO, Any

from archive.dates import parse_date
from archive.errors import InputError
from archive.model import Article, Problem

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
#: Files in a folder that are about the data set, not articles (matched case-insensitively).
DEFAULT_EXCLUDE = ("readme*", "license*", "licence*", "copying*")
#: Tried in order when a file is not UTF-8 and no encoding was given; latin-1 always decodes.
_FALLBACK_ENCODINGS = ("cp1252", "latin-1")

Item = Article | Problem

# Long articles exceed the csv module's default 128 KiB field limit.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass(frozen=True)
class ReadOptions:
    """How input is read beyond its format: which files, which encoding, which ids."""

    encoding: str | None = None
    dayfirst: bool = False
    #: Globs of files read even though excluded by default (README*, LICENSE*, dot-files).
    include: tuple[str, ...] = ()
    #: Globs of files not read, on the file name or the path below the folder given.
    exclude: tuple[str, ...] = ()
    #: Ids the index already gave files, by resolved path, kept whatever folder is passed.
    known_ids: Mapping[str, str] = dataclass_field(default_factory=dict)
    #: Resolved folders that earlier ids are relative to; a new file takes the innermost.
    roots: tuple[str, ...] = ()


def indexed_paths(pairs: Iterable[tuple[str, str]]) -> ReadOptions:
    """Known ids and id roots from the index's ``(origin, id)`` pairs.

    A file's id is kept when the index holds exactly one article from that path, so a later
    run over a parent or child folder changes no id; the folder each path-derived id was
    made from is recovered from the id itself (``bbc/tech/001`` from ``.../bbc/tech/001.txt``).
    """
    by_origin: dict[str, str | None] = {}
    for origin, doc_id in pairs:
        by_origin[origin] = None if origin in by_origin else doc_id
    known = {origin: doc_id for origin, doc_id in by_origin.items() if doc_id is not None}
    roots = set()
    for origin, doc_id in known.items():
        parts, names = origin.split("/"), doc_id.split("/")
        if len(names) < 2 or len(names) >= len(parts):
            continue
        tail = [*parts[-len(names) : -1], parts[-1].split(".")[0]]
        if tail == names:
            roots.add("/".join(parts[: -len(names) + 1]))
    return ReadOptions(known_ids=known, roots=tuple(sorted(roots)))


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


def find_files(
    paths: Iterable[Path], fmt: str = "auto", options: ReadOptions | None = None
) -> Iterator[tuple[Path, Path, str]]:
    """Yield ``(file, root, format)`` for each input file; folders are walked recursively."""
    paths = [Path(p) for p in paths]
    options = options or ReadOptions()
    check_paths(paths)
    for root in paths:
        if root.is_dir():
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                if not _wanted(path.relative_to(root), options):
                    continue
                found = detect_format(path) if fmt == "auto" else fmt
                if found:
                    yield path, root, found
        else:
            yield root, root, (detect_format(root) or "txt") if fmt == "auto" else fmt


def _wanted(relative: PurePath, options: ReadOptions) -> bool:
    """Whether a file found in a folder is read: user globs first, then the defaults."""
    name, below = relative.name.lower(), relative.as_posix().lower()

    def matches(globs: Iterable[str]) -> bool:
        return any(
            fnmatch.fnmatch(name, g.lower()) or fnmatch.fnmatch(below, g.lower()) for g in globs
        )

    if matches(options.exclude):
        return False
    if matches(options.include):
        return True
    hidden = any(part.startswith(".") for part in relative.parts)
    return not hidden and not matches(DEFAULT_EXCLUDE)


def read_paths(
    paths: Iterable[Path], fmt: str = "auto", options: ReadOptions | None = None
) -> Iterator[Item]:
    """Read every article under ``paths``."""
    options = options or ReadOptions()
    for path, root, found in find_files(paths, fmt, options):
        yield from read_file(path, found, root, options)


def read_file(
    path: Path, fmt: str, root: Path | None = None, options: ReadOptions | None = None
) -> Iterator[Item]:
    """Read one file in the given format, reporting a file that cannot be read at all."""
    reader = _READERS[fmt]
    try:
        with _open(path) as raw:
            yield from reader(raw, path, root or path, options or ReadOptions())
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


def _decode(data: bytes, encoding: str | None) -> tuple[str, str | None]:
    """Text of ``data`` and, when it is not UTF-8, the encoding it was read with.

    Tries ``encoding`` when given, else cp1252 then latin-1; raises the UTF-8 error when
    the given encoding fails too.
    """
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        error = exc
    for name in (encoding,) if encoding else _FALLBACK_ENCODINGS:
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            continue
    raise error


def _undecodable(encoding: str | None, exc: UnicodeDecodeError | None = None) -> str:
    reason = f"not valid UTF-8 nor {encoding}" if encoding else "not valid UTF-8"
    if exc is None:
        return reason
    return f"{reason} (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})"


def _read_as(path: Path, line: int, encoding: str) -> Problem:
    return Problem(str(path), line, f"not valid UTF-8: read as {encoding}", skipped=False)


def _read_txt(raw: IO[bytes], path: Path, root: Path, options: ReadOptions) -> Iterator[Item]:
    try:
        content, used = _decode(raw.read(), options.encoding)
    except UnicodeDecodeError as exc:
        yield Problem(str(path), 0, _undecodable(options.encoding, exc))
        return
    if "\x00" in content:
        yield Problem(str(path), 0, "binary file (contains NUL bytes)")
        return
    if used:
        yield _read_as(path, 0, used)
    lines = content.splitlines()
    header, body_start = _header_block(lines)
    body = lines[body_start:]
    title = header.pop("title", "")
    while not title and body and not body[0].strip():
        body.pop(0)
    # A scraped article is often one line: that line is its text, and a title is derived.
    if not title and any(line.strip() for line in body[1:]):
        title = body.pop(0).strip()
    record = {**header, "title": title, "text": "\n".join(body)}
    path_id = _path_id(path, root, options)
    record.setdefault("id", path_id)
    names = path_id.split("/")
    if len(names) > 2:  # in a sub-folder of the folder indexed: the folder is the category
        record.setdefault("category", names[-2])
    yield from make_article(record, str(path), 1, dayfirst=options.dayfirst)


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


def _path_id(path: Path, root: Path, options: ReadOptions) -> str:
    """The id the index gave the file, else ``folder/path`` below the innermost known root."""
    resolved = path.resolve()
    if known := options.known_ids.get(str(resolved)):
        return known
    if root == path:
        return path.name.split(".")[0]
    inner = [Path(r) for r in options.roots if resolved.is_relative_to(r)]
    if inner:
        base = max(inner, key=lambda r: len(r.parts))
        relative = resolved.relative_to(base).as_posix().split(".")[0]
        return f"{base.name}/{relative}"
    relative = path.relative_to(root).as_posix().split(".")[0]
    return f"{root.resolve().name}/{relative}"


def _read_csv(raw: IO[bytes], path: Path, root: Path, options: ReadOptions) -> Iterator[Item]:
    bad_lines: set[int] = set()
    fallback: list[str] = []  # the encoding of the first line that was not UTF-8
    warned = False

    def lines() -> Iterator[str]:
        for number, line in enumerate(raw, start=1):
            try:
                text, used = _decode(line, options.encoding)
            except UnicodeDecodeError:
                bad_lines.add(number)
                yield line.decode("utf-8", "replace")
                continue
            if used and not fallback:
                fallback.append(used)
            yield text

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
        if fallback and not warned:
            warned = True
            yield _read_as(path, start, fallback[0])
        if not row or not any(cell.strip() for cell in row):
            continue
        if any(start <= n <= previous for n in bad_lines):
            yield Problem(str(path), start, _undecodable(options.encoding))
            continue
        if len(row) != len(names):
            yield Problem(
                str(path), start, f"malformed CSV row: {len(row)} fields, header has {len(names)}"
            )
            continue
        record = dict(zip(names, row, strict=True))
        yield from make_article(record, str(path), start, dayfirst=options.dayfirst)


def _read_jsonl(raw: IO[bytes], path: Path, root: Path, options: ReadOptions) -> Iterator[Item]:
    warned = False
    for number, line in enumerate(raw, start=1):
        if not line.strip():
            continue
        try:
            text, used = _decode(line, options.encoding)
            record = json.loads(text)
        except UnicodeDecodeError as exc:
            yield Problem(str(path), number, _undecodable(options.encoding, exc))
            continue
        except (json.JSONDecodeError, RecursionError) as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
            yield Problem(str(path), number, f"bad JSON: {reason}")
            continue
        if not isinstance(record, dict):
            yield Problem(str(path), number, f"bad JSON: expected an object, got {_kind(record)}")
            continue
        if used and not warned:
            warned = True
            yield _read_as(path, number, used)
        yield from make_article(record, str(path), number, dayfirst=options.dayfirst)


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


def make_article(
    record: dict[str, Any], path: str, line: int, *, dayfirst: bool = False
) -> Iterator[Item]:
    """Turn one raw record into an Article, reporting what is wrong with it."""
    fields: dict[str, str] = {}
    for key, value in record.items():
        name = _field(str(key))
        if name and name not in fields:
            fields[name] = _as_text(value).strip()
    text = fields.get("text", "")
    title = fields.get("title", "")
    if not text.strip():
        if not title.strip():
            yield Problem(path, line, "article has no text")
            return
        # A brief or a catalogue record: still worth finding by its title.
        yield Problem(path, line, "article has a title but no text: no summary", skipped=False)
    date = None
    if fields.get("date"):
        try:
            date = parse_date(fields["date"], dayfirst=dayfirst)
        except ValueError as exc:
            yield Problem(path, line, f"{exc}; kept the article without a date", skipped=False)
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


_READERS: dict[str, Callable[[IO[bytes], Path, Path, ReadOptions], Iterator[Item]]] = {
    "txt": _read_txt,
    "csv": _read_csv,
    "jsonl": _read_jsonl,
}
