"""Edit history rows on SQLite and PostgreSQL: append-only, per session and image, replayable."""
from __future__ import annotations

from sqlalchemy import inspect

from backend.edit3d.history import replay
from backend.edit3d.params import EditParams
from storage.repos.edit3d import add_edit, list_edits


def test_edit_history_round_trip(db_url, storage_for):
    st = storage_for(db_url)
    assert "edit3d_edits" in inspect(st.engine).get_table_names()
    sha = "a" * 64
    for yaw in (10, 20):
        st.write(lambda s, y=yaw: add_edit(s, session_id="sess-1", image_sha256=sha, action="edit",
                                           params=EditParams(yaw=y).to_dict(), selection={"points": [[1, 2, 1]]},
                                           scene={"fov_deg": 55}, outputs={"warnings": []}, invented_fraction=0.1))
    st.write(lambda s: add_edit(s, session_id="sess-1", image_sha256=sha, action="undo",
                                params=EditParams(yaw=10).to_dict()))
    st.write(lambda s: add_edit(s, session_id="sess-2", image_sha256=sha, action="edit",
                                params=EditParams(yaw=99).to_dict()))
    rows = st.read(lambda s: list_edits(s, "sess-1", sha))
    assert [r["action"] for r in rows] == ["edit", "edit", "undo"]
    assert rows[0]["selection"] == {"points": [[1, 2, 1]]} and rows[0]["invented_fraction"] == 0.1
    state = replay(rows)
    assert state.current["params"]["yaw"] == 10 and state.can_redo
    assert [r["params"]["yaw"] for r in st.read(lambda s: list_edits(s, "sess-2", sha))] == [99]
    assert st.read(lambda s: list_edits(s, "sess-1", "b" * 64)) == []
