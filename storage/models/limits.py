"""Counters shared by every app process on one database (rate limits that must hold across replicas).

A row counts the events of one key (an action and who did it: a salted IP hash, "all") in one fixed time bucket
(`bucket` = floor(unix time / window)); readers combine the current and the previous bucket into a sliding window.
"""
from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class LimitCounter(Base):
    __tablename__ = "limit_counters"
    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
