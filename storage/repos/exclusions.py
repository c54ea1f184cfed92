"""Admin exclusions of arena votes from the ratings (the votes stay stored; see storage.models.trust).

Any SQL that computes ratings filters with `not_excluded(ArenaBattle.id)`, e.g.
    select(...).join(ArenaVote, ...).where(not_excluded(ArenaBattle.id))
"""
from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import ArenaBattle, ArenaVote, VoteExclusion


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
    return int(getattr(res, "rowcount", 0) or 0)


def list_exclusions(s: Session) -> list[dict]:
    return [{"battle_id": r.battle_id, "created": r.created.isoformat(timespec="seconds"), "reason": r.reason}
            for r in s.scalars(select(VoteExclusion).order_by(VoteExclusion.id))]


def judge_votes(s: Session) -> list[dict]:
    """Every live vote with what the trust signals need (dwell, network, session, points, bench source)."""
    q = (select(ArenaBattle.id, ArenaBattle.model_a, ArenaBattle.model_b, ArenaBattle.judge_id, ArenaVote.judge_id,
                ArenaVote.winner, ArenaVote.dwell_s, ArenaBattle.session_id, ArenaBattle.net_hash,
                ArenaBattle.created, ArenaBattle.points_a, ArenaBattle.points_b, ArenaBattle.image_source,
                ArenaVote.counted, ArenaBattle.invalid)
         .join(ArenaVote, ArenaVote.battle_id == ArenaBattle.id).order_by(ArenaVote.created, ArenaVote.id))
    gone = excluded_ids(s)
    out = []
    for (bid, a, b, bj, vj, w, dwell, sess, net, created, pa, pb, src, counted, invalid) in s.execute(q):
        out.append({"id": bid, "model_a": a, "model_b": b, "judge": vj or bj, "winner": w, "dwell_s": dwell,
                    "session_id": sess, "net_hash": net,
                    "battle_tstamp": created.timestamp() if created else None, "points_a": pa, "points_b": pb,
                    "image_source": src, "counted": bool(counted), "invalid": bool(invalid),
                    "excluded": bid in gone})
    return out
