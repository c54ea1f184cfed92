"""Admin checks and request limits shared by every tab.

Admin views and raw exports require ADMIN_TOKEN (compared in constant time) or, when Hugging Face
OAuth is enabled, a username listed in ADMIN_USERS (comma-separated). Without either, `is_admin`
is False and callers return nothing. A client (IP hash) that sent ADMIN_TOKEN_TRIES wrong tokens in the last
ADMIN_TRIES_WINDOW_S seconds has every admin check refused until the window passes, the right token included, so a
script cannot guess the token online (the UI layer tells this module who is asking: `set_client_key`); over
ADMIN_TOKEN_TRIES_ALL wrong tokens from all clients together (a script rotating addresses), token checks are refused
for everyone until the window passes. Both counts live in the database (backend.shared_limits), so replicas on one
database share them (their IP hashes agree when they share IP_SALT).
"""
from __future__ import annotations

import hmac
import logging
import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

from backend.config import get_settings, setting
from backend.errors import NotAllowed
from backend.identity import limit_key
from backend.shared_limits import SharedWindow, Taken
from storage.db import StorageError, current_storage
from storage.identity import salted_hash

log = logging.getLogger(__name__)


def admin_users() -> set[str]:
    return set(setting("ADMIN_USERS"))


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


ADMIN_TRIES_WINDOW_S = 600.0
token_guesses = SharedWindow("admin-token:", ADMIN_TRIES_WINDOW_S)  # wrong admin tokens, counted in the database
_client_key: Callable[[], str | None] = lambda: None  # noqa: E731 - replaced by the UI layer


def set_client_key(fn: Callable[[], str | None]) -> None:
    """Who is asking (the client IP of the request being handled), for counting wrong tokens; set by apps/."""
    global _client_key
    _client_key = fn


def _who() -> str | None:
    try:
        ip = _client_key()
    except Exception:  # noqa: BLE001 - outside a request (CLI, tests): no client, no count
        return None
    return ip_key(ip) if ip else None


def _minutes(wait_s: float) -> int:
    return max(1, math.ceil(wait_s / 60))


