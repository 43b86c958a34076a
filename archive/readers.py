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
import os
import re
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path, PurePath
from typing import IO, Any

from archive.choices import MAX_ARTICLE_BYTES
from archive.clean import repair_surrogates
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
_BAD_FILE_ERRORS = (OSError, EOFError, zlib.error, gzip.BadGzipFile, InputError)
#: Reading goes in pieces of this size, so a gigabyte line is never held in memory.
_CHUNK = 2**20
#: Decompressed bytes allowed per compressed byte (news text compresses about 3-10 times).
_GZIP_MAX_RATIO = 100
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
    #: Bytes of text kept per article; the rest is dropped with a warning.
    max_bytes: int = MAX_ARTICLE_BYTES
    #: Read linked files that lead outside the folder given.
    follow_links: bool = False


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
    for found in _walk(paths, fmt, options or ReadOptions()):
        if not isinstance(found, Problem):
            yield found


def read_paths(
    paths: Iterable[Path], fmt: str = "auto", options: ReadOptions | None = None
) -> Iterator[Item]:
    """Read every article under ``paths``, keeping at most ``options.max_bytes`` of text each."""
    options = options or ReadOptions()
    for found in _walk(paths, fmt, options):
        if isinstance(found, Problem):
            yield found
        else:
            path, root, fmt_found = found
            yield from read_file(path, fmt_found, root, options)


def _walk(
    paths: Iterable[Path], fmt: str, options: ReadOptions
) -> Iterator[tuple[Path, Path, str] | Problem]:
    paths = [Path(p) for p in paths]
    check_paths(paths)
    for root in paths:
        if root.is_dir():
            yield from _walk_folder(root, fmt, options)
        else:
            yield root, root, (detect_format(root) or "txt") if fmt == "auto" else fmt


def _walk_folder(
    root: Path, fmt: str, options: ReadOptions
) -> Iterator[tuple[Path, Path, str] | Problem]:
    """Files under ``root`` in path order that ``_wanted`` lets through.

    A loop, not recursion: folders can nest thousands deep. Linked folders are not entered,
    and a linked file outside ``root`` is skipped unless ``options.follow_links``.
    """
    inside = root.resolve()
    # Without --include nothing in a hidden folder is read, so such folders are not walked.
    skip_hidden = not options.include
    pending: list[Iterator[os.DirEntry[str]]] = []
    folder: Path | None = root
    while folder is not None or pending:
        if folder is not None:
            try:
                pending.append(iter(_entries(folder)))
            except OSError as exc:  # e.g. a path past the system's length limit
                yield Problem(str(folder), 0, f"cannot read folder: {exc.strerror or exc}")
            folder = None
            continue
        entry = next(pending[-1], None)
        if entry is None:
            pending.pop()
            continue
        path = Path(entry.path)
        if entry.is_symlink() and not _link_allowed(path, inside, options.follow_links):
            if _wanted(path.relative_to(root), options):
                yield Problem(
                    str(path), 0, f"links outside {root}; skipped (--follow-links to read it)"
                )
        elif entry.is_dir(follow_symlinks=False):
            if not (skip_hidden and entry.name.startswith(".")):
                folder = path
        elif entry.is_file() and _wanted(path.relative_to(root), options):
            found = detect_format(path) if fmt == "auto" else fmt
            if found:
                yield path, root, found


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    with os.scandir(folder) as entries:
        return sorted(entries, key=lambda e: e.name)


def _link_allowed(path: Path, inside: Path, follow_links: bool) -> bool:
    try:
        return follow_links or path.resolve().is_relative_to(inside)
    except (OSError, RuntimeError):  # a loop of links leads nowhere
        return False


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
    limit = _record_limit(MAX_ARTICLE_BYTES)
    try:
        with _open(path) as raw:
            if fmt == "jsonl":
                return sum(
                    1 for _number, line in _lines(raw, limit) if line is None or line.strip()
                )
            lines = _CsvLines(raw, limit)
            rows = 0
            for _row in csv.reader(lines):
                lines.record_done()
                rows += 1
            return max(0, rows - 1)
    except (*_BAD_FILE_ERRORS, csv.Error):
        return 0


