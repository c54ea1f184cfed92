"""Admin checks and request limits shared by every tab.

Admin views and raw exports require ADMIN_TOKEN (compared in constant time) or, when Hugging Face
OAuth is enabled, a username listed in ADMIN_USERS (comma-separated). Without either, `is_admin`
is False and callers return nothing.
"""
from __future__ import annotations

import hmac
import os
import threading
import time
from collections import defaultdict, deque

from backend.config import get_settings


def admin_users() -> set[str]:
    return {u.strip() for u in os.environ.get("ADMIN_USERS", "").split(",") if u.strip()}


def token_matches(given, expected: str | None) -> bool:
    """Constant-time comparison of a client-sent token (any text, any type) with the configured one; never raises
    (hmac.compare_digest refuses non-ASCII str, so both sides are compared as UTF-8 bytes)."""
    if not expected or given is None:
        return False
    try:
        raw = given if isinstance(given, bytes) else str(given).encode("utf-8", "surrogatepass")
    except Exception:  # noqa: BLE001 - an unencodable token is simply wrong
        return False
    return bool(raw) and hmac.compare_digest(raw, expected.encode("utf-8", "surrogatepass"))


def is_admin(token: str | None = None, username: str | None = None) -> bool:
    expected = get_settings().admin_token
    if token_matches(token, expected):
        return True
    return bool(username) and username in admin_users()


class RateLimited(ValueError):
    """Too many requests from one session/IP; the message says when to retry."""


class RateLimiter:
    """Sliding-window limiter keyed by (action, who). In-process; fine for one replica."""

    def __init__(self):
        self._hits: dict[tuple[str, str], deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, action: str, who: str | None, limit: int, window_s: float) -> None:
        if not who or limit <= 0:
            return
        now = time.monotonic()
        with self._lock:
            q = self._hits[(action, who)]
            while q and now - q[0] > window_s:
                q.popleft()
            if len(q) >= limit:
                wait = window_s - (now - q[0])
                raise RateLimited(f"Too many {action} requests; please wait {max(1, int(wait))} s and try again.")
            q.append(now)

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()


limiter = RateLimiter()


def env_limit(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default
