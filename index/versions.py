"""Earlier versions of a re-read article, kept inside its current document.

The current version is the searched document; the versions it replaced travel with it in a
stored field (compressed JSON, oldest first), so they are written and committed in the same
step as the text that replaced them: a run killed at any moment leaves each article's history
exactly as its last committed document has it, and the next run adds nothing twice.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from index.errors import UnknownVersion

#: Stored fields of the current document: the digest of what an edit changes, when its
#: text was first seen, and the earlier versions.
HASH_FIELD = "version_hash"
SEEN_FIELD = "version_seen"
VERSIONS_FIELD = "versions"

#: Computes ``HASH_FIELD`` from a title and text, for documents written before it existed.
Rehash = Callable[[str, str], str]


@dataclass(frozen=True)
class Version:
    """One version of an article: numbered from 1, the oldest; ``seen`` is ISO 8601."""

    number: int
    seen: str | None
    title: str
    text: str
    hash: str

    def summary(self) -> dict[str, Any]:
        """The version without its text, as the article's JSON lists it."""
        return {"number": self.number, "seen": self.seen, "title": self.title, "hash": self.hash}

    def to_dict(self) -> dict[str, Any]:
        """Every field, for JSON."""
        return asdict(self)


def pack(versions: list[dict[str, Any]]) -> bytes:
    """Earlier versions as the stored field holds them."""
    return zlib.compress(json.dumps(versions, ensure_ascii=False).encode("utf-8"))


def unpack(blob: bytes | None) -> list[dict[str, Any]]:
    """Earlier versions from the stored field (none when the field is absent)."""
    return json.loads(zlib.decompress(blob).decode("utf-8")) if blob else []


def _seen(doc: Mapping[str, Any]) -> datetime | None:
    # Documents written before versions were kept have only the time they were indexed.
    seen = doc.get(SEEN_FIELD) or doc.get("indexed_at")
    return seen if isinstance(seen, datetime) else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def carry(fields: dict[str, Any], old: Mapping[str, Any] | None, rehash: Rehash) -> dict[str, Any]:
    """The fields to write for a re-read article: ``old``'s history, plus ``old`` itself as
    a version when the new text or title really differs (its ``HASH_FIELD`` does)."""
    if not old:
        return fields
    earlier = unpack(old.get(VERSIONS_FIELD))
    old_hash = old.get(HASH_FIELD) or rehash(old.get("title", ""), old.get("text", ""))
    if old_hash == fields[HASH_FIELD]:
        # Not an edit: the current text was first seen when the stored one was.
        fields[SEEN_FIELD] = _seen(old) or fields[SEEN_FIELD]
    else:
        title, text = old.get("title", ""), old.get("text", "")
        earlier.append({"seen": _iso(_seen(old)), "title": title, "text": text, "hash": old_hash})
    if earlier:
        fields[VERSIONS_FIELD] = pack(earlier)
    else:
        fields.pop(VERSIONS_FIELD, None)
    return fields


def history(doc: Mapping[str, Any]) -> list[Version]:
    """Every version of a stored article, oldest first; the last is the current one."""
    earlier = unpack(doc.get(VERSIONS_FIELD))
    current = {
        "seen": _iso(_seen(doc)),
        "title": doc.get("title", ""),
        "text": doc.get("text", ""),
        "hash": doc.get(HASH_FIELD, ""),
    }
    return [Version(number=n, **v) for n, v in enumerate([*earlier, current], start=1)]


def pick(versions: list[Version], first: int | None, second: int | None) -> tuple[Version, Version]:
    """The versions numbered ``first`` and ``second``, by default the previous and current.

    Raises UnknownVersion for a number the article does not have.
    """
    count = len(versions)
    first = count - 1 if first is None else first
    second = count if second is None else second
    for number in (first, second):
        if not 1 <= number <= count:
            have = "one version" if count == 1 else f"versions 1 to {count}"
            raise UnknownVersion(f"there is no version {number}: the article has {have}")
    return versions[first - 1], versions[second - 1]
