"""SVG engine votes cast before the comparison was blind (review16 made compare draw the shown order): migration
svg_0002 marks the stored votes blind=false, new votes are blind=true, and the ratings count blind votes only while
saying how many earlier votes are kept but not counted. On SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from storage.db import MIGRATIONS_DIR
from storage.repos.svg import add_generation, add_vote, battles_frame, non_blind_votes

SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M1 1L2 2"/></svg>'


def _candidates(st, n_pairs: int) -> list[tuple[int, int]]:
    """n_pairs stored (engine a, engine b) candidate pairs of session "s"."""
    pairs = []
    for _ in range(n_pairs):
        _, ids = st.write(lambda s: add_generation(
            s, kind="compare", prompt="bell", style="phosphor/bold", style_card=None, engine="a vs b", seed=0, n=2,
            elapsed_s=0.0, candidates=[{"svg": SVG, "engine": "a"}, {"svg": SVG, "engine": "b"}], session_id="s"))
        pairs.append((ids[0], ids[1]))
    return pairs


def _cfg(st) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", st.engine.url.render_as_string(hide_password=False))
    return cfg


def _blind_column(st) -> list[tuple[int, bool]]:
    with st.engine.connect() as conn:
        return [(int(i), bool(b)) for i, b in conn.execute(sa.text("SELECT id, blind FROM svg_votes ORDER BY id"))]


def test_migration_marks_earlier_votes_not_blind_and_ratings_leave_them_out(db_url, storage_for):
    st = storage_for(db_url)  # at heads; go back to before the column, store an old vote, upgrade again
    (a1, b1), (a2, b2) = _candidates(st, 2)
    cfg = _cfg(st)
    with st.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "trust_0001")
    votes = sa.table("svg_votes", *(sa.column(c) for c in ("created", "session_id", "prompt", "style", "model_a",
                                                            "model_b", "candidate_a", "candidate_b", "winner",
                                                            "pair_key")))
    with st.engine.begin() as conn:  # a vote as the app stored it before svg_0002 (Engine A always shown as A)
        conn.execute(sa.insert(votes), [{"created": datetime(2026, 1, 1), "session_id": "s", "prompt": "bell",
                                         "style": "phosphor/bold", "model_a": "a", "model_b": "b", "candidate_a": a1,
                                         "candidate_b": b1, "winner": "model_a", "pair_key": f"{a1}-{b1}"}])
    with st.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")
    (old_id, old_blind), = _blind_column(st)
    assert old_blind is False
    assert st.read(battles_frame).empty and st.read(non_blind_votes) == 1
    new_id = st.write(lambda s: add_vote(s, prompt="bell", style="phosphor/bold", model_a="b", model_b="a",
                                         candidate_a=b2, candidate_b=a2, winner="model_a", session_id="s"))
    assert _blind_column(st) == [(old_id, False), (new_id, True)]  # the old vote is kept, unchanged
    df = st.read(battles_frame)
    assert list(df[["model_a", "model_b", "winner"]].itertuples(index=False, name=None)) == [("b", "a", "model_a")]
    assert st.read(non_blind_votes) == 1


def test_ratings_count_blind_votes_only_and_say_how_many_are_left_out(db_url, storage_for, monkeypatch):
    from backend.svg import service
    from storage.models import SvgVote

    st = storage_for(db_url)
    monkeypatch.setattr(service, "get_storage", lambda: st)
    pairs = _candidates(st, 5)
    table, note = service.engine_leaderboard(bootstrap=3)
    assert table.empty and note == ""  # no votes: no sentence
    for a, b in pairs[:3]:  # three earlier votes, all for engine a (what a non-blind tally would rank first)
        st.write(lambda s, a=a, b=b: s.add(SvgVote(prompt="bell", style="x", model_a="a", model_b="b",
                                                   candidate_a=a, candidate_b=b, winner="model_a",
                                                   pair_key=f"{a}-{b}", blind=False)))
    table, note = service.engine_leaderboard(bootstrap=3)
    assert table.empty and note.startswith("3 earlier votes") and "not counted" in note
    for a, b in pairs[3:]:  # two blind votes through the service, both for engine b
        service.vote_on(a, b, "model_b", "s")
    table, note = service.engine_leaderboard(bootstrap=3)
    counted = {row["model"]: (row["votes"], row["wins"]) for row in table.to_dict("records")}
    assert counted == {"a": (2, 0), "b": (2, 2)}  # the three non-blind votes for a are not in the ratings
    assert note.startswith("3 earlier votes") and _count(st, True) == 2 and _count(st, False) == 3


def _count(st, blind: bool) -> int:
    return sum(1 for _, b in _blind_column(st) if b is blind)


@pytest.mark.parametrize("n,word", [(1, "1 earlier vote from"), (2, "2 earlier votes from")])
def test_note_grammar(n, word, storage_for, tmp_path, monkeypatch):
    from backend.svg import service
    from storage.models import SvgVote

    st = storage_for(f"sqlite:///{tmp_path / 'n.db'}")
    monkeypatch.setattr(service, "get_storage", lambda: st)
    for a, b in _candidates(st, n):
        st.write(lambda s, a=a, b=b: s.add(SvgVote(prompt="bell", style="x", model_a="a", model_b="b",
                                                   candidate_a=a, candidate_b=b, winner="tie", pair_key=f"{a}-{b}",
                                                   blind=False)))
    assert service.engine_leaderboard(bootstrap=3)[1].startswith(word)
