"""A one-line progress report for long runs: draws done, rate and time left, on a terminal only."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _clock(seconds: float) -> str:
    m, s = divmod(round(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}"


class Progress:
    """Rewrites one line of ``stream`` as draws complete; silent when it is not a terminal.

    Parameters
    ----------
    total : int
        Draws of the run.
    done : int
        Draws already finished before this session (resumed chunks); not counted in the rate.
    stream : text stream, optional
        Default ``sys.stderr``.
    enabled : bool, optional
        Force on or off; by default on exactly when ``stream`` is a terminal, so logs, pipes and
        tests stay clean.
    every : float
        Seconds between redraws, at most.
    """

    def __init__(
        self,
        total: int,
        *,
        done: int = 0,
        stream: TextIO | None = None,
        enabled: bool | None = None,
        every: float = 0.25,
    ) -> None:
        self.total, self.done, self._start_done = total, done, done
        self.stream = sys.stderr if stream is None else stream
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = (bool(isatty and isatty())) if enabled is None else enabled
        self.every = every
        self._t0 = time.perf_counter()
        self._last = -float("inf")
        self._drawn = False

    def line(self) -> str:
        """The report, e.g. ``1,200/9,604 draws (12%)  38.5 draws/s  0:03:38 left``."""
        elapsed = time.perf_counter() - self._t0
        new = self.done - self._start_done
        rate = new / elapsed if elapsed > 0 else 0.0
        left = f"{_clock((self.total - self.done) / rate)} left" if rate > 0 else "-:--:-- left"
        pct = 100 * self.done / self.total if self.total else 100.0
        return f"{self.done:,}/{self.total:,} draws ({pct:.0f}%)  {rate:,.1f} draws/s  {left}"

    def update(self, n: int) -> None:
        """Count ``n`` more finished draws."""
        self.done += n
        now = time.perf_counter()
        if self.enabled and (now - self._last >= self.every or self.done >= self.total):
            self._last = now
            self.stream.write("\r\x1b[2K" + self.line())
            self.stream.flush()
            self._drawn = True

    def close(self) -> None:
        """End the line, so later output starts on a fresh one."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