def _open(path: Path) -> IO[bytes]:
    if path.suffix.lower() == ".gz":
        limit = max(_GZIP_MAX_RATIO * path.stat().st_size, 64 * _CHUNK)
        return io.BufferedReader(_Decompressed(gzip.open(path, "rb"), limit), _CHUNK)
    return open(path, "rb")


class _Decompressed(io.RawIOBase):
    """A gzip stream that fails once it has expanded past ``limit`` bytes (a gzip bomb)."""

    def __init__(self, inner: gzip.GzipFile, limit: int) -> None:
        super().__init__()
        self.inner, self.limit, self.total = inner, limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self.inner.readinto(buffer)
        self.total += count
        if self.total > self.limit:
            raise InputError(
                f"decompresses to more than {self.limit:,} bytes ({_GZIP_MAX_RATIO}x its size)"
            )
        return count

    def close(self) -> None:
        self.inner.close()
        super().close()


def _record_limit(max_bytes: int) -> int:
    """Bytes a CSV record or JSON line may take: the text, its escapes and the other fields."""
    return 2 * max_bytes + _CHUNK


def _lines(raw: IO[bytes], limit: int) -> Iterator[tuple[int, bytes | None]]:
    """Yield ``(number, line)`` for each line; None for a line over ``limit``, skipped unread."""
    number = 0
    while line := raw.readline(limit + 1):
        number += 1
        if len(line) <= limit:
            yield number, line
            continue
        while not line.endswith(b"\n") and (line := raw.readline(_CHUNK)):
            pass
        yield number, None


class _CsvLines:
    """A CSV file's lines for ``csv.reader``, skipping the rest of any record over ``limit``.

    Quotes are counted to find where a record ends (an even count at a line end), so an
    over-long record is passed over without being held in memory.
    """

    def __init__(self, raw: IO[bytes], limit: int, encoding: str | None = None) -> None:
        self.raw, self.limit, self.encoding = raw, limit, encoding
        self.number = 0  # lines read so far
        self.bad_lines: set[int] = set()
        self.fallback: str | None = None  # the encoding of the first line that was not UTF-8
        self.oversized = False
        self._size = self._quotes = 0

    def record_done(self) -> None:
        """Start a new record: call after each row the csv reader returns or fails on."""
        self.oversized = False
        self._size = self._quotes = 0

    def __iter__(self) -> Iterator[str]:
        while line := self.raw.readline(self.limit - self._size + 1):
            self.number += 1
            self._size += len(line)
            if self._size > self.limit:
                yield self._skip_record(line)
                continue
            self._quotes += line.count(b'"')
            try:
                text, used = _decode(line, self.encoding)
            except UnicodeDecodeError:
                self.bad_lines.add(self.number)
                yield line.decode("utf-8", "replace")
                continue
            if used and not self.fallback:
                self.fallback = used
            yield text

    def _skip_record(self, line: bytes) -> str:
        """Read past the rest of the record; return what ends it for the csv reader."""
        self.oversized = True
        quotes = self._quotes + line.count(b'"')
        ends = line.endswith(b"\n")
        while not ends or quotes % 2:
            chunk = self.raw.readline(_CHUNK)
            if not chunk:
                break
            self.number += ends
            quotes += chunk.count(b'"')
            ends = chunk.endswith(b"\n")
        return '"\n' if self._quotes % 2 else "\n"


def _too_long(max_bytes: int) -> str:
    return f"text longer than {max_bytes:,} bytes; kept the first {max_bytes:,}"


