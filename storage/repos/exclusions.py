"""Admin exclusions of arena votes from the ratings (the votes stay stored; see storage.models.trust).

Any SQL that computes ratings filters with `not_excluded(ArenaBattle.id)`, e.g.
    select(...).join(ArenaVote, ...).where(not_excluded(ArenaBattle.id))
"""
from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import ArenaBattle, VoteExclusion


def not_excluded(battle_id_column):
    """SQL condition: this battle's vote is not excluded by an admin."""
    return battle_id_column.not_in(select(VoteExclusion.battle_id))


def excluded_ids(s: Session) -> set[str]:
    return set(s.scalars(select(VoteExclusion.battle_id)))


def exclude(s: Session, battle_ids, reason: str | None = None) -> int:
    """Exclude these battles' votes from the ratings; returns how many were newly excluded."""
    have = excluded_ids(s)
    ids = [str(b) for b in dict.fromkeys(battle_ids) if str(b) not in have]
    known = set(s.scalars(select(ArenaBattle.id).where(ArenaBattle.id.in_(ids)))) if ids else set()
    for bid in ids:
        if bid in known:
            s.add(VoteExclusion(battle_id=bid, reason=(reason or "")[:256] or None))
    s.flush()
    return len(known)


def restore(s: Session, battle_ids) -> int:
    """Count these battles' votes again."""
    ids = [str(b) for b in battle_ids]
    if not ids:
        return 0
    res = s.execute(delete(VoteExclusion).where(VoteExclusion.battle_id.in_(ids)))
    return int(res.rowcount or 0)


def list_exclusions(s: Session) -> list[dict]:
    return [{"battle_id": r.battle_id, "created": r.created.isoformat(timespec="seconds"), "reason": r.reason}
            for r in s.scalars(select(VoteExclusion).order_by(VoteExclusion.id))]
