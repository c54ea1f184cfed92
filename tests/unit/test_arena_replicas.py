"""Two app processes on one PostgreSQL, as two independent storages (engines, pools, caches) in one test:
the one-vote-per-battle rule and the battle rate limit hold across them, because the database decides both."""
import threading

import pytest
from PIL import Image

import storage.db as db
from backend.arena import service
from storage.repos import arena as repo
from storage.repos.sessions import touch_session

pytestmark = pytest.mark.postgres
IMG = Image.new("RGB", (160, 120), (40, 90, 160))


@pytest.fixture
def replicas(pg_url, storage_for, monkeypatch):
    """Two storages on the same database; `use(i)` makes replica i the one the service writes through."""
    monkeypatch.setenv("ARENA_MODELS", "center,random")
    monkeypatch.setenv("ARENA_MIN_DWELL_S", "0")
    stores = [storage_for(pg_url), storage_for(pg_url)]
    monkeypatch.setattr(db, "_storage", stores[0])
    return stores


def test_one_vote_per_battle_across_replicas(replicas):
    a, b = replicas
    a.write(lambda s: touch_session(s, "user-1"))
    battles = []
    for i in range(20):
        bid = f"race{i:02d}" + "0" * 26
        a.write(lambda s, bid=bid: repo.insert_battle(s, id=bid, session_id="user-1", model_a="center",
                                                      model_b="random", swapped=False, anony=True, parse_ok_a=True,
                                                      parse_ok_b=True, invalid=False, source="live"))
        battles.append(bid)
    outcomes = {bid: [] for bid in battles}
    gate = threading.Barrier(2)

    def voter(store, winner):
        gate.wait()
        for bid in battles:
            try:
                store.write(lambda s, bid=bid: repo.insert_vote(s, bid, session_id="user-1", judge_id="j",
                                                                winner=winner, dwell_s=1.0, counted=True))
                outcomes[bid].append(winner)
            except repo.VoteRejected as exc:
                assert "already has a vote" in str(exc)

    threads = [threading.Thread(target=voter, args=(st, w)) for st, w in ((a, "model_a"), (b, "model_b"))]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert all(len(v) == 1 for v in outcomes.values()), outcomes  # exactly one replica won each battle
    stored = a.read(lambda s: {r["id"]: r["winner"] for r in repo.voted_battles(s)})
    assert stored == {bid: v[0] for bid, v in outcomes.items()}


def test_rate_limit_counts_battles_from_every_replica(replicas, monkeypatch):
    monkeypatch.setenv("ARENA_RATE_LIMIT", "3")
    for st in replicas:
        st.write(lambda s: touch_session(s, "user-2"))
    started = []
    for i in range(3):  # alternate replicas: 2 battles on one, 1 on the other
        monkeypatch.setattr(db, "_storage", replicas[i % 2])
        started.append(service.start_battle(IMG, "Point to the sky", session_id="user-2", seed=i)["battle_id"])
    for st in replicas:  # the fourth is refused whichever replica gets it
        monkeypatch.setattr(db, "_storage", st)
        with pytest.raises(PermissionError, match="Too many battles"):
            service.start_battle(IMG, "Point to the sky", session_id="user-2", seed=9)
    # a vote started on one replica can be cast through the other (same session), once
    monkeypatch.setattr(db, "_storage", replicas[1])
    assert service.vote(started[0], "A", session_id="user-2")["winner"] == "model_a"
    monkeypatch.setattr(db, "_storage", replicas[0])
    with pytest.raises(repo.VoteRejected, match="already has a vote"):
        service.vote(started[0], "B", session_id="user-2")
