"""The leaderboard's short-lived cache, and when a vote stored now shows in every cached table.

A recompute is a GROUP BY over every counted vote plus the Bradley-Terry bootstrap, or online Elo over every vote in
order: many times dearer than the vote itself (bench/leaderboard_recompute.py, `bt_recompute_per_vote` in
bench/results/leaderboard_recompute.jsonl), so tables are cached for `ARENA_LEADERBOARD_TTL_S` (30 s) and a vote
never triggers one. A voter who then opened the Leaderboard saw the old counts without a word; `includes_from`
tells the vote confirmation when the tables will include that vote: every table computed from now on does, and
every table whose computation started before expires at the latest `ttl` after the newest such start.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Hashable
from datetime import timedelta
from typing import Any

from storage.models import utcnow


class LeaderboardCache:
    """(method, category, bootstrap, seed) -> report, each entry stamped with the moment its computation began."""

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[Hashable, tuple[float, Any]] = {}
        self._newest_start: float | None = None

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def get(self, key: Hashable, ttl_s: float) -> Any | None:
        """The cached report while younger than `ttl_s`, else None."""
        with self._lock:
            hit = self._entries.get(key)
        return hit[1] if hit and self._clock() - hit[0] < ttl_s else None

    def start(self) -> float:
        """Call before computing a report; pass the returned stamp to `put`."""
        now = self._clock()
        with self._lock:
            self._newest_start = now if self._newest_start is None else max(self._newest_start, now)
        return now

    def put(self, key: Hashable, started: float, report: Any) -> None:
        with self._lock:
            self._entries[key] = (started, report)

    def clear(self) -> None:
        """Drop every report (an import or exclusion changed the votes); stamps stay, computations may be running."""
        with self._lock:
            self._entries.clear()

    def includes_from(self, ttl_s: float) -> str | None:
        """UTC time ("2026-11-30T17:05:42Z", rounded up to the second) from which every table includes a vote stored
        before this call; None when any table shown from now on includes it."""
        with self._lock:
            newest = self._newest_start
        left = None if newest is None else newest + ttl_s - self._clock()
        if left is None or left <= 0:
            return None
        at = utcnow() + timedelta(seconds=left)
        if at.microsecond:
            at = at.replace(microsecond=0) + timedelta(seconds=1)
        return at.isoformat(timespec="seconds") + "Z"
