"""SQL of the shared counters (storage.models.limits): one atomic upsert per event, so concurrent replicas never
lose a count (INSERT ... ON CONFLICT DO UPDATE ... RETURNING on PostgreSQL and SQLite alike)."""
from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import LimitCounter


def add(s: Session, key: str, bucket: int, n: int = 1) -> int:
    """Add `n` (may be negative) to the count of (key, bucket) and return the new count, atomically."""
    insert = postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(LimitCounter).values(key=key, bucket=bucket, count=n)
    stmt = stmt.on_conflict_do_update(index_elements=[LimitCounter.key, LimitCounter.bucket],
                                      set_={"count": LimitCounter.count + n})
    return int(s.execute(stmt.returning(LimitCounter.count)).scalar_one())


def count(s: Session, key: str, bucket: int) -> int:
    return int(s.scalar(select(LimitCounter.count).where(LimitCounter.key == key, LimitCounter.bucket == bucket))
               or 0)


def sweep(s: Session, prefix: str, before_bucket: int) -> int:
    """Drop buckets of keys under `prefix` older than `before_bucket` (they no longer count)."""
    res = s.execute(delete(LimitCounter).where(LimitCounter.key.startswith(prefix, autoescape=True),
                                               LimitCounter.bucket < before_bucket))
    return int(getattr(res, "rowcount", 0) or 0)


def clear(s: Session, prefix: str) -> None:
    s.execute(delete(LimitCounter).where(LimitCounter.key.startswith(prefix, autoescape=True)))
