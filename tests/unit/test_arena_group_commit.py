"""Group commit of votes (storage/group_commit.py, service.vote): concurrent votes share transactions, yet every
caller gets its own answer, one vote per battle holds in a batch, across batches and across replicas."""
import threading
import time

import pytest
from sqlalchemy.exc import IntegrityError

import storage.db as db
from backend.arena import service
from storage.group_commit import GroupCommit, _Slot
from storage.repos import arena as repo
from storage.repos.sessions import touch_session
from tests.unit.arena_rows import insert_live_battle


@pytest.fixture
def store(db_url, storage_for, monkeypatch):
    monkeypatch.setenv("ARENA_MODELS", "center,random")
    monkeypatch.setenv("ARENA_MIN_DWELL_S", "0")
    st = storage_for(db_url)
    monkeypatch.setattr(db, "_storage", st)
    return st


def _race(calls):
    """Run the calls at once; -> list of (result or exception) in call order."""
    out: list = [None] * len(calls)
    gate = threading.Barrier(len(calls))

    def run(i, fn):
        gate.wait()
        try:
            out[i] = fn()
        except Exception as exc:  # noqa: BLE001 - the outcome under test
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    return out


def test_concurrent_votes_on_one_battle_store_exactly_one(store):
    store.write(lambda s: touch_session(s, "u1"))
    insert_live_battle(store, "b" * 32, "u1")
    choices = ["A", "B", "tie", "bothbad"] * 4
    out = _race([lambda c=c: service.vote("b" * 32, c, session_id="u1") for c in choices])
    won = [r for r in out if isinstance(r, dict)]
    lost = [r for r in out if not isinstance(r, dict)]
    assert len(won) == 1 and len(lost) == 15
    assert all(isinstance(e, repo.VoteRejected) and "already has a vote" in str(e) for e in lost)
    stored = store.read(lambda s: repo.voted_battles(s))
    assert [r["winner"] for r in stored] == [won[0]["winner"]]


def test_each_vote_in_a_batch_gets_its_own_answer(store):
    for sid in ("u1", "u2"):
        store.write(lambda s, sid=sid: touch_session(s, sid))
    insert_live_battle(store, "x1", "u1")
    insert_live_battle(store, "x2", "u1")
    insert_live_battle(store, "x3", "u2")
    reqs = [service._VoteRequest("x1", "model_a", "u1", None),
            service._VoteRequest("nope", "tie", "u1", None),        # no such battle
            service._VoteRequest("x3", "model_b", "u1", None),      # someone else's battle
            service._VoteRequest("x2", "tie", "u1", None),
            service._VoteRequest("x1", "model_b", "u1", None)]      # second vote on x1 in the same batch
    out = store.write(lambda s: service._vote_batch(s, reqs))
    assert out[0][0]["model_a"] == "center" and out[3][1] is True
    assert isinstance(out[1], repo.VoteRejected) and "does not exist" in str(out[1])
    assert isinstance(out[2], repo.VoteRejected) and "Only the person" in str(out[2])
    assert isinstance(out[4], repo.VoteRejected) and "already has a vote" in str(out[4])
    stored = store.read(lambda s: {r["id"]: r["winner"] for r in repo.voted_battles(s)})
    assert stored == {"x1": "model_a", "x2": "tie"}
    with pytest.raises(repo.VoteRejected, match="already has a vote"):  # and across batches
        service.vote("x2", "A", session_id="u1")


