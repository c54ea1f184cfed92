"""SVG studio: every generation, its candidates, and pairwise votes (all append-only).

session_id is a plain string, not a foreign key: the CLI and batch jobs generate without a browser session.
Candidates keep the sanitised SVG text itself (a few KB) so any past result can be re-downloaded.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class SvgGeneration(Base):
    __tablename__ = "svg_generations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    session_id: Mapped[str | None] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # prompt | icon-set | edit | compare | cli
    prompt: Mapped[str] = mapped_column(Text)
    style: Mapped[str] = mapped_column(String(128))  # set/variant or "N exemplar SVG(s)"
    style_card: Mapped[dict | None] = mapped_column(JSON)
    engine: Mapped[str] = mapped_column(String(64), index=True)
    seed: Mapped[int] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(Integer)
    elapsed_s: Mapped[float | None] = mapped_column(Float)
    metrics: Mapped[dict | None] = mapped_column(JSON)  # e.g. icon-set consistency


class SvgCandidate(Base):
    __tablename__ = "svg_candidates"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    generation_id: Mapped[int] = mapped_column(ForeignKey("svg_generations.id"), index=True)
    rank: Mapped[int] = mapped_column(Integer)
    svg: Mapped[str] = mapped_column(Text)
    svg_sha256: Mapped[str] = mapped_column(String(64), index=True)
    engine: Mapped[str] = mapped_column(String(64))
    concept: Mapped[str | None] = mapped_column(String(256))
    source_id: Mapped[str | None] = mapped_column(String(256))
    nearest_id: Mapped[str | None] = mapped_column(String(256))
    similarity: Mapped[float | None] = mapped_column(Float)
    text_score: Mapped[float | None] = mapped_column(Float)
    licence: Mapped[str | None] = mapped_column(String(256))
    metrics: Mapped[dict | None] = mapped_column(JSON)
    notes: Mapped[list | None] = mapped_column(JSON)


class SvgVote(Base):
    """A pairwise preference between two candidates from two engines. Only blind votes (the shown order drawn by
    the server, migration svg_0002) feed backend.arena.ratings; older votes keep blind=False."""

    __tablename__ = "svg_votes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    session_id: Mapped[str | None] = mapped_column(String(64), index=True)
    prompt: Mapped[str] = mapped_column(Text)
    style: Mapped[str] = mapped_column(String(128))
    model_a: Mapped[str] = mapped_column(String(64))
    model_b: Mapped[str] = mapped_column(String(64))
    candidate_a: Mapped[int] = mapped_column(ForeignKey("svg_candidates.id"))
    candidate_b: Mapped[int] = mapped_column(ForeignKey("svg_candidates.id"))
    winner: Mapped[str] = mapped_column(String(16))  # model_a | model_b | tie | tie (bothbad)
    pair_key: Mapped[str | None] = mapped_column(String(64), unique=True)  # "lo-hi" candidate ids: one vote per pair
    # set explicitly by storage.repos.svg.add_vote; rows from before svg_0002 were not blind (server default false)
    blind: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())
