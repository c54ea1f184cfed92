import pytest

from backend import security
from backend.security import RateLimited, RateLimiter, is_admin


def test_admin_token_constant_time_compare(monkeypatch):
    # conftest sets ADMIN_TOKEN=test-admin-token
    assert is_admin("test-admin-token")
    assert not is_admin("test-admin-tokeN")
    assert not is_admin("")
    assert not is_admin(None)


def test_admin_users(monkeypatch):
    monkeypatch.setenv("ADMIN_USERS", "alice, bob")
    assert is_admin(username="alice") and not is_admin(username="mallory")


def test_rate_limiter_window():
    rl = RateLimiter()
    for _ in range(3):
        rl.check("vote", "s1", limit=3, window_s=60)
    with pytest.raises(RateLimited, match="wait"):
        rl.check("vote", "s1", limit=3, window_s=60)
    rl.check("vote", "s2", limit=3, window_s=60)  # other sessions are not affected
    rl.check("vote", None, limit=0, window_s=60)


def test_salted_hash_is_not_the_ip():
    from storage.identity import salted_hash

    h = salted_hash("203.0.113.7")
    assert h and "203" not in h and h == salted_hash("203.0.113.7") and h != salted_hash("203.0.113.8")
    assert salted_hash("x", "judge") != salted_hash("x", "ip")


def test_the_salt_follows_the_settings_it_came_from(monkeypatch):
    """The salt was cached for the life of the process: once anything had hashed an address (the suite's app, with
    IP_SALT=test-salt), a later IP_SALT was ignored after reset_settings(), and this process disagreed with every
    other replica on the same IP_SALT about each per-address count (the full suite's replica tests failed)."""
    import hashlib
    import hmac

    from backend.config import reset_settings
    from storage.identity import salted_hash

    salted_hash("203.0.113.7")  # the salt is now cached
    monkeypatch.setenv("IP_SALT", "replicas-share-this")
    reset_settings()
    try:
        want = hmac.new(b"replicas-share-this", b"ip:203.0.113.7", hashlib.sha256).hexdigest()[:32]
        assert salted_hash("203.0.113.7") == want
    finally:
        monkeypatch.undo()
        reset_settings()
    assert salted_hash("203.0.113.7") != want


def test_throttle_per_session_and_ip(monkeypatch):
    import gradio as gr

    from apps.common import throttle

    security.limiter.reset()
    from backend.identity import COOKIE_NAME, new_session

    a, b = (gr.Request(session_hash="same-hash", headers={"cookie": f"{COOKIE_NAME}={new_session()[1]}"})
            for _ in range(2))
    for _ in range(3):
        throttle(a, "unit-test", per_minute=3)
    with pytest.raises(RateLimited):
        throttle(a, "unit-test", per_minute=3)
    throttle(b, "unit-test", per_minute=3)  # another session has its own budget
    monkeypatch.setenv("RATE_LIMIT_PER_MIN", "0")
    for _ in range(10):
        throttle(a, "unit-test-off")  # 0 disables
    security.limiter.reset()
