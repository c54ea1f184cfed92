"""edit3d: each history row stores the stack depth (the undo cursor) after it

Undo/redo replayed the newest 500 rows of a session's photo: after more rows than that, an undo could restore a pose
from the truncated window (or the default pose). With `depth` the current state is found in SQL from three rows (the
newest row, the newest push, the newest push at the wanted depth), however long the history is. Existing rows are
filled by replaying each (session, photo) history once, in id order.

Revision ID: edit3d_0002
Revises: edit3d_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "edit3d_0002"
down_revision = "edit3d_0001"
branch_labels = None
depends_on = None


def _backfill() -> None:
    rows = sa.table("edit3d_edits", sa.column("id", sa.Integer), sa.column("session_id", sa.String),
                    sa.column("image_sha256", sa.String), sa.column("action", sa.String),
                    sa.column("depth", sa.Integer))
    bind = op.get_bind()
    state: dict[tuple, tuple[int, int]] = {}  # (session, photo) -> (cursor, top)
    updates: list[dict] = []
    q = sa.select(rows.c.id, rows.c.session_id, rows.c.image_sha256, rows.c.action).order_by(rows.c.id)
    for rid, sid, sha, act in bind.execute(q):
        cur, top = state.get((sid, sha), (0, 0))
        if act in ("edit", "reset"):
            cur = top = cur + 1
        elif act == "undo":
            cur = max(cur - 1, 0)
        elif act == "redo":
            cur = min(cur + 1, top)
        state[(sid, sha)] = (cur, top)
        updates.append({"rid": rid, "d": cur})
    stmt = sa.update(rows).where(rows.c.id == sa.bindparam("rid")).values(depth=sa.bindparam("d"))
    for i in range(0, len(updates), 1000):
        bind.execute(stmt, updates[i:i + 1000])


def upgrade() -> None:
    with op.batch_alter_table("edit3d_edits") as b:
        b.add_column(sa.Column("depth", sa.Integer(), nullable=True))
    _backfill()
    # newest row / newest push of one history (backwards by id), and the newest row at one depth
    op.create_index("ix_edit3d_edits_recent", "edit3d_edits", ["session_id", "image_sha256", "id"])
    op.create_index("ix_edit3d_edits_depth", "edit3d_edits", ["session_id", "image_sha256", "depth", "id"])


def downgrade() -> None:
    op.drop_index("ix_edit3d_edits_depth", table_name="edit3d_edits")
    op.drop_index("ix_edit3d_edits_recent", table_name="edit3d_edits")
    with op.batch_alter_table("edit3d_edits") as b:
        b.drop_column("depth")
