"""An article's versions on its page: which two to compare, and the words that changed."""

from __future__ import annotations

from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict

from index.diffing import Segment, for_display, word_diff
from index.errors import UnknownVersion
from index.settings import MAX_SHOWN_CHARS
from index.versions import Version, pick


@dataclass
class Changes:
    """The versions compared on an article page and their differences, ready to mark."""

    old: Version
    new: Version
    title: list[Segment]
    text: list[Segment]
    notes: list[str] = field(default_factory=list)

    @property
    def title_changed(self) -> bool:
        """Whether the title differs between the two versions."""
        return any(s.kind != "equal" for s in self.title)


def compare(versions: list[Version], args: MultiDict[str, str]) -> Changes | None:
    """The changes between versions ``v1`` and ``v2`` of the request (by default the
    previous and the current one); None for an article with one version."""
    if len(versions) < 2:
        return None
    notes: list[str] = []
    try:
        old, new = pick(versions, _number(args.get("v1"), notes), _number(args.get("v2"), notes))
    except UnknownVersion as exc:
        notes.append(f"{str(exc).capitalize()}; showing the last change.")
        old, new = pick(versions, None, None)
    if max(len(old.text), len(new.text)) > MAX_SHOWN_CHARS:
        # The page shows this much of the text, so its diff covers as much.
        notes.append(f"Only the first {MAX_SHOWN_CHARS:,} characters are compared.")
    return Changes(
        old,
        new,
        for_display(word_diff(old.title, new.title)),
        for_display(word_diff(old.text[:MAX_SHOWN_CHARS], new.text[:MAX_SHOWN_CHARS])),
        notes,
    )


def _number(raw: str | None, notes: list[str]) -> int | None:
    if not raw:
        return None
    # Checked by length first: int() of a huge digit string is slow.
    if raw.isascii() and raw.isdigit() and len(raw) <= 9:
        return int(raw)
    notes.append(f"{raw[:20]!r} is not a version number.")
    return None
