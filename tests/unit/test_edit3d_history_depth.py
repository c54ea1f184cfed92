"""Photo 3D edit history longer than one window (review14 left it): undo/redo replayed the newest 500 rows, so after
more rows an undo restored a pose from the truncated window, or the untouched photo. Each row now stores the undo
cursor after it (`depth`) and the state comes from a few rows (storage.repos.edit3d.position); on SQLite and
PostgreSQL it must equal a replay of every row (backend.edit3d.history.replay)."""
from __future__ import annotations

import random
from datetime import datetime

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from backend.edit3d.history import Position, replay
from backend.edit3d.params import EditParams
from storage.db import MIGRATIONS_DIR
from storage.repos.edit3d import add_edit, list_edits, position

SHA = "c" * 64
NOW = datetime(2026, 1, 1)


def _step(st, sid: str, action: str, yaw: float = 0.0) -> None:
    """What backend.edit3d.service does: an edit row, or an undo/redo row carrying the params it restores."""
    if action in ("undo", "redo"):
        pos = Position.from_rows(st.read(lambda s: position(s, sid, SHA)))
        if not (pos.can_undo if action == "undo" else pos.can_redo):
            return
        params = pos.state(pos.cursor + (-1 if action == "undo" else 1))["params"]
    else:
        params = EditParams(yaw=yaw).to_dict()
    st.write(lambda s: add_edit(s, session_id=None, image_sha256=SHA, action=action, params=params))


def _all_rows(st, sid=None) -> list[dict]:
    return st.read(lambda s: list_edits(s, sid, SHA, limit=10**9))


def test_undo_past_the_old_500_row_window(db_url, storage_for):
    st = storage_for(db_url)
    rows = [{"session_id": None, "image_sha256": SHA, "action": "edit", "params": EditParams(yaw=y % 90).to_dict(),
             "depth": y, "created": NOW} for y in range(1, 601)]
    from storage.models import Edit3DRow

    st.write(lambda s: s.execute(sa.insert(Edit3DRow), rows))  # 600 edits: yaw 1..89, 0, 1, … at depths 1..600
    for _ in range(590):
        _step(st, None, "undo")
    pos = Position.from_rows(st.read(lambda s: position(s, None, SHA)))
    assert pos.cursor == 10 and pos.current["params"]["yaw"] == 10 and pos.can_undo and pos.can_redo
    truth = replay(_all_rows(st))
    assert truth.current["params"] == pos.current["params"] and truth.cursor == pos.cursor
    # the old code's answer: a replay of the newest 500 rows (all undos) sits on the untouched photo
    assert replay(_all_rows(st)[-500:]).current["params"]["yaw"] == 0
    for _ in range(10):
        _step(st, None, "undo")
    _step(st, None, "undo")  # nothing left: no row
    assert Position.from_rows(st.read(lambda s: position(s, None, SHA))).cursor == 0
    _step(st, None, "redo")
    _step(st, None, "edit", 45)  # a new edit drops the redo tail (depths 2..600)
    pos = Position.from_rows(st.read(lambda s: position(s, None, SHA)))
    assert (pos.cursor, pos.top, pos.current["params"]["yaw"], pos.can_redo) == (2, 2, 45, False)
    assert pos.state(1)["params"]["yaw"] == 1


def test_position_equals_a_full_replay_for_random_histories(tmp_path, storage_for):
    st = storage_for(f"sqlite:///{tmp_path / 'h.db'}")
    rng = random.Random(7)
    for i in range(250):
        _step(st, None, rng.choice(["edit", "undo", "undo", "redo", "reset"]), float(i % 90))
        pos = Position.from_rows(st.read(lambda s: position(s, None, SHA)))
        truth = replay(_all_rows(st))
        assert (pos.cursor, pos.can_undo, pos.can_redo) == (truth.cursor, truth.can_undo, truth.can_redo), i
        assert pos.current["params"] == truth.current["params"], i
        for k in (pos.cursor - 1, pos.cursor + 1):
            if 0 <= k < len(truth.states):
                assert pos.state(k)["params"] == truth.states[k]["params"], (i, k)


def test_migration_fills_the_depth_of_existing_rows(db_url, storage_for):
    """Histories written before edit3d_0002 (no depth) get the cursor a replay gives, per session and photo."""
    st = storage_for(db_url)  # at heads; go back to before the column, write old rows, upgrade again
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", st.engine.url.render_as_string(hide_password=False))
    with st.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "edit3d_0001")
    t = sa.table("edit3d_edits", sa.column("created", sa.DateTime), sa.column("image_sha256", sa.String),
                 sa.column("action", sa.String), sa.column("params", sa.JSON))
    acts = [("a", "edit"), ("b", "edit"), ("a", "edit"), ("a", "undo"), ("a", "undo"), ("a", "undo"), ("b", "redo"),
            ("a", "redo"), ("a", "edit")]
    with st.engine.begin() as conn:
        conn.execute(sa.insert(t), [{"created": NOW, "image_sha256": sha * 64, "action": act,
                                     "params": {"yaw": i}} for i, (sha, act) in enumerate(acts)])
    with st.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")
    got = st.read(lambda s: [(r["image_sha256"][0], r["depth"]) for r in list_edits(s, None, None, limit=100)])
    assert got == [("a", 1), ("b", 1), ("a", 2), ("a", 1), ("a", 0), ("a", 0), ("b", 1), ("a", 1), ("a", 2)]
