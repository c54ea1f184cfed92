"""Rate-limit state is bounded (review14): every session and IP hash that ever called kept its key for the life of
the process, and the session-mint limiter dropped only addresses whose deque was empty (never, once minted)."""
from __future__ import annotations

import pytest

from backend import identity, security
from backend.security import RateLimited, RateLimiter


def test_quiet_sessions_are_dropped(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(security.time, "monotonic", lambda: clock[0])
    lim = RateLimiter()
    lim.SWEEP_KEYS = 100
    for i in range(500):
        lim.check("inspect", f"s:{i}", 60, 60.0)
    assert len(lim._hits) == 500
    clock[0] += 61  # all of them went quiet for longer than the window
    lim.check("inspect", "s:new", 60, 60.0)
    assert len(lim._hits) == 1
    # an active key keeps counting across a sweep
    for _ in range(2):
        lim.check("battle", "s:busy", 2, 60.0)
    for i in range(200):
        lim.check("inspect", f"s:x{i}", 60, 60.0)
    clock[0] += 30
    with pytest.raises(RateLimited):
        lim.check("battle", "s:busy", 2, 60.0)


def test_mint_limiter_drops_addresses_quiet_for_an_hour(monkeypatch):
    lim = identity.MintLimiter()
    for i in range(100_001):
        lim.allow(f"10.{i // 65536}.{i // 256 % 256}.{i % 256}", now=0.0)
    assert len(lim._hits) == 100_001  # all minted at t=0: none quiet yet
    lim.allow("192.0.2.1", now=3601.0)
    assert len(lim._hits) == 1