def _checked(token, expected: str | None) -> bool:
    """token_matches, refused outright while this client is over ADMIN_TOKEN_TRIES or all clients together are over
    ADMIN_TOKEN_TRIES_ALL; a wrong token is counted in both (in the database: every replica sees the same count).

    The attempt is counted before the token is compared, and uncounted when it was refused or right: concurrent
    guesses could all pass a check made before any of them was counted."""
    if not expected or token is None or token == "":
        return False
    who = _who()
    if who is None:  # outside a request (CLI, tests): nobody to count
        return token_matches(token, expected)
    taken: list[Taken] = []
    try:
        for key, limit in ((who, setting("ADMIN_TOKEN_TRIES")), ("all", setting("ADMIN_TOKEN_TRIES_ALL"))):
            if limit <= 0:
                continue
            t = token_guesses.take(key, limit)
            taken.append(t)
            if t.wait_s and key == who:
                raise NotAllowed(f"Too many wrong admin tokens came from your network; admin checks from it are "
                                 f"paused for about {_minutes(t.wait_s)} minute(s).")
            if t.wait_s:
                log.warning("admin token: over ADMIN_TOKEN_TRIES_ALL=%s wrong tokens from all clients in %d min; "
                            "admin checks by token paused", limit, ADMIN_TRIES_WINDOW_S // 60)
                raise NotAllowed(f"Too many wrong admin tokens came from many networks in the last "
                                 f"{int(ADMIN_TRIES_WINDOW_S // 60)} minutes (someone may be guessing it), so admin "
                                 f"checks by token are paused for everyone for about {_minutes(t.wait_s)} minute(s); "
                                 "signing in with an ADMIN_USERS account still works.")
        ok = token_matches(token, expected)
    except NotAllowed:
        for t in taken:
            token_guesses.give_back(t)
        raise
    if ok:
        for t in taken:
            token_guesses.give_back(t)
    return ok


def require_admin(token: str | None, disabled: str) -> None:
    """Refuse unless `token` is ADMIN_TOKEN (constant time); `disabled` is the sentence when no token is set."""
    expected = get_settings().admin_token
    if not expected:
        raise NotAllowed(disabled)
    if not _checked(token, expected):
        raise NotAllowed("Wrong admin token.")


def is_admin(token: str | None = None, username: str | None = None) -> bool:
    """True for ADMIN_TOKEN or an ADMIN_USERS name. A wrong token counts towards ADMIN_TOKEN_TRIES; over it, the
    answer is a refusal (NotAllowed), never True, so the public views cannot serve as a token oracle either."""
    if bool(username) and username in admin_users():
        return True
    return _checked(token, get_settings().admin_token)


class RateLimited(NotAllowed):
    """Too many requests from one session/IP; the message says when to retry."""


class RateLimiter:
    """Sliding-window limiter keyed by (action, who). In-process: SQLite (one process), or PostgreSQL while the database does not answer.

    Keys of sessions and addresses that went quiet are dropped once there are more than SWEEP_KEYS of them: every
    session and IP hash that ever called used to keep its key (and deque) for the life of the process."""

    SWEEP_KEYS = 10_000

    def __init__(self):
        self._hits: dict[tuple[str, str], deque] = defaultdict(deque)
        self._lock = threading.Lock()
        self._longest = 0.0  # the longest window any check used: a key idle for longer holds nothing that counts
        self._swept = 0.0

    def _sweep(self, now: float) -> None:
        for k in [k for k, q in self._hits.items() if not q or now - q[-1] > self._longest]:
            del self._hits[k]

    def check(self, action: str, who: str | None, limit: int, window_s: float) -> None:
        if not who or limit <= 0:
            return
        now = time.monotonic()
        with self._lock:
            self._longest = max(self._longest, window_s)
            if len(self._hits) > self.SWEEP_KEYS and now - self._swept > window_s:  # at most once a window
                self._swept = now
                self._sweep(now)
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
shared_rates = SharedWindow("rate:", 60.0)  # the same limits counted in PostgreSQL, for every replica together


SHARED_PAUSE_S = 30.0
_shared_down_until = [0.0]


def _shared_counts() -> bool:
    """Rate limits are counted in the database when it is PostgreSQL (replicas share it); SQLite serves one process,
    whose memory is the cheaper place (no write per model call). After the database failed to count one, this
    process counts in memory for SHARED_PAUSE_S, so an outage does not add its time-out to every model call."""
    st = current_storage()
    return st is not None and st.kind == "postgresql" and time.monotonic() >= _shared_down_until[0]


def check_rate(action: str, session_id: str, client_ip: str | None, per_minute: int | None = None) -> None:
    """Per-session and per-IP-hash limit for a model call or write; raises RateLimited.

    `per_minute` defaults to RATE_LIMIT_PER_MIN (60 per session per action; an IP hash gets 4× that, since
    several people may share one address). 0 disables. On PostgreSQL the counts are shared by every replica (in
    `limit_counters`); if the database does not answer, this process's own counts stand in."""
    n = per_minute if per_minute is not None else setting("RATE_LIMIT_PER_MIN")
    if n <= 0:
        return
    keys = [("s:" + session_id, n)] + ([(ip_key(client_ip), 4 * n)] if client_ip else [])
    if _shared_counts():
        try:
            for who, lim in keys:
                t = shared_rates.take(f"{action}|{who}", lim)
                if t.wait_s:
                    shared_rates.give_back(t)
                    raise RateLimited(f"Too many {action} requests; please wait {max(1, int(t.wait_s))} s and try "
                                      "again.")
            return
        except StorageError as exc:
            _shared_down_until[0] = time.monotonic() + SHARED_PAUSE_S
            log.warning("shared rate limit unavailable (%s); counting in this process for %g s", exc, SHARED_PAUSE_S)
    for who, lim in keys:
        limiter.check(action, who, lim, 60.0)


UPLOAD_WINDOW_S = 1800.0  # Gradio's cache keeps an upload this long (GRADIO_DELETE_CACHE's default age)


class ByteBudget:
    """Bytes per client in a sliding window (uploads): `take` refuses what would go over the budget."""

    SWEEP_KEYS = 10_000

    def __init__(self):
        self._used: dict[str, deque] = defaultdict(deque)  # who -> (time, bytes)
        self._lock = threading.Lock()

    def _recent(self, who: str, now: float) -> deque:
        q = self._used[who]
        while q and now - q[0][0] > UPLOAD_WINDOW_S:
            q.popleft()
        return q

    def take(self, who: str | None, n: int, budget: int) -> float:
        """Count `n` bytes for `who`; 0 when they fit, else the seconds until enough of the window has passed
        (nothing is counted then)."""
        if not who or budget <= 0:
            return 0.0
        now = time.monotonic()
        with self._lock:
            if len(self._used) > self.SWEEP_KEYS:
                for k in [k for k in self._used if not self._recent(k, now)]:
                    del self._used[k]
            q = self._recent(who, now)
            if sum(b for _, b in q) + n > budget:
                return UPLOAD_WINDOW_S - (now - q[0][0]) if q else UPLOAD_WINDOW_S
            q.append((now, n))
            return 0.0

    def reset(self) -> None:
        with self._lock:
            self._used.clear()


upload_budget = ByteBudget()


def ip_key(client_ip: str | None) -> str:
    """The key a client IP is counted under (salted hash; the raw address is never kept)."""
    return "ip:" + (salted_hash(limit_key(client_ip)) or "?")
