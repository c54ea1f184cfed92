"""Sliding-window counters kept in the database, so every app process (replica) on one database counts together.

In-process counters (a deque per client) let N replicas behind a load balancer allow N times a limit, and a restart
forgot them. Here an event is one atomic upsert of (key, time bucket) (storage.repos.limits); the window is the
current bucket plus the previous one weighted by the share of it still inside the window (the "sliding window
counter" of rate limiters). `take` counts an attempt *before* the caller acts on it, so concurrent requests cannot
all pass a check that none of them had been counted in yet; `give_back` uncounts one that should not count.
"""
from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from storage.db import StorageError, current_storage, get_storage
from storage.repos import limits as repo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Taken:
    wait_s: float  # 0: within the limit; else seconds until the next attempt would be
    key: str
    bucket: int


def wait_until_under(cur: int, prev: int, frac: float, limit: int, window_s: float) -> float:
    """Seconds until one more event fits: cur (this bucket, the refused attempt included) + prev weighted by the
    part of the previous bucket still in the window must drop to `limit` with the next attempt added."""
    base = cur - 1  # the refused attempt is given back
    if prev > 0 and base + 1 <= limit:  # later in this bucket, as the previous one slides out
        need = 1 - (limit - base - 1) / prev
        return max(1.0, (need - frac) * window_s)
    later = 1 - (limit - 1) / base if base > 0 else 0.0  # in the next bucket, this one weighted
    return max(1.0, ((1 - frac) + max(0.0, later)) * window_s)


class SharedWindow:
    def __init__(self, prefix: str, window_s: float, clock: Callable[[], float] = time.time):
        self.prefix, self.window_s, self.clock = prefix, float(window_s), clock
        self._swept = -1
        self._lock = threading.Lock()

    def take(self, who: str, limit: int) -> Taken:
        """Count one attempt of `who`; `wait_s` > 0 when that goes over `limit` (then call `give_back`)."""
        now = self.clock()
        bucket = math.floor(now / self.window_s)
        frac = now / self.window_s - bucket
        key = self.prefix + who
        if len(key) > 96:  # the column's width: long keys by their hash
            key = self.prefix + hashlib.sha256(who.encode("utf-8", "surrogatepass")).hexdigest()[:40]
        with self._lock:
            sweep, self._swept = self._swept != bucket, bucket

        cur, prev = get_storage().write(lambda s: (repo.add(s, key, bucket), repo.count(s, key, bucket - 1)))
        if sweep:  # its own transaction, best effort: two replicas sweeping at once may deadlock, and lose nothing
            try:
                get_storage().write(lambda s: repo.sweep(s, self.prefix, bucket - 1), retries=0)
            except StorageError as exc:
                log.info("limit_counters sweep skipped: %s", exc)
        if cur + prev * (1 - frac) <= limit:
            return Taken(0.0, key, bucket)
        return Taken(wait_until_under(cur, prev, frac, limit, self.window_s), key, bucket)

    def give_back(self, taken: Taken) -> None:
        get_storage().write(lambda s: repo.add(s, taken.key, taken.bucket, -1))

    def reset(self) -> None:
        """Forget every count under this prefix (tests; an operator after an incident)."""
        st = current_storage()
        if st is not None:
            st.write(lambda s: repo.clear(s, self.prefix))
