"""Few-shot style library for the learned SVG generator: one row per learned style token.

Why a table (not files): a learned style is small (a 256-float token + its style card + provenance) and must be
listed, renamed and deleted from the studio by any session and survive restarts on SQLite and PostgreSQL alike.
`model_sha` ties the token to the checkpoint it was learned against: a token is meaningless for other weights,
so lookups filter on it. Rename/delete are real updates (a library, not an append-only fact); `deleted` keeps
the row so past generations that name it stay explainable.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class SvgStyleRow(Base):
    __tablename__ = "svg_styles"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), index=True)
    created: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    session_id: Mapped[str | None] = mapped_column(String(64), index=True)
    model_sha: Mapped[str] = mapped_column(String(64), index=True)
    base_style: Mapped[str] = mapped_column(String(128))  # the trained set/variant token it started from
    token: Mapped[list] = mapped_column(JSON)  # list[float], the learned style embedding
    card: Mapped[dict | None] = mapped_column(JSON)  # backend.svg.style.StyleCard.to_dict()
    n_exemplars: Mapped[int] = mapped_column(Integer)
    exemplar_sha: Mapped[list | None] = mapped_column(JSON)  # sha256 of each sanitised exemplar
    train_s: Mapped[float | None] = mapped_column(Float)
    train_info: Mapped[dict | None] = mapped_column(JSON)  # steps, losses, seed
    notes: Mapped[str | None] = mapped_column(Text)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
