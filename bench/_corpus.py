"""Load the BBC benchmark corpus: one article per file, first line the title."""

from __future__ import annotations

import pathlib
import re
import zlib
from dataclasses import dataclass

DEFAULT_ROOT = pathlib.Path(__file__).resolve().parents[1] / ".." / "shared" / "corpora" / "bbc"


@dataclass(frozen=True)
class Article:
    """One corpus article."""

    rel: str
    title: str
    text: str


def load(root: pathlib.Path = DEFAULT_ROOT, limit: int | None = None) -> list[Article]:
    """Articles under root in a stable order (at most limit of them)."""
    out = []
    for path in sorted(pathlib.Path(root).glob("*/*.txt")):
        raw = path.read_text(encoding="utf-8", errors="replace")
        title, _, body = raw.partition("\n")
        out.append(Article(path.relative_to(root).as_posix(), title.strip(), body.strip()))
    if limit is not None:
        # Spread a limited run over all folders instead of taking only "business".
        out = sorted(out, key=lambda a: zlib.crc32(a.rel.encode()))[:limit]
        out.sort(key=lambda a: a.rel)
    return out


def is_train(article: Article) -> bool:
    """Half the corpus by a hash of the path: trained on, never scored."""
    return zlib.crc32(article.rel.encode()) % 2 == 0


# Reference files run sentences together ("...$10.9bn.For the full-year..."); a space goes back.
_JOINED_RE = re.compile(r"(?<=[.!?\"'”’])(?=[A-Z\"“‘])")


def reference(root: pathlib.Path, article: Article) -> str | None:
    """The reference summary of an article under root (same relative path), if there is one."""
    path = pathlib.Path(root) / article.rel
    if not path.is_file():
        return None
    return _JOINED_RE.sub(" ", path.read_text(encoding="utf-8", errors="replace"))
