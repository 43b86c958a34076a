"""Fingerprints of an article's text for finding near-copies: normalised word shingles and
their MinHash signature (numpy), so two signatures estimate how much text two articles share.

It lives in the search layer because both the indexing run (grouping) and the article page
(how much text each member shares) compute signatures, and the web layer imports only index/.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

#: Words per shingle: long enough that shared phrases of unrelated articles rarely match.
SHINGLE_WORDS = 4
#: Hash functions in a signature: the Jaccard estimate's error is about 0.5/sqrt(NUM_PERM).
NUM_PERM = 128
#: Articles with fewer words than this after clean-up are never grouped: too little to tell.
MIN_WORDS = 25
#: Words of an article fingerprinted; a copy shares its opening anyway, and huge texts stay cheap.
MAX_WORDS = 20_000
#: A line of fewer words is page furniture (a byline, "Share this article", a caption).
MIN_LINE_WORDS = 5
#: Lines up to this many words that open like furniture are dropped too.
FURNITURE_WORDS = 12
_FURNITURE = re.compile(
    r"(by|share|follow|copyright|©|image|photo|picture|read more|related|advertisement|"
    r"published|updated|last updated|sign up|subscribe|listen|watch|media caption)\b",
    re.IGNORECASE,
)
# Punctuation is deleted, not turned into spaces, so "don't" and "dont" are the same word.
_PUNCTUATION = re.compile(r"[^\w\s]+")

_RNG = np.random.RandomState(20240613)
# Multiply-shift hashing: h(x) = (a*x + b) >> 32 with odd a, a universal family on 64 bits.
_A = (_RNG.randint(0, 2**62, size=NUM_PERM, dtype=np.int64).astype(np.uint64) << np.uint64(1)) | (
    np.uint64(1)
)
_B = _RNG.randint(0, 2**62, size=NUM_PERM, dtype=np.int64).astype(np.uint64)
# Powers of an odd constant that combine a shingle's word hashes into one 64-bit value.
_MIX = np.array([0x9E3779B97F4A7C15**i % 2**64 for i in range(SHINGLE_WORDS)], dtype=np.uint64)
_CHUNK = 4096


def words(text: str) -> list[str]:
    """The words fingerprinted: furniture lines dropped, lowercased, punctuation deleted."""
    lines = [line.split() for line in text.lower().splitlines()]
    kept = [line for line in lines if line and not _is_furniture(line)]
    if not kept:  # an article of short lines only: all of it is the article
        kept = lines
    return _PUNCTUATION.sub("", " ".join(" ".join(line) for line in kept)).split()[:MAX_WORDS]


def _is_furniture(line: list[str]) -> bool:
    if len(line) < MIN_LINE_WORDS:
        return True
    return len(line) <= FURNITURE_WORDS and _FURNITURE.match(" ".join(line)) is not None


def shingles(text: str) -> np.ndarray:
    """The distinct 64-bit hashes of the text's runs of ``SHINGLE_WORDS`` words."""
    found = words(text)
    if len(found) < MIN_WORDS:
        return np.zeros(0, dtype=np.uint64)
    # crc32 is stable across processes (Python's str hash is salted per process).
    hashed = np.array([zlib.crc32(w.encode("utf-8")) for w in found], dtype=np.uint64)
    count = len(found) - SHINGLE_WORDS + 1
    combined = np.zeros(count, dtype=np.uint64)
    for offset in range(SHINGLE_WORDS):
        combined += hashed[offset : offset + count] * _MIX[offset]
    return np.unique(_finalise(combined))


def _finalise(x: np.ndarray) -> np.ndarray:
    # splitmix64's finaliser, so nearby sums spread over all 64 bits before min-hashing.
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def signature(text: str) -> np.ndarray | None:
    """The MinHash signature of the text (``NUM_PERM`` uint32), None when it is too short."""
    hashes = shingles(text)
    if not len(hashes):
        return None
    low = np.full(NUM_PERM, np.iinfo(np.uint32).max, dtype=np.uint64)
    for start in range(0, len(hashes), _CHUNK):
        part = hashes[start : start + _CHUNK]
        values = (_A[:, None] * part[None, :] + _B[:, None]) >> np.uint64(32)
        np.minimum(low, values.min(axis=1), out=low)
    return low.astype(np.uint32)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """The share of text two signatures have in common (estimated Jaccard of their shingles)."""
    return float(np.mean(a == b))
