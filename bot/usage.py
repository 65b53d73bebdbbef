"""Answers since start: counts and latency percentiles, for /kb status (kept in memory, nothing written)."""

from __future__ import annotations

import collections
import time

LATENCY_WINDOW = 10_000  # the latest answers the percentiles are taken over


class Usage:
    """Counts of answers and abstentions, and the latency of the latest LATENCY_WINDOW answers."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.answers = 0
        self.abstentions = 0
        self._latencies_ms: collections.deque[float] = collections.deque(maxlen=LATENCY_WINDOW)

    def record(self, latency_ms: float, *, abstained: bool) -> None:
        self.answers += 1
        self.abstentions += abstained
        self._latencies_ms.append(latency_ms)

    @property
    def uptime_s(self) -> float:
        return time.monotonic() - self.started

    def percentile(self, share: float) -> float | None:
        """The latency (ms) below which share of the latest answers fell; None before the first answer."""
        if not self._latencies_ms:
            return None
        ordered = sorted(self._latencies_ms)
        return ordered[min(int(share * len(ordered)), len(ordered) - 1)]
