"""Photo 3D edit history: one append-only row per action (edit, undo, redo, reset) per session.

Undo/redo are rows too, each carrying the parameters it restored and the undo cursor after it (`depth`), so the
current state of a session's edit of one image is read from a few rows (storage.repos.edit3d.position), equals a
replay of all its rows (backend.edit3d.history.replay), and survives reloads and app restarts.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class Edit3DRow(Base):
    __tablename__ = "edit3d_edits"
    __table_args__ = (Index("ix_edit3d_edits_recent", "session_id", "image_sha256", "id"),
                      Index("ix_edit3d_edits_depth", "session_id", "image_sha256", "depth", "id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    session_id: Mapped[str | None] = mapped_column(ForeignKey("sessions.id"), index=True)
    image_sha256: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(16))  # edit | undo | redo | reset
    selection: Mapped[dict | None] = mapped_column(JSON)
    scene: Mapped[dict | None] = mapped_column(JSON)  # fov, thickness, hints, fill, backends
    params: Mapped[dict] = mapped_column(JSON)  # EditParams after this action
    outputs: Mapped[dict | None] = mapped_column(JSON)  # stages, warnings, sizes (no pixels)
    invented_fraction: Mapped[float | None] = mapped_column(Float)
    # the undo cursor after this row (0 = the untouched photo): the state is read from a few rows, not a replay
    depth: Mapped[int | None] = mapped_column(Integer)
