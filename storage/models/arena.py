"""Point-Battle tables: a battle row is written once when both outputs exist; a vote is a separate,
append-only row, at most one per battle (unique battle_id), so a vote can never be edited or doubled."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class ArenaBattle(Base):
    __tablename__ = "arena_battles"
    # covering index for ratings aggregated in SQL (migration arena_0002)
    __table_args__ = (Index("ix_arena_battles_rating", "id", "model_a", "model_b", "anony", "invalid", "category",
                            "judge_id", "created"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # uuid4 hex
    created: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    session_id: Mapped[str | None] = mapped_column(ForeignKey("sessions.id"), index=True)
    judge_id: Mapped[str | None] = mapped_column(String(64), index=True)  # salted_hash(session, "judge")
    ip_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    net_hash: Mapped[str | None] = mapped_column(String(64), index=True)  # salted hash of the /24 or /48
    image_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    image_source: Mapped[str | None] = mapped_column(String(256))  # "bench:<file>" | "upload" | "import:<name>"
    category: Mapped[str | None] = mapped_column(String(32), index=True)
    instruction: Mapped[str | None] = mapped_column(Text)
    prompt_template: Mapped[str | None] = mapped_column(String(64))
    model_a: Mapped[str] = mapped_column(String(128), index=True)
    model_b: Mapped[str] = mapped_column(String(128), index=True)
    version_a: Mapped[str | None] = mapped_column(String(128))
    version_b: Mapped[str | None] = mapped_column(String(128))
    sampling_prob: Mapped[float | None] = mapped_column(Float)
    swapped: Mapped[bool] = mapped_column(Boolean, default=False)
    anony: Mapped[bool] = mapped_column(Boolean, default=True)
    points_a: Mapped[dict | None] = mapped_column(JSON)  # {"px": [[x, y]], "norm": [[x, y]]}
    points_b: Mapped[dict | None] = mapped_column(JSON)
    raw_a: Mapped[str | None] = mapped_column(Text)
    raw_b: Mapped[str | None] = mapped_column(Text)
    parse_ok_a: Mapped[bool] = mapped_column(Boolean, default=False)
    parse_ok_b: Mapped[bool] = mapped_column(Boolean, default=False)
    error_a: Mapped[str | None] = mapped_column(Text)
    error_b: Mapped[str | None] = mapped_column(Text)
    latency_a: Mapped[float | None] = mapped_column(Float)
    latency_b: Mapped[float | None] = mapped_column(Float)
    invalid: Mapped[bool] = mapped_column(Boolean, default=False)  # a model errored or timed out
    ref_point: Mapped[list | None] = mapped_column(JSON)  # steerable items: [x, y] pixels
    source: Mapped[str] = mapped_column(String(32), default="live")  # live | clean_battle | pointarena
    content_hash: Mapped[str | None] = mapped_column(String(64), unique=True)  # imports only (dedup)
    extra: Mapped[dict | None] = mapped_column(JSON)


class ArenaVote(Base):
    __tablename__ = "arena_votes"
    __table_args__ = (Index("ix_arena_votes_rating", "battle_id", "winner", "counted", "created", "id", "judge_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    battle_id: Mapped[str] = mapped_column(ForeignKey("arena_battles.id"), unique=True)
    created: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    session_id: Mapped[str | None] = mapped_column(ForeignKey("sessions.id"), index=True)
    judge_id: Mapped[str | None] = mapped_column(String(64), index=True)
    winner: Mapped[str] = mapped_column(String(16))  # model_a | model_b | tie | tie (bothbad)
    dwell_s: Mapped[float | None] = mapped_column(Float)
    counted: Mapped[bool] = mapped_column(Boolean, default=True)  # False when under the minimum dwell time
    note: Mapped[str | None] = mapped_column(String(128))
