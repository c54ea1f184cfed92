"""Arena tables on SQLite and PostgreSQL: one vote per battle, own session only, import dedup."""
import pytest

from storage.repos import arena as repo


def _battle(bid, session="s1", **kw):
    base = dict(id=bid, session_id=session, judge_id="j", model_a="center", model_b="random", swapped=False,
                anony=True, parse_ok_a=True, parse_ok_b=True, invalid=False, source="live", category="upload",
                instruction="Point to x", sampling_prob=0.5, points_a={"px": [[1, 2]], "norm": [[0.1, 0.2]]})
    base.update(kw)
    return base


def test_vote_rules(db_url, storage_for):
    st = storage_for(db_url)
    st.write(lambda s: repo.insert_battle(s, **_battle("b1")))
    with pytest.raises(repo.VoteRejected, match="Only the person"):
        st.write(lambda s: repo.insert_vote(s, "b1", session_id="s2", judge_id="k", winner="model_a",
                                            dwell_s=1.0, counted=True))
    st.write(lambda s: repo.insert_vote(s, "b1", session_id="s1", judge_id="j", winner="tie", dwell_s=1.0,
                                        counted=True))
    with pytest.raises(repo.VoteRejected, match="already has a vote"):
        st.write(lambda s: repo.insert_vote(s, "b1", session_id="s1", judge_id="j", winner="model_b",
                                            dwell_s=2.0, counted=True))
    with pytest.raises(repo.VoteRejected, match="does not exist"):
        st.write(lambda s: repo.insert_vote(s, "nope", session_id="s1", judge_id="j", winner="tie", dwell_s=0,
                                            counted=True))
    rows = st.read(lambda s: repo.voted_battles(s))
    assert len(rows) == 1 and rows[0]["winner"] == "tie" and rows[0]["judge"] == "j"
    full = st.read(lambda s: repo.get_battle(s, "b1"))
    assert full["points_a"]["norm"] == [[0.1, 0.2]] and full["winner"] == "tie"
    assert st.read(lambda s: repo.voted_battles(s, "spatial")) == []
    assert st.read(repo.counts)["votes"] == 1


def test_import_dedup_by_content_and_by_own_id(db_url, storage_for):
    st = storage_for(db_url)
    st.write(lambda s: repo.insert_battle(s, **_battle("b1")))
    imp = dict(model_a="x", model_b="y", swapped=False, anony=True, parse_ok_a=False, parse_ok_b=False,
               invalid=False, source="clean_battle")

    def rows(bid, h, winner="model_a"):
        return [dict(imp, id=bid, content_hash=h)], [dict(battle_id=bid, winner=winner, counted=True)]

    assert st.write(lambda s: repo.bulk_insert_battles(s, *rows("i1", "h" * 64))) == 1
    assert st.write(lambda s: repo.bulk_insert_battles(s, *rows("i2", "h" * 64))) == 0  # same content
    assert st.write(lambda s: repo.bulk_insert_battles(s, *rows("b1", "g" * 64, "tie"))) == 0  # our own id
    assert st.read(lambda s: repo.existing_ids(s, ["b1", "i1", "i2"])) == {"b1", "i1"}
    got = st.read(lambda s: list(repo.iter_battle_rows(s)))
    assert [r["id"] for r in got] == ["i1"] and got[0]["winner"] == "model_a"
