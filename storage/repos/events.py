"""Append-only audit events."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import EventRow


def log_event(s: Session, kind: str, *, session_id: str | None = None, payload: dict | None = None,
              message: str | None = None) -> int:
    row = EventRow(kind=kind[:64], session_id=session_id, payload=payload, message=message)
    s.add(row)
    s.flush()
    return row.id


def recent_events(s: Session, kind: str | None = None, limit: int = 50) -> list[dict]:
    q = select(EventRow).order_by(EventRow.id.desc()).limit(limit)
    if kind:
        q = q.where(EventRow.kind == kind)
    return [{"id": e.id, "ts": e.ts.isoformat(), "session_id": e.session_id, "kind": e.kind,
             "payload": e.payload, "message": e.message} for e in s.scalars(q)]
