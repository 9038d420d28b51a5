"""Per-person rates of the expensive work, counted in this process (application.ports.
RateLimits) with pyrate-limiter's in-memory buckets: a sliding minute per person and work."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from pyrate_limiter import Decision, Duration, InMemoryBucket, Rate, RateItem


class BucketRates:
    """``per_minute``: how many of each work a person may ask for in any minute (0, or a
    work not named: as often as they like)."""

    def __init__(self, per_minute: Mapping[str, int],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._rates = {work: [Rate(n, Duration.MINUTE)] for work, n in per_minute.items() if n}
        self._clock = clock
        self._buckets: dict[tuple[str, str], InMemoryBucket] = {}
        self._lock = threading.Lock()

    def take(self, who: str, work: str) -> float:
        rates = self._rates.get(work)
        if rates is None:
            return 0.0
        with self._lock:
            bucket = self._buckets.setdefault((who, work), InMemoryBucket(rates))
        now = int(self._clock() * 1000)
        bucket.leak(now)
        decision = bucket.put_decision(RateItem(work, now))
        assert isinstance(decision, Decision)  # an in-memory bucket decides at once
        if decision.allowed:
            return 0.0
        return max(decision.retry_after_ms or 0, 1) / 1000
