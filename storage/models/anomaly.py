"""Anomaly inspector tables: inspections with their per-query results, saved prompt pools, corrections.

Images (prompts, queries, corrected masks) are stored once by sha256 through `storage.repos.images`;
rows reference the hash. All rows are append-only facts: saving a pool under an existing name adds a
newer version (the newest wins on load), a second correction of the same query adds a newer mask.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class AnomalyInspectionRow(Base):
    """One run of the inspector: settings, thresholds and the prompts used (by image hash)."""

    __tablename__ = "anomaly_inspections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    session_id: Mapped[str | None] = mapped_column(ForeignKey("sessions.id"), index=True)
    engine: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    tiled: Mapped[bool] = mapped_column(Boolean, default=False)
    retrieval_k: Mapped[int | None] = mapped_column(Integer)
    image_threshold: Mapped[float] = mapped_column(Float)
    pixel_threshold: Mapped[float] = mapped_column(Float)
    prompt_shas: Mapped[list] = mapped_column(JSON)
    n_queries: Mapped[int] = mapped_column(Integer)
    ms_total: Mapped[float | None] = mapped_column(Float)
    settings: Mapped[dict | None] = mapped_column(JSON)


class AnomalyResultRow(Base):
    """One query of an inspection: its score, verdict at the run's thresholds, prompt used, regions."""

    __tablename__ = "anomaly_results"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("anomaly_inspections.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(256))
    query_sha: Mapped[str] = mapped_column(String(64), index=True)
    prompt_sha: Mapped[str | None] = mapped_column(String(64))
    prompt_similarity: Mapped[float | None] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    verdict: Mapped[str] = mapped_column(String(8))
    ms: Mapped[float | None] = mapped_column(Float)
    regions: Mapped[list | None] = mapped_column(JSON)


class AnomalyPromptPoolRow(Base):
    """A named set of normal prompt images for one product; a newer row with the same name supersedes."""

    __tablename__ = "anomaly_prompt_pools"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    session_id: Mapped[str | None] = mapped_column(ForeignKey("sessions.id"), index=True)
    product: Mapped[str] = mapped_column(String(128), index=True)
    name: Mapped[str] = mapped_column(String(128), index=True)
    prompt_shas: Mapped[list] = mapped_column(JSON)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)  # visible to every session (explicit action)


class AnomalyCorrectionRow(Base):
    """A user-corrected ground-truth mask for a query (an empty mask means "this part is good")."""

    __tablename__ = "anomaly_corrections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    session_id: Mapped[str | None] = mapped_column(ForeignKey("sessions.id"), index=True)
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("anomaly_inspections.id"), index=True)
    product: Mapped[str] = mapped_column(String(128), index=True)
    defect_type: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(256))
    query_sha: Mapped[str] = mapped_column(String(64))
    mask_sha: Mapped[str] = mapped_column(String(64))
    mask_pixels: Mapped[int] = mapped_column(Integer)