def test_pending_writes_share_one_transaction(tmp_path, storage_for):
    st = storage_for(f"sqlite:///{tmp_path / 'g.db'}")
    seen: list[list[int]] = []
    g: GroupCommit = GroupCommit(st, lambda s, items: fn(s, items))

    def fn(_s, items):
        if not seen:  # the first batch holds the line until the ten others are queued behind it
            t0 = time.monotonic()
            while len(g._pending) < 10 and time.monotonic() - t0 < 10:
                time.sleep(0.005)
        seen.append(list(items))
        return [ValueError(f"bad {i}") if i == 7 else i * 2 for i in items]

    first = threading.Thread(target=lambda: g.submit(0))
    first.start()
    while not g._leading:
        time.sleep(0.001)
    out = _race([lambda i=i: g.submit(i) for i in range(1, 11)])
    first.join()
    assert len(seen) == 2 and sorted(seen[1]) == list(range(1, 11)) and (g.batches, g.items) == (2, 11)
    assert isinstance(out[6], ValueError) and str(out[6]) == "bad 7"  # only its own caller sees it
    assert [o for i, o in enumerate(out) if i != 6] == [2 * i for i in range(1, 11) if i != 7]


def test_failed_batch_reaches_every_caller_and_integrity_errors_retry_alone(tmp_path, storage_for):
    st = storage_for(f"sqlite:///{tmp_path / 'g.db'}")
    calls: list[list] = []

    def fn(_s, items):
        calls.append(list(items))
        if "boom" in items:
            raise RuntimeError("disk on fire")
        if len(items) > 1:  # a race the batch could not see: the batch fails as a whole ...
            raise IntegrityError("INSERT", {}, Exception("unique"))
        if items[0] == "taken":  # ... and alone only the vote that lost the race is refused
            raise repo.VoteRejected(repo.ALREADY_VOTED)
        return [items[0].upper()]

    g: GroupCommit = GroupCommit(st, fn)
    with pytest.raises(RuntimeError, match="disk on fire"):
        g.submit("boom")
    assert g.submit("ok") == "OK"  # leadership was released after the failure
    slots = [_Slot(item) for item in ("a", "taken", "b")]
    g._run(slots)  # one batch of three, as the leader would run it
    assert calls[-4] == ["a", "taken", "b"] and calls[-3:] == [["a"], ["taken"], ["b"]]
    assert [s.outcome for s in (slots[0], slots[2])] == ["A", "B"] and all(s.done for s in slots)
    assert isinstance(slots[1].outcome, repo.VoteRejected)


@pytest.mark.postgres
def test_one_vote_per_battle_across_replicas_with_group_commit(pg_url, storage_for, monkeypatch):
    """Two replicas, four voting threads each, every thread voting on every battle: each battle keeps one vote,
    the caller told it won is the one stored, every other caller is told the battle already has a vote."""
    monkeypatch.setenv("ARENA_MODELS", "center,random")
    monkeypatch.setenv("ARENA_MIN_DWELL_S", "0")
    stores = [storage_for(pg_url), storage_for(pg_url)]
    stores[0].write(lambda s: touch_session(s, "user-1"))
    battles = [f"grp{i:02d}" + "0" * 27 for i in range(20)]
    for bid in battles:
        insert_live_battle(stores[0], bid, "user-1")
    local = threading.local()
    monkeypatch.setattr(db, "get_storage", lambda: local.store)
    monkeypatch.setattr(service, "get_storage", lambda: local.store)
    wins: dict[str, list[str]] = {b: [] for b in battles}
    refusals: list[str] = []
    lock = threading.Lock()

    def voter(k):
        local.store = stores[k % 2]
        for bid in battles:
            try:
                r = service.vote(bid, "ABtT"[k % 4].replace("t", "tie").replace("T", "bothbad"), session_id="user-1")
                with lock:
                    wins[bid].append(r["winner"])
            except repo.VoteRejected as exc:
                with lock:
                    refusals.append(str(exc))

    _race([lambda k=k: voter(k) for k in range(8)])
    assert all(len(v) == 1 for v in wins.values()), wins
    assert len(refusals) == 20 * 7 and all("already has a vote" in r for r in refusals)
    stored = stores[1].read(lambda s: {r["id"]: r["winner"] for r in repo.voted_battles(s)})
    assert stored == {b: v[0] for b, v in wins.items()}
