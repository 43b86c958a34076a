"""Load the BBC benchmark corpus (one article per file, first line the title), and write
larger corpora made from it."""

from __future__ import annotations

import datetime
import json
import pathlib
import random
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


#: Made-up outlets and bylines, so source and author facets have values to count.
SOURCES = ("BBC", "Daily Courier", "Evening Post", "Wire Service", "Gazette")
AUTHORS = tuple(
    f"{first} {last}"
    for first in ("Anna", "Ben", "Chloe", "David", "Elif", "Femi", "Grace", "Hugo")
    for last in ("Ahmed", "Brown", "Clarke", "Evans", "Khan")
)
#: Dates are spread over these years, so date sorting, year facets and timelines have work.
FIRST_YEAR, LAST_YEAR = 2015, 2024


def perturbed(text: str, rng: random.Random, typo_every: int = 20) -> str:
    """The text with its paragraphs shuffled and one word in ``typo_every`` misspelt (new
    index terms)."""
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    rng.shuffle(paragraphs)
    words = "\n\n".join(paragraphs).split(" ")
    for i in rng.sample(range(len(words)), len(words) // typo_every):
        word = words[i]
        if len(word) > 3 and word.isalpha():
            j = rng.randrange(1, len(word) - 2)
            words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
    return " ".join(words)


def write_scaled(
    target: pathlib.Path,
    size: int,
    seed: int,
    root: pathlib.Path = DEFAULT_ROOT,
    typo_every: int = 100,
) -> pathlib.Path:
    """Write ``size`` articles made from the corpus at ``root`` to ``target`` as JSON Lines.

    Copy k of article a has the id ``{a}-{k}``; copies after the first have their text
    perturbed. One misspelling in 100 words grows the vocabulary about as real news does
    (Heaps' law: some 250,000 words at 100,000 articles, against 29,000 for BBC's 2,225).
    Dates are spread evenly over 2015-2024; sources and authors come from small lists.
    """
    articles = load(root)
    rng = random.Random(seed)
    first = datetime.date(FIRST_YEAR, 1, 1).toordinal()
    days = datetime.date(LAST_YEAR, 12, 31).toordinal() - first + 1
    with pathlib.Path(target).open("w", encoding="utf-8") as out:
        for n in range(size):
            copy, index = divmod(n, len(articles))
            base = articles[index]
            record = {
                "id": f"{base.rel.removesuffix('.txt')}-{copy}",
                "title": base.title,
                "text": base.text if copy == 0 else perturbed(base.text, rng, typo_every),
                "category": base.rel.split("/")[0],
                "source": rng.choice(SOURCES),
                "author": rng.choice(AUTHORS),
                "date": datetime.date.fromordinal(first + rng.randrange(days)).isoformat(),
            }
            out.write(json.dumps(record) + "\n")
    return pathlib.Path(target)