def _whole_chars(data: bytes, size: int) -> bytes:
    """The first ``size`` bytes of ``data``, without the start of a UTF-8 character they cut."""
    end = size
    while end > size - 3 and end < len(data) and data[end] & 0xC0 == 0x80:
        end -= 1
    return data[:end]


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
    data = raw.read(options.max_bytes + 1)
    if len(data) > options.max_bytes:
        data = _whole_chars(data, options.max_bytes)
        yield Problem(str(path), 0, _too_long(options.max_bytes), skipped=False)
    try:
        content, used = _decode(data, options.encoding)
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
    yield from make_article(
        record, str(path), 1, dayfirst=options.dayfirst, max_bytes=options.max_bytes
    )


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
    lines = _CsvLines(raw, _record_limit(options.max_bytes), options.encoding)
    bad_lines = lines.bad_lines
    warned = False
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        yield Problem(str(path), 1, "empty CSV file")
        return
    except csv.Error as exc:
        yield Problem(str(path), 1, f"malformed CSV header: {exc}")
        return
    if lines.oversized:
        yield Problem(str(path), 1, f"CSV header longer than {lines.limit:,} bytes")
        return
    lines.record_done()
    names = [name.strip().lower() for name in header]
    if not any(_field(name) == "text" for name in names):
        yield Problem(str(path), 1, "CSV header has no text column (text, body or content)")
        return
    previous = lines.number
    while True:
        start = previous + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            previous = lines.number
            lines.record_done()
            yield Problem(str(path), start, f"malformed CSV row: {exc}")
            continue
        previous = lines.number
        oversized = lines.oversized
        lines.record_done()
        if oversized:
            yield Problem(str(path), start, f"record longer than {lines.limit:,} bytes; skipped")
            continue
        if lines.fallback and not warned:
            warned = True
            yield _read_as(path, start, lines.fallback)
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
        yield from make_article(
            record, str(path), start, dayfirst=options.dayfirst, max_bytes=options.max_bytes
        )


def _read_jsonl(raw: IO[bytes], path: Path, root: Path, options: ReadOptions) -> Iterator[Item]:
    limit = _record_limit(options.max_bytes)
    warned = False
    for number, line in _lines(raw, limit):
        if line is None:
            yield Problem(str(path), number, f"line longer than {limit:,} bytes; skipped")
            continue
        if not line.strip():
            continue
        try:
            text, used = _decode(line, options.encoding)
            record = json.loads(text)
        except UnicodeDecodeError as exc:
            yield Problem(str(path), number, _undecodable(options.encoding, exc))
            continue
        except (ValueError, RecursionError) as exc:
            yield Problem(str(path), number, f"bad JSON: {_json_error(exc)}")
            continue
        if not isinstance(record, dict):
            yield Problem(str(path), number, f"bad JSON: expected an object, got {_kind(record)}")
            continue
        if used and not warned:
            warned = True
            yield _read_as(path, number, used)
        yield from make_article(
            record, str(path), number, dayfirst=options.dayfirst, max_bytes=options.max_bytes
        )


def _json_error(exc: ValueError | RecursionError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return exc.msg
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    # Python refuses to convert integers of more than 4,300 digits (a guard against
    # quadratic conversion), with a ValueError that is not a JSONDecodeError.
    return "a number too long to read"


def _kind(value: Any) -> str:
    return {list: "an array", str: "a string", type(None): "null"}.get(type(value), "a number")


def _field(name: str) -> str | None:
    name = name.strip().lower()
    for field, aliases in _ALIASES.items():
        if name in aliases:
            return field
    return None


def _as_text(value: Any) -> str:
    """A field's value as text: lists joined, objects by their name."""
    # A loop, not recursion: JSON values can nest hundreds deep.
    parts: list[str] = []
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(reversed(item))
        elif isinstance(item, dict):
            pending.append(item.get("name", ""))
        elif item is not None:
            parts.append(str(item))
    return ", ".join(parts)


def make_article(
    record: dict[str, Any],
    path: str,
    line: int,
    *,
    dayfirst: bool = False,
    max_bytes: int = MAX_ARTICLE_BYTES,
) -> Iterator[Item]:
    """Turn one raw record into an Article, reporting what is wrong with it."""
    fields: dict[str, str] = {}
    repaired = 0
    for key, value in record.items():
        name = _field(str(key))
        if name and name not in fields:
            fields[name], count = repair_surrogates(_as_text(value).strip())
            repaired += count
    text = fields.get("text", "")
    title = fields.get("title", "")
    if not text.strip():
        if not title.strip():
            yield Problem(path, line, "article has no text")
            return
        # A brief or a catalogue record: still worth finding by its title.
        yield Problem(path, line, "article has a title but no text: no summary", skipped=False)
    if repaired:
        reason = f"replaced {repaired} invalid character(s) (lone surrogates) with U+FFFD"
        yield Problem(path, line, reason, skipped=False)
    if len(text) > max_bytes // 4 and len(encoded := text.encode()) > max_bytes:
        text = _whole_chars(encoded, max_bytes).decode()
        yield Problem(path, line, _too_long(max_bytes), skipped=False)
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
