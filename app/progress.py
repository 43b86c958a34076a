"""How far an indexing run has got: articles done, their rate and the time left."""

from __future__ import annotations

import time
from collections.abc import Callable

#: The rate is told only after this long and this many articles since the first one finished:
#: before that, one slow article (or the set-up before it) made a 54 s run promise 4 hours.
RATE_AFTER_SECONDS = 3.0
RATE_AFTER_ARTICLES = 5


class Progress:
    """Articles done out of ``total`` (0 when unknown), with a rate once it is measured."""

    def __init__(self, total: int = 0, clock: Callable[[], float] = time.monotonic) -> None:
        self.total = total
        self.done = 0
        self._clock = clock
        # When the first article finished, and how many were done then. Measuring from there
        # leaves out the set-up (opening the index, learning sentence boundaries, starting
        # workers), which says nothing about how fast articles go.
        self._first: tuple[float, int] | None = None

    def advance(self, n: int = 1) -> None:
        """Count ``n`` more articles done."""
        self.done += n
        if self._first is None:
            self._first = (self._clock(), self.done)

    @property
    def rate(self) -> float | None:
        """Articles a second, or None while too little has been measured to tell."""
        if self._first is None:
            return None
        since, done_then = self._first
        elapsed = self._clock() - since
        counted = self.done - done_then
        if elapsed < RATE_AFTER_SECONDS or counted < RATE_AFTER_ARTICLES:
            return None
        return counted / elapsed

    @property
    def seconds_left(self) -> float | None:
        """Estimated seconds to the end, or None while the rate (or the total) is unknown."""
        rate = self.rate
        if rate is None or not self.total:
            return None
        return max(0, self.total - self.done) / rate

    def speed(self) -> str:
        """Rate and time left, e.g. ``85 articles/s, ETA 0:00:21``; empty until measured."""
        rate = self.rate
        if rate is None:
            return ""
        left = self.seconds_left
        return f"{rate:.0f} articles/s" + (f", ETA {_clock_time(left)}" if left is not None else "")

    def line(self) -> str:
        """One line for a log, e.g. ``1200 of 3000 articles (40%), 85 articles/s, ETA 0:00:21``."""
        if self.total:
            share = min(100, 100 * self.done // self.total)
            counts = f"{self.done} of {self.total} articles ({share}%)"
        else:
            counts = f"{self.done} articles"
        speed = self.speed()
        return f"{counts}, {speed}" if speed else counts


def _clock_time(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"
