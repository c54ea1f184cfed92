"""Browser sessions: created on page load, touched on activity."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.identity import salted_hash
from storage.models import SessionRow, utcnow


def touch_session(s: Session, session_id: str, *, client_ip: str | None = None,
                  user_agent: str | None = None, username: str | None = None) -> SessionRow:
    """Insert the session row on first sight, else update last_seen (and fill blanks)."""
    row = s.get(SessionRow, session_id)
    now = utcnow()
    if row is None:
        row = SessionRow(id=session_id, ip_hash=salted_hash(client_ip), user_agent=(user_agent or "")[:512] or None,
                         username=username, first_seen=now, last_seen=now)
        s.add(row)
        s.flush()
    else:
        row.last_seen = now
        if username and not row.username:
            row.username = username
        if client_ip and not row.ip_hash:
            row.ip_hash = salted_hash(client_ip)
    return row


def count_sessions(s: Session) -> int:
    return s.scalar(select(func.count()).select_from(SessionRow)) or 0
