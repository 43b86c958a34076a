"""Stories: how well near-copies are grouped, and what grouping costs per article.

Takes 500 BBC articles, makes a near-copy of 200 of them (a paragraph dropped or two
swapped, a new title, a byline and "Share this article" furniture, punctuation stripped from
a third) and leaves 300 untouched; groups the 700 with the indexer's code (clean-up,
``index.shingles.signature`` as the workers run it, ``index.stories.StoryState.add`` as the
writer does) and prints pairwise precision and recall against the planted pairs, and the
CPU milliseconds per article of the signature and of placing it. Then groups the whole
plain BBC corpus and shows how many groups of near-copies it holds, and three of them.

    .venv/bin/python bench/stories.py [--corpus ../shared/corpora/bbc] [--repeat 3]
"""

from __future__ import annotations

import argparse
import itertools
import random
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archive.clean import clean_text  # noqa: E402
from bench._corpus import DEFAULT_ROOT, Article, load  # noqa: E402
from index.shingles import signature  # noqa: E402
from index.stories import StoryState  # noqa: E402

ORIGINALS = 500
COPIED = 200
BYLINES = ["By Jane Moss, Press Association", "By Tom Reid\nReuters", "From our wire service"]
FURNITURE = ["Share this article", "Follow us on Twitter", "Share this article\nRead more"]


def near_copy(article: Article, rng: random.Random) -> tuple[str, str]:
    """A syndicated copy: re-titled, re-furnished, a paragraph dropped or moved."""
    paragraphs = [p for p in article.text.split("\n\n") if p.strip()]
    if len(paragraphs) >= 4 and rng.random() < 0.5:
        del paragraphs[rng.randrange(1, len(paragraphs))]
    elif len(paragraphs) >= 3:
        i = rng.randrange(1, len(paragraphs) - 1)
        paragraphs[i], paragraphs[i + 1] = paragraphs[i + 1], paragraphs[i]
    text = "\n\n".join([rng.choice(BYLINES), *paragraphs, rng.choice(FURNITURE)])
    if rng.random() < 1 / 3:
        text = re.sub(r"[^\w\s]", "", text)  # scrapers that lose punctuation
    title = rng.choice(["UPDATE: ", "", "Wire: "]) + " ".join(reversed(article.title.split()))
    return title, text


def test_set(articles: list[Article], seed: int = 13) -> tuple[list[tuple[str, str, str]], set]:
    """(id, title, text) of 500 originals and 200 copies, and the planted pairs."""
    rng = random.Random(seed)
    originals = rng.sample(articles, ORIGINALS)
    items = [(a.rel, a.title, a.text) for a in originals]
    pairs = set()
    for article in originals[:COPIED]:
        title, text = near_copy(article, rng)
        copy_id = "copy/" + article.rel
        items.append((copy_id, title, text))
        pairs.add(frozenset((article.rel, copy_id)))
    rng.shuffle(items)
    return items, pairs


def group(items: list[tuple[str, str, str]]) -> tuple[dict[str, str], float, float]:
    """Each item's story, and CPU ms per article to sign and to place it."""
    texts = [(doc_id, clean_text(text)) for doc_id, _title, text in items]
    started = time.process_time()
    signatures = [(doc_id, signature(text)) for doc_id, text in texts]
    signed = time.process_time()
    state = StoryState()
    for doc_id, sig in signatures:
        state.add(doc_id, sig, "~")
    placed = time.process_time()
    per = 1000 / len(items)
    return state.stories(), (signed - started) * per, (placed - signed) * per


def pairs_of(stories: dict[str, str]) -> set:
    """Every pair of items grouped in the same story."""
    members: dict[str, list[str]] = {}
    for doc_id, story in stories.items():
        members.setdefault(story, []).append(doc_id)
    return {frozenset(p) for m in members.values() for p in itertools.combinations(m, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--repeat", type=int, default=3, help="timing runs (median printed)")
    args = parser.parse_args()
    articles = load(args.corpus)
    items, planted = test_set(articles)
    # Originals that are real near-copies of each other (the BBC corpus has some, found
    # below) are one story, and so are their planted copies.
    plain = group([(a.rel, a.title, a.text) for a in articles])[0]
    story_of = {doc_id: plain[doc_id.removeprefix("copy/")] for doc_id, _, _ in items}
    truth = pairs_of(story_of)
    runs = [group(items) for _ in range(args.repeat)]
    found = pairs_of(runs[0][0])
    hits = len(found & truth)
    precision = hits / len(found) if found else 1.0
    recall = hits / len(truth) if truth else 1.0
    sign_ms = statistics.median(r[1] for r in runs)
    place_ms = statistics.median(r[2] for r in runs)
    print(f"test set: {len(items)} articles ({ORIGINALS} BBC, {COPIED} near-copies)")
    print(f"true pairs: {len(truth)} ({len(planted)} planted copies, the rest real BBC copies)")
    print(f"grouped pairs: {len(found)}, correct {hits}")
    print(f"pairwise precision {precision:.3f}, recall {recall:.3f}")
    print(
        f"CPU ms per article: signature {sign_ms:.3f}, LSH placement {place_ms:.3f}, "
        f"total {sign_ms + place_ms:.3f} (median of {args.repeat})"
    )
    missed = sorted(truth - found, key=sorted)[:3]
    wrong = sorted(found - truth, key=sorted)[:3]
    if missed:
        print("missed, e.g.:", ", ".join(" + ".join(sorted(p)) for p in missed))
    if wrong:
        print("wrongly grouped, e.g.:", ", ".join(" + ".join(sorted(p)) for p in wrong))

    members: dict[str, list[str]] = {}
    for doc_id, story in plain.items():
        members.setdefault(story, []).append(doc_id)
    groups = sorted((sorted(m) for m in members.values() if len(m) > 1), key=lambda m: m[0])
    titles = {a.rel: a.title for a in articles}
    print(
        f"\nplain BBC corpus: {len(articles)} articles, {len(groups)} groups of near-copies "
        f"holding {sum(len(g) for g in groups)} articles"
    )
    for members_of in groups[:: max(1, len(groups) // 3)][:3]:
        print("  " + "; ".join(f"{m} “{titles[m]}”" for m in members_of))


if __name__ == "__main__":
    main()
