"""Point-Bench tables: collected annotations (with review status) and per-model bench results.

Annotations keep who/when/which battle they came from; the mask is stored as a small binary PNG in the
row so an exported bench never depends on files outside the database. A bench result row is an
append-only fact (one per evaluation run); the panels read the latest row per model and bench.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow

ANNOTATION_STATUSES = ("pending", "accepted", "rejected")


class BenchAnnotation(Base):
    __tablename__ = "bench_annotations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    session_id: Mapped[str | None] = mapped_column(String(64), index=True)  # Gradio session of the annotator
    annotator: Mapped[str | None] = mapped_column(String(128))  # optional name the annotator typed
    source_battle_id: Mapped[str | None] = mapped_column(String(64), index=True)
    image_sha256: Mapped[str] = mapped_column(ForeignKey("images.sha256"), index=True)
    user_input: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(16), index=True)
    count: Mapped[int | None] = mapped_column(Integer)
    ref_point: Mapped[list | None] = mapped_column(JSON)  # [x, y] pixels, steerable items
    mask_png: Mapped[bytes] = mapped_column(LargeBinary)
    mask_pixels: Mapped[int] = mapped_column(Integer)
    models_correct: Mapped[int | None] = mapped_column(Integer)  # PointArena's "hard item" check (of models_checked)
    models_checked: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    reviewer: Mapped[str | None] = mapped_column(String(128))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    review_note: Mapped[str | None] = mapped_column(Text)


class BenchResult(Base):
    __tablename__ = "bench_results"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    model: Mapped[str] = mapped_column(String(128), index=True)
    bench: Mapped[str] = mapped_column(String(128), index=True)
    bench_fingerprint: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))  # pointer | endpoint | predictions | file
    n: Mapped[int] = mapped_column(Integer)
    average: Mapped[float] = mapped_column(Float)
    per_category: Mapped[dict] = mapped_column(JSON)
    items: Mapped[list | None] = mapped_column(JSON)
    session_id: Mapped[str | None] = mapped_column(String(64))
