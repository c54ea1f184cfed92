"""SQL for the 3D edit history (append-only: rows are never updated or deleted).

Every row stores `depth`, the undo cursor after it: an edit or reset pushes a state (cursor + 1, dropping the redo
tail), undo/redo move the cursor. The state at depth k is then the newest edit/reset row at depth k (a later push
below k dropped it, and the stack can only grow back to k through a newer push at k), and `position` reads the
current, previous and next state from a handful of index lookups, however long the history is.

A row's depth is computed from the rows before it, so two writers of one history (two tabs, a double click, two app
processes) must not both read the cursor before either writes: `lock_history` serialises them per (session, photo)
inside the transaction, on PostgreSQL with a transaction-scoped advisory lock and on SQLite by taking the database's
write lock (BEGIN IMMEDIATE) before the first read.
"""
from __future__ import annotations

import hashlib

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from storage.models import Edit3DRow
from storage.repos.sessions import touch_session

ACTIONS = ("edit", "undo", "redo", "reset")
PUSHES = ("edit", "reset")


def _of(q, session_id: str | None, image_sha256: str):
    return q.where(Edit3DRow.session_id == session_id, Edit3DRow.image_sha256 == image_sha256)


def _cursor_top(s: Session, session_id: str | None, image_sha256: str) -> tuple[int, int]:
    """(cursor after the newest row, depth of the newest push): the stack is depths 0..top."""
    last = s.scalar(_of(select(Edit3DRow.depth), session_id, image_sha256).order_by(Edit3DRow.id.desc()).limit(1))
    top = s.scalar(_of(select(Edit3DRow.depth), session_id, image_sha256).where(Edit3DRow.action.in_(PUSHES))
                   .order_by(Edit3DRow.id.desc()).limit(1))
    return int(last or 0), int(top or 0)


def _lock_key(session_id: str | None, image_sha256: str) -> int:
    """A stable signed 64-bit key for pg_advisory_xact_lock (the same in every process and release)."""
    digest = hashlib.sha256(f"edit3d\0{session_id or ''}\0{session_id is None}\0{image_sha256}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def lock_history(s: Session, session_id: str | None, image_sha256: str) -> None:
    """Hold the history of (session, photo) until this transaction ends; call before reading the cursor.

    PostgreSQL: an advisory lock on a hash of the pair (only writers of the same history wait). SQLite: the
    database's write lock, taken with BEGIN IMMEDIATE when the transaction has not begun yet (the driver begins a
    transaction only at the first write, so without it the cursor would be read before the lock); a transaction
    that has begun has written, so it holds the write lock already. Idempotent within a transaction.
    """
    dialect = s.get_bind().dialect.name
    if dialect == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(session_id, image_sha256)})
    elif dialect == "sqlite":
        conn = s.connection()
        dbapi = conn.connection.dbapi_connection
        if dbapi is not None and not dbapi.in_transaction:
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # SQLAlchemy's error types: Storage.write retries "locked"


def add_edit(s: Session, *, session_id: str | None, image_sha256: str, action: str, params: dict,
             selection: dict | None = None, scene: dict | None = None, outputs: dict | None = None,
             invented_fraction: float | None = None) -> int:
    if action not in ACTIONS:
        raise ValueError(f"unknown edit action {action!r}")
    lock_history(s, session_id, image_sha256)
    if session_id:
        touch_session(s, session_id)
    cur, top = _cursor_top(s, session_id, image_sha256)
    depth = cur + 1 if action in PUSHES else max(cur - 1, 0) if action == "undo" else min(cur + 1, top)
    row = Edit3DRow(session_id=session_id, image_sha256=image_sha256, action=action, params=params,
                    selection=selection, scene=scene, outputs=outputs, invented_fraction=invented_fraction,
                    depth=depth)
    s.add(row)
    s.flush()
    return row.id


def _as_dict(r: Edit3DRow) -> dict:
    return {"id": r.id, "created": r.created.isoformat(timespec="seconds"), "session_id": r.session_id,
            "image_sha256": r.image_sha256, "action": r.action, "selection": r.selection, "scene": r.scene,
            "params": r.params, "outputs": r.outputs, "invented_fraction": r.invented_fraction, "depth": r.depth}


def position(s: Session, session_id: str | None, image_sha256: str) -> dict:
    """{"cursor", "top", "states": {depth: row}} for depths cursor-1, cursor, cursor+1 within 1..top (depth 0 is
    the untouched photo, which has no row)."""
    cur, top = _cursor_top(s, session_id, image_sha256)
    states = {}
    for k in (cur - 1, cur, cur + 1):
        if 1 <= k <= top:
            row = s.scalars(_of(select(Edit3DRow), session_id, image_sha256)
                            .where(Edit3DRow.action.in_(PUSHES), Edit3DRow.depth == k)
                            .order_by(Edit3DRow.id.desc()).limit(1)).first()
            if row is not None:
                states[k] = _as_dict(row)
    return {"cursor": cur, "top": top, "states": states}


def list_edits(s: Session, session_id: str | None, image_sha256: str | None = None, limit: int = 500) -> list[dict]:
    """Oldest first; the most recent `limit` rows (for display: the state comes from `position`)."""
    q = select(Edit3DRow).where(Edit3DRow.session_id == session_id)
    if image_sha256:
        q = q.where(Edit3DRow.image_sha256 == image_sha256)
    rows = list(s.scalars(q.order_by(Edit3DRow.id.desc()).limit(limit)))
    return [_as_dict(r) for r in reversed(rows)]
