"""Session bookkeeping for the UI layer (which never touches SQL itself)."""
from __future__ import annotations

from storage.db import get_storage
from storage.repos.events import log_event
from storage.repos.sessions import touch_session


def record_session(session_id: str, *, client_ip: str | None, user_agent: str | None,
                   username: str | None = None) -> None:
    if not session_id:
        return
    get_storage().write(lambda s: touch_session(s, session_id, client_ip=client_ip, user_agent=user_agent,
                                                username=username))


def audit(kind: str, *, session_id: str | None = None, payload: dict | None = None, message: str | None = None) -> None:
    def _w(s):
        if session_id:
            touch_session(s, session_id)
        log_event(s, kind, session_id=session_id, payload=payload, message=message)

    get_storage().write(_w)
