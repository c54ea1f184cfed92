"""SQL for the 3D edit history (append-only: rows are never updated or deleted)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Edit3DRow
from storage.repos.sessions import touch_session

ACTIONS = ("edit", "undo", "redo", "reset")


def add_edit(s: Session, *, session_id: str | None, image_sha256: str, action: str, params: dict,
             selection: dict | None = None, scene: dict | None = None, outputs: dict | None = None,
             invented_fraction: float | None = None) -> int:
    if action not in ACTIONS:
        raise ValueError(f"unknown edit action {action!r}")
    if session_id:
        touch_session(s, session_id)
    row = Edit3DRow(session_id=session_id, image_sha256=image_sha256, action=action, params=params,
                    selection=selection, scene=scene, outputs=outputs, invented_fraction=invented_fraction)
    s.add(row)
    s.flush()
    return row.id


def _as_dict(r: Edit3DRow) -> dict:
    return {"id": r.id, "created": r.created.isoformat(timespec="seconds"), "session_id": r.session_id,
            "image_sha256": r.image_sha256, "action": r.action, "selection": r.selection, "scene": r.scene,
            "params": r.params, "outputs": r.outputs, "invented_fraction": r.invented_fraction}


def list_edits(s: Session, session_id: str | None, image_sha256: str | None = None, limit: int = 500) -> list[dict]:
    """Oldest first (the order replay needs); the most recent `limit` rows."""
    q = select(Edit3DRow).where(Edit3DRow.session_id == session_id)
    if image_sha256:
        q = q.where(Edit3DRow.image_sha256 == image_sha256)
    rows = list(s.scalars(q.order_by(Edit3DRow.id.desc()).limit(limit)))
    return [_as_dict(r) for r in reversed(rows)]
