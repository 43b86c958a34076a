"""Versions on the BBC corpus: what deciding "is this an edit?" and diffing cost per article,
and what a second version of every article costs a re-run and the index on disk.

Usage: python bench/versions.py [--corpus ../shared/corpora/bbc] [--workers 1] [--articles N]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import time
from pathlib import Path

from app.indexer import Settings, index_paths
from archive.clean import clean_text
from archive.edits import edit_hash
from index.diffing import word_diff
from index.searcher import ArchiveSearcher
from index.store import index_size

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out" / "versions"


def cpu_seconds() -> float:
    """CPU time of this process and its reaped children (not forkserver workers: use
    --workers 1 for a full count)."""
    own, children = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def edited(text: str) -> str:
    """The text with one word of its second paragraph changed, as a correction would."""
    paragraphs = text.split("\n\n")
    at = min(2, len(paragraphs) - 1)
    paragraphs[at] = paragraphs[at].replace(" the ", " a ", 1) + " This sentence was added."
    return "\n\n".join(paragraphs)


def per_article(label: str, texts: list[str], fn) -> None:
    """Print the CPU milliseconds ``fn`` takes per article."""
    started = time.process_time()
    for text in texts:
        fn(text)
    print(f"{label}: {(time.process_time() - started) * 1000 / len(texts):.3f} ms CPU per article")


def timed_run(corpus: Path, index_dir: Path, workers: int) -> str:
    """Index ``corpus`` and return the run's line with its wall and CPU seconds."""
    wall, cpu = time.perf_counter(), cpu_seconds()
    report = index_paths([corpus], index_dir, Settings(workers=workers))
    return (
        f"{report.line()}: {time.perf_counter() - wall:.1f} s wall, "
        f"{cpu_seconds() - cpu:.1f} s CPU, index {index_size(index_dir) / 1e6:.1f} MB"
    )


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared/corpora/bbc")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--articles", type=int, help="Index only every k-th file, about N.")
    args = parser.parse_args()
    files = sorted(args.corpus.rglob("*.txt"))
    files = [f for f in files if not f.name.upper().startswith("README")]
    if args.articles:
        files = files[:: max(1, len(files) // args.articles)]
    texts = [clean_text(f.read_text(encoding="utf-8", errors="replace")) for f in files]
    print(f"corpus: {args.corpus} ({len(texts)} articles)")
    per_article("edit_hash", texts, lambda text: edit_hash("", text))
    per_article("word_diff of a corrected paragraph", texts, lambda t: word_diff(t, edited(t)))

    shutil.rmtree(OUT, ignore_errors=True)
    copy = OUT / "bbc"
    for path in files:
        (copy / path.relative_to(args.corpus)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, copy / path.relative_to(args.corpus))
    index_dir = OUT / "index"
    print("first run:", timed_run(copy, index_dir, args.workers))
    print("unchanged re-run:", timed_run(copy, index_dir, args.workers))
    for path in copy.rglob("*.txt"):
        raw = path.read_text(encoding="utf-8", errors="replace")
        path.write_text(raw.replace("\n", "\n\n", 1).replace(". ", ".   ", 3), encoding="utf-8")
    print("whitespace-only re-run:", timed_run(copy, index_dir, args.workers))
    for path in copy.rglob("*.txt"):
        raw = path.read_text(encoding="utf-8", errors="replace")
        path.write_text(edited(raw), encoding="utf-8")
    print("every article edited:", timed_run(copy, index_dir, args.workers))
    with ArchiveSearcher.open(index_dir) as searcher:
        counts = [len(searcher.versions(doc_id) or []) for doc_id in _ids(searcher)]
    print(f"versions per article: {sum(counts) / len(counts):.2f} (max {max(counts)})")


def _ids(searcher: ArchiveSearcher) -> list[str]:
    return [hit.id for hit in searcher.iter_hits("", snippets=False)]


if __name__ == "__main__":
    main()
