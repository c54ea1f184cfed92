"""Trust tables. Votes are append-only facts; excluding one from the ratings is a separate admin row keyed by
battle id (deleting the row restores the vote), so the vote itself is never updated or deleted."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class VoteExclusion(Base):
    __tablename__ = "arena_vote_exclusions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    battle_id: Mapped[str] = mapped_column(ForeignKey("arena_battles.id"), unique=True)
    created: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    reason: Mapped[str | None] = mapped_column(String(256))
