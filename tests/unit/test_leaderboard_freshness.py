"""A vote is never followed by a recompute of the ratings (the leaderboard is cached for ARENA_LEADERBOARD_TTL_S);
the vote's answer says from when the leaderboard includes it, and that time holds (backend/arena/leaderboard_cache)."""
from datetime import datetime

import pytest

import storage.db as db
from apps import arena as arena_tab
from backend.arena import service
from backend.arena.leaderboard_cache import LeaderboardCache
from storage.models import utcnow
from storage.repos.sessions import touch_session
from tests.unit.arena_rows import insert_live_battle


@pytest.fixture
def clock(tmp_path, storage_for, monkeypatch):
    monkeypatch.setenv("ARENA_MODELS", "center,random")
    monkeypatch.setenv("ARENA_MIN_DWELL_S", "0")
    monkeypatch.setenv("ARENA_LEADERBOARD_TTL_S", "30")
    st = storage_for(f"sqlite:///{tmp_path / 'fresh.db'}")
    monkeypatch.setattr(db, "_storage", st)
    st.write(lambda s: touch_session(s, "voter"))
    for bid in ("a" * 32, "b" * 32, "c" * 32):
        insert_live_battle(st, bid)
    now = [1000.0]
    monkeypatch.setattr(service, "_cache", LeaderboardCache(clock=lambda: now[0]))
    return now


def _seconds_until(stamp: str) -> float:
    return (datetime.fromisoformat(stamp.removesuffix("Z")) - utcnow()).total_seconds()


def test_a_vote_says_when_the_cached_leaderboard_includes_it(clock):
    first = service.vote("a" * 32, "A", session_id="voter")
    assert first["counted"] and first["leaderboard_from"] is None  # nothing cached yet: the next view has it
    assert service.leaderboard_report("bt", None)["n_battles"] == 1  # computed (and cached) at t = 1000
    clock[0] = 1010.0
    r = service.vote("b" * 32, "B", session_id="voter")
    assert r["counted"] and r["leaderboard_ttl_s"] == 30
    assert 19 <= _seconds_until(r["leaderboard_from"]) <= 21  # the cached table lives until t = 1030
    assert service.leaderboard_report("bt", None)["n_battles"] == 1  # why the voter needs the sentence
    clock[0] = 1029.9
    assert service.leaderboard_report("bt", "overall")["n_battles"] == 1
    clock[0] = 1030.0  # the promised moment: every table includes the vote
    assert service.leaderboard_report("bt", None)["n_battles"] == 2
    assert service.leaderboard_report("elo", None)["n_battles"] == 2


def test_a_table_computing_while_the_vote_lands_is_covered(clock):
    """A computation that started before the vote and is stored after it is as old as its start."""
    started = service._cache.start()  # t = 1000, still computing
    clock[0] = 1005.0
    r = service.vote("a" * 32, "tie", session_id="voter")
    service._cache.put(("bt", None, 100, 0), started, {"n_battles": 0})
    assert 24 <= _seconds_until(r["leaderboard_from"]) <= 26
    clock[0] = 1030.0
    assert service.leaderboard_report("bt", None)["n_battles"] == 1


def test_the_confirmation_names_the_time():
    base = {"winner": "model_a", "model_a": "center", "model_b": "random", "label_a": "Center",
            "label_b": "Random", "latency_a": 0.1, "latency_b": 0.2, "counted": True, "leaderboard_ttl_s": 30.0}
    md = arena_tab._reveal_md(dict(base, leaderboard_from="2026-11-30T17:05:42Z"))
    assert "leaderboard includes it from **17:05:42 UTC**" in md and "every 30 s" in md
    assert "includes it from now on" in arena_tab._reveal_md(dict(base, leaderboard_from=None))
    not_counted = arena_tab._reveal_md(dict(base, counted=False, not_counted_because="not signed in"))
    assert "does not count" in not_counted and "leaderboard" not in not_counted
