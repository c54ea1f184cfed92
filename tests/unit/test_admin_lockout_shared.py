"""The wrong-admin-token lock-out holds across replicas, against address rotation and against concurrent guesses.

It lived in each process's memory: N replicas on one database allowed N × ADMIN_TOKEN_TRIES guesses per address
(a restart forgot them all), an attacker rotating addresses had no ceiling at all, and concurrent guesses all passed
a check made before any of them was counted. Runs on SQLite and PostgreSQL (`db_url`).
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

from backend import security
from backend.config import reset_settings
from backend.errors import NotAllowed
from backend.shared_limits import wait_until_under
from storage.db import reset_storage
from storage.identity import reset_salt

RIGHT = "test-admin-token"


@pytest.fixture
def app_db(db_url, tmp_path, monkeypatch):
    """The process-wide storage on `db_url` (what a replica opens), and a client address we can set."""
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("ADMIN_TOKEN", RIGHT)
    monkeypatch.setenv("IP_SALT", "replicas-share-this")
    reset_settings()
    reset_storage()
    reset_salt()  # the salt is cached per process: both "replicas" must hash addresses with the shared IP_SALT
    ip = {"now": "203.0.113.7"}
    monkeypatch.setattr(security, "_client_key", lambda: ip["now"])
    yield ip
    reset_storage()
    reset_settings()
    reset_salt()


def _other_replica(n_wrong: int, ip: str) -> None:
    """Another app process on the same database sends `n_wrong` wrong tokens from `ip`."""
    code = ("from backend import security\n"
            f"security.set_client_key(lambda: {ip!r})\n"
            f"assert not any(security.is_admin('wrong-{{}}'.format(i)) for i in range({n_wrong}))\n")
    subprocess.run([sys.executable, "-c", code], check=True, env=dict(os.environ), timeout=120,
                   cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def test_wrong_tokens_sent_to_another_replica_count_here(app_db, monkeypatch):
    monkeypatch.setenv("ADMIN_TOKEN_TRIES", "3")
    _other_replica(3, "203.0.113.7")
    with pytest.raises(NotAllowed, match="Too many wrong admin tokens came from your network"):
        security.is_admin(RIGHT)
    app_db["now"] = "203.0.113.8"  # another address is not affected
    assert security.is_admin(RIGHT)


def test_rotating_addresses_meet_a_global_ceiling(app_db, monkeypatch):
    monkeypatch.setenv("ADMIN_TOKEN_TRIES", "10")
    monkeypatch.setenv("ADMIN_TOKEN_TRIES_ALL", "5")
    monkeypatch.setenv("ADMIN_USERS", "alice")
    for i in range(5):
        app_db["now"] = f"198.51.100.{i}"
        assert not security.is_admin(f"guess-{i}")
    app_db["now"] = "198.51.100.99"
    with pytest.raises(NotAllowed, match="from many networks .* paused for everyone .* ADMIN_USERS"):
        security.is_admin("guess-6")
    app_db["now"] = "192.0.2.1"  # the admin, from a clean address, is told why
    with pytest.raises(NotAllowed, match="from many networks"):
        security.is_admin(RIGHT)
    assert security.is_admin(None, username="alice")  # sign-in is not a token guess
    later = time.time() + 2 * security.ADMIN_TRIES_WINDOW_S
    monkeypatch.setattr(security.token_guesses, "clock", lambda: later)
    assert security.is_admin(RIGHT)


def test_concurrent_guesses_cannot_all_pass_the_check(app_db, monkeypatch):
    monkeypatch.setenv("ADMIN_TOKEN_TRIES", "5")
    monkeypatch.setenv("ADMIN_TOKEN_TRIES_ALL", "0")
    compared = []
    real = security.token_matches

    def slow_compare(given, expected):
        compared.append(given)
        time.sleep(0.05)  # a request in flight: the others arrive meanwhile
        return real(given, expected)

    monkeypatch.setattr(security, "token_matches", slow_compare)
    security.is_admin(RIGHT)  # opens the storage before the race
    compared.clear()
    outcomes: list[str] = []

    def guess(i):
        try:
            outcomes.append("no" if not security.is_admin(f"guess-{i}") else "yes")
        except NotAllowed:
            outcomes.append("refused")

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(outcomes) == 20 and "yes" not in outcomes
    assert len(compared) <= 5, f"{len(compared)} guesses were compared with the token (limit 5)"


def test_the_right_token_does_not_use_up_tries(app_db, monkeypatch):
    monkeypatch.setenv("ADMIN_TOKEN_TRIES", "3")
    monkeypatch.setenv("ADMIN_TOKEN_TRIES_ALL", "3")
    assert all(security.is_admin(RIGHT) for _ in range(12))
    assert not security.is_admin("wrong")


def test_the_pause_it_announces_is_the_pause_it_keeps(app_db, monkeypatch):
    monkeypatch.setenv("ADMIN_TOKEN_TRIES", "3")
    monkeypatch.setenv("ADMIN_TOKEN_TRIES_ALL", "0")
    w = security.ADMIN_TRIES_WINDOW_S
    t0 = (time.time() // w + 0.5) * w  # the middle of a bucket
    now = {"t": t0}
    monkeypatch.setattr(security.token_guesses, "clock", lambda: now["t"])
    for i in range(3):
        assert not security.is_admin(f"guess-{i}")
    with pytest.raises(NotAllowed) as refused:
        security.is_admin(RIGHT)
    wait = wait_until_under(4, 0, 0.5, 3, w)
    assert f"about {int(-(-wait // 60))} minute(s)" in str(refused.value)
    now["t"] = t0 + wait - 5
    with pytest.raises(NotAllowed):
        security.is_admin(RIGHT)
    now["t"] = t0 + wait + 1
    assert security.is_admin(RIGHT)


def test_the_migration_matches_the_table(app_db):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from storage.db import get_storage
    from storage.models import Base

    with get_storage().engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert not [d for d in diffs if "limit_counters" in repr(d)], diffs


def test_addresses_of_one_ipv6_64_are_one_client(app_db, monkeypatch):
    """A host is handed a whole IPv6 /64: counting single addresses let it rotate through 2^64 of them."""
    monkeypatch.setenv("ADMIN_TOKEN_TRIES", "3")
    monkeypatch.setenv("ADMIN_TOKEN_TRIES_ALL", "0")
    for i in range(3):
        app_db["now"] = f"2001:db8:0:1::{i + 1:x}"
        assert not security.is_admin(f"guess-{i}")
    app_db["now"] = "2001:db8:0:1:ffff::9"
    with pytest.raises(NotAllowed, match="from your network"):
        security.is_admin(RIGHT)
    app_db["now"] = "2001:db8:0:2::1"  # the next /64 is someone else
    assert security.is_admin(RIGHT)


def test_rate_limits_and_session_mints_count_an_ipv6_64_once(monkeypatch):
    from backend.identity import mint_limiter
    from backend.security import RateLimited, check_rate, limiter

    limiter.reset()
    with pytest.raises(RateLimited):
        for i in range(9):  # 2 per session, 8 per address (4×): a new session and address each time
            check_rate("job:test-v6", f"sess-{i}", f"2001:db8:0:7::{i + 1:x}", 2)
    limiter.reset()
    monkeypatch.setenv("SESSION_MINTS_PER_IP_HOUR", "2")
    assert [mint_limiter.allow(f"2001:db8:0:8::{i + 1:x}") for i in range(3)] == [True, True, False]
