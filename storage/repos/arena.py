"""All SQL of the Point-Battle arena. Battles are inserted once, complete; votes are insert-only and unique
per battle (the database enforces "at most one vote", not just the UI)."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import ArenaBattle, ArenaVote
from storage.repos.exclusions import excluded_ids, not_excluded
from storage.repos.sessions import touch_session

WINNERS = ("model_a", "model_b", "tie", "tie (bothbad)")


class VoteRejected(ValueError):
    """The vote cannot be accepted; the message says why (shown to the user)."""


def _epoch(dt: datetime | None) -> float | None:
    return dt.replace(tzinfo=timezone.utc).timestamp() if dt else None


def insert_battle(s: Session, **fields) -> str:
    if fields.get("session_id"):
        touch_session(s, fields["session_id"])
    row = ArenaBattle(**fields)
    s.add(row)
    s.flush()
    return row.id


def battle_dict(b: ArenaBattle, v: ArenaVote | None = None) -> dict:
    d = {c.name: getattr(b, c.name) for c in ArenaBattle.__table__.columns}
    d["tstamp"] = _epoch(b.created)
    d["created"] = b.created.isoformat() if b.created else None
    d["winner"] = v.winner if v else None
    d["vote_counted"] = v.counted if v else None
    d["vote_dwell_s"] = v.dwell_s if v else None
    d["vote_tstamp"] = _epoch(v.created) if v else None
    return d


def get_battle(s: Session, battle_id: str) -> dict | None:
    b = s.get(ArenaBattle, battle_id)
    if b is None:
        return None
    v = s.scalar(select(ArenaVote).where(ArenaVote.battle_id == battle_id))
    return battle_dict(b, v)


def insert_vote(s: Session, battle_id: str, *, session_id: str | None, judge_id: str | None, winner: str,
                dwell_s: float | None, counted: bool, note: str | None = None) -> int:
    """Append the vote; refuse a second vote or one from another session with a clear sentence."""
    if winner not in WINNERS:
        raise VoteRejected(f"Unknown vote {winner!r}.")
    b = s.get(ArenaBattle, battle_id)
    if b is None:
        raise VoteRejected("This battle does not exist (it may have expired). Start a new round.")
    if b.session_id is None or b.session_id != session_id:
        raise VoteRejected("Only the person who started this battle can vote on it.")
    if s.scalar(select(ArenaVote.id).where(ArenaVote.battle_id == battle_id)) is not None:
        raise VoteRejected("This battle already has a vote; each battle takes exactly one.")
    touch_session(s, session_id)
    row = ArenaVote(battle_id=battle_id, session_id=session_id, judge_id=judge_id, winner=winner,
                    dwell_s=dwell_s, counted=counted, note=note)
    try:
        with s.begin_nested():
            s.add(row)
            s.flush()
    except IntegrityError as exc:  # a concurrent vote won the race
        raise VoteRejected("This battle already has a vote; each battle takes exactly one.") from exc
    return row.id


def voted_battles(s: Session, category: str | None = None, include_excluded: bool = False) -> list[dict]:
    """Battles with their vote, for ratings and admin views (light columns only). Votes an admin excluded are
    left out unless `include_excluded` (then each row says whether it is excluded)."""
    q = (select(ArenaBattle.id, ArenaBattle.model_a, ArenaBattle.model_b, ArenaVote.winner, ArenaVote.judge_id,
                ArenaBattle.judge_id, ArenaBattle.anony, ArenaBattle.invalid, ArenaVote.counted, ArenaVote.created,
                ArenaBattle.created, ArenaBattle.category, ArenaBattle.instruction, ArenaBattle.image_sha256,
                ArenaBattle.sampling_prob, ArenaBattle.source)
         .join(ArenaVote, ArenaVote.battle_id == ArenaBattle.id).order_by(ArenaVote.created, ArenaVote.id))
    if category:
        q = q.where(ArenaBattle.category == category)
    if not include_excluded:
        q = q.where(not_excluded(ArenaBattle.id))
    gone = excluded_ids(s) if include_excluded else set()
    out = []
    for (bid, a, b, w, vj, bj, anony, invalid, counted, vcreated, bcreated, cat, instr, sha, prob, src) in s.execute(q):
        out.append({"id": bid, "model_a": a, "model_b": b, "winner": w, "judge": vj or bj, "anony": bool(anony),
                    "invalid": bool(invalid), "counted": bool(counted), "tstamp": _epoch(vcreated or bcreated),
                    "category": cat, "instruction": instr, "image_sha256": sha, "sampling_prob": prob,
                    "source": src, "excluded": bid in gone})
    return out


def all_battles(s: Session, voted_only: bool = True) -> list[dict]:
    """Full rows for export (clean_battle + point fields)."""
    q = select(ArenaBattle, ArenaVote).outerjoin(ArenaVote, ArenaVote.battle_id == ArenaBattle.id)
    if voted_only:
        q = q.where(ArenaVote.id.is_not(None))
    return [battle_dict(b, v) for b, v in s.execute(q.order_by(ArenaBattle.created, ArenaBattle.id))]


def import_battle(s: Session, battle: dict, winner: str, content_hash: str, tstamp: float | None,
                  question_id: str | None = None) -> bool:
    """Insert an imported battle and its vote unless the same content (or our own battle id) is already stored."""
    if question_id and s.get(ArenaBattle, str(question_id)[:32]) is not None:
        return False
    if s.scalar(select(ArenaBattle.id).where(ArenaBattle.content_hash == content_hash)) is not None:
        return False
    when = {"created": datetime.fromtimestamp(tstamp, tz=timezone.utc).replace(tzinfo=None)} if tstamp else {}
    try:
        with s.begin_nested():
            b = ArenaBattle(content_hash=content_hash, **when, **battle)
            s.add(b)
            s.flush()
            s.add(ArenaVote(battle_id=b.id, session_id=None, judge_id=battle.get("judge_id"), winner=winner,
                            dwell_s=None, counted=True, note=f"imported:{battle.get('source')}", **when))
            s.flush()
    except IntegrityError:
        return False
    return True


def counts(s: Session) -> dict:
    return {"battles": s.scalar(select(func.count()).select_from(ArenaBattle)) or 0,
            "votes": s.scalar(select(func.count()).select_from(ArenaVote)) or 0,
            "last_vote": (lambda t: t.isoformat() if t else None)(s.scalar(select(func.max(ArenaVote.created))))}


def recent_battle_times(s: Session, *, session_id: str | None = None, ip_hash: str | None = None,
                        since: datetime) -> int:
    """How many battles this session / IP started since `since` (rate limiting across replicas)."""
    q = select(func.count()).select_from(ArenaBattle).where(ArenaBattle.created >= since)
    if session_id:
        q = q.where(ArenaBattle.session_id == session_id)
    elif ip_hash:
        q = q.where(ArenaBattle.ip_hash == ip_hash)
    else:
        return 0
    return s.scalar(q) or 0
