"""All SQL of the Point-Battle arena. Battles are inserted once, complete; votes are insert-only and unique
per battle (the database enforces "at most one vote", not just the UI)."""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone

from sqlalchemy import func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.arena.vocab import WINNERS
from storage.models import ArenaBattle, ArenaVote, utcnow
from storage.repos.sessions import touch_session


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


def voted_battles(s: Session, category: str | None = None) -> list[dict]:
    """Battles with their vote, for ratings and admin views (light columns only)."""
    q = (select(ArenaBattle.id, ArenaBattle.model_a, ArenaBattle.model_b, ArenaVote.winner, ArenaVote.judge_id,
                ArenaBattle.judge_id, ArenaBattle.anony, ArenaBattle.invalid, ArenaVote.counted, ArenaVote.created,
                ArenaBattle.created, ArenaBattle.category, ArenaBattle.instruction, ArenaBattle.image_sha256,
                ArenaBattle.sampling_prob, ArenaBattle.source)
         .join(ArenaVote, ArenaVote.battle_id == ArenaBattle.id).order_by(ArenaVote.created, ArenaVote.id))
    if category:
        q = q.where(ArenaBattle.category == category)
    out = []
    for (bid, a, b, w, vj, bj, anony, invalid, counted, vcreated, bcreated, cat, instr, sha, prob, src) in s.execute(q):
        out.append({"id": bid, "model_a": a, "model_b": b, "winner": w, "judge": vj or bj, "anony": bool(anony),
                    "invalid": bool(invalid), "counted": bool(counted), "tstamp": _epoch(vcreated or bcreated),
                    "category": cat, "instruction": instr, "image_sha256": sha, "sampling_prob": prob,
                    "source": src})
    return out


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


# ---------------------------------------------------------------- aggregation for ratings (issue 14)

def count_filters(category: str | None = None) -> list:
    """The one definition of a counted vote, as SQL: voted, anonymous, valid, counted (min dwell), category.

    Mirrors `backend.arena.ratings.countable` (NULL anony = anonymous, NULL invalid = valid, NULL counted = counted).
    Admin exclusions (trustid) belong here too, so every aggregate honours them."""
    conds = [ArenaVote.winner.is_not(None), func.coalesce(ArenaBattle.anony, True).is_(True),
             func.coalesce(ArenaBattle.invalid, False).is_(False), func.coalesce(ArenaVote.counted, True).is_(True)]
    if category:
        conds.append(ArenaBattle.category == category)
    return conds


def _vote_time():
    return func.coalesce(ArenaVote.created, ArenaBattle.created)


def _capped(category: str | None, daily_cap: int | None):
    """Counted votes as a subquery (model_a, model_b, winner); with a daily cap, each judge's first `daily_cap`
    counted votes per UTC day (FastChat `limit_user_votes`), by ROW_NUMBER() over (judge, day) in vote order."""
    cols = [ArenaBattle.model_a.label("model_a"), ArenaBattle.model_b.label("model_b"),
            ArenaVote.winner.label("winner")]
    base = select(*cols).join(ArenaVote, ArenaVote.battle_id == ArenaBattle.id).where(*count_filters(category))
    if not daily_cap:
        return base.subquery()
    judge = func.coalesce(ArenaVote.judge_id, ArenaBattle.judge_id)
    day = func.date(_vote_time())
    rank = func.row_number().over(partition_by=(judge, day), order_by=(_vote_time(), ArenaVote.id))
    ranked = base.add_columns(rank.label("rk")).subquery()
    return select(ranked.c.model_a, ranked.c.model_b, ranked.c.winner).where(ranked.c.rk <= daily_cap).subquery()


def outcome_counts(s: Session, category: str | None = None, daily_cap: int | None = None) -> list[tuple]:
    """(model_a, model_b, winner, n) for counted votes: at most 3·M² rows, whatever the number of battles."""
    sub = _capped(category, daily_cap)
    q = (select(sub.c.model_a, sub.c.model_b, sub.c.winner, func.count().label("n"))
         .group_by(sub.c.model_a, sub.c.model_b, sub.c.winner))
    return [tuple(r) for r in s.execute(q)]


def iter_counted_votes(s: Session, category: str | None = None, chunk: int = 20_000) -> Iterator[tuple]:
    """(model_a, model_b, winner) of counted votes in vote order, streamed as plain tuples (online Elo)."""
    q = (select(ArenaBattle.model_a, ArenaBattle.model_b, ArenaVote.winner)
         .join(ArenaVote, ArenaVote.battle_id == ArenaBattle.id).where(*count_filters(category))
         .order_by(ArenaVote.created, ArenaVote.id).execution_options(yield_per=chunk))
    for part in s.execute(q).partitions():
        yield from part


def count_voted(s: Session, category: str | None = None) -> int:
    """Every voted battle (counted or not) in the category."""
    q = select(func.count()).select_from(ArenaVote).join(ArenaBattle, ArenaVote.battle_id == ArenaBattle.id)
    if category:
        q = q.where(ArenaBattle.category == category)
    return int(s.scalar(q) or 0)


# ---------------------------------------------------------------- bulk import / streaming export

def _insert_ignoring(s: Session, table):
    """INSERT … ON CONFLICT DO NOTHING for the session's dialect."""
    name = s.get_bind().dialect.name
    if name == "sqlite":
        return sqlite_insert(table).on_conflict_do_nothing()
    if name == "postgresql":
        return pg_insert(table).on_conflict_do_nothing()
    return insert(table)


def existing_ids(s: Session, ids: list[str]) -> set[str]:
    out: set[str] = set()
    for i in range(0, len(ids), 900):  # SQLite's bound-parameter limit
        part = ids[i:i + 900]
        out.update(s.scalars(select(ArenaBattle.id).where(ArenaBattle.id.in_(part))))
    return out


def bulk_insert_battles(s: Session, battles: list[dict], votes: list[dict]) -> int:
    """Insert imported battles (each with a fresh id and a content hash) and their votes in this transaction.

    Battles whose content hash is already stored are skipped by the database (ON CONFLICT DO NOTHING); the votes
    are then written only for the battles that went in. Returns how many battles were added."""
    if not battles:
        return 0
    if s.get_bind().dialect.name == "postgresql":
        added = _pg_copy_battles(s, battles)
    else:
        ids = [b["id"] for b in battles]
        before = existing_ids(s, ids)  # ids are fresh, but a caller may pass a stored one: never vote on it
        s.execute(_insert_ignoring(s, ArenaBattle.__table__), battles)
        added = existing_ids(s, ids) - before
    keep = [v for v in votes if v["battle_id"] in added]
    if keep:
        s.execute(insert(ArenaVote.__table__), keep)
    return len(keep)


_COPY_COLS = ("id", "created", "judge_id", "image_sha256", "image_source", "category", "instruction", "model_a",
              "model_b", "sampling_prob", "swapped", "anony", "points_a", "points_b", "raw_a", "raw_b", "parse_ok_a",
              "parse_ok_b", "invalid", "source", "content_hash")


def _pg_copy_battles(s: Session, battles: list[dict]) -> set[str]:
    """PostgreSQL: COPY the chunk into a temporary table, then INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING id."""
    conn = s.connection().connection.driver_connection  # psycopg 3
    cols = ", ".join(_COPY_COLS)
    with conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE IF NOT EXISTS arena_import_stage (LIKE arena_battles INCLUDING DEFAULTS) "
                    "ON COMMIT DELETE ROWS")
        with cur.copy(f"COPY arena_import_stage ({cols}) FROM STDIN") as cp:
            now = utcnow()
            for b in battles:
                row = {c: b.get(c) for c in _COPY_COLS}
                row["created"] = row["created"] or now
                for c in ("points_a", "points_b"):
                    row[c] = json.dumps(row[c]) if row[c] is not None else None
                cp.write_row([row[c] for c in _COPY_COLS])
        cur.execute(f"INSERT INTO arena_battles ({cols}) SELECT {cols} FROM arena_import_stage "
                    "ON CONFLICT DO NOTHING RETURNING id")
        added = {r[0] for r in cur.fetchall()}
        cur.execute("DELETE FROM arena_import_stage")
    return added


def iter_battle_rows(s: Session, voted_only: bool = True, chunk: int = 5_000) -> Iterator[dict]:
    """Every battle with its vote as a plain dict (column values, no ORM objects), streamed in chunks."""
    cols = [c for c in ArenaBattle.__table__.columns]
    vcols = [ArenaVote.winner.label("v_winner"), ArenaVote.counted.label("v_counted"),
             ArenaVote.dwell_s.label("v_dwell_s"), ArenaVote.created.label("v_created")]
    q = select(*cols, *vcols).outerjoin(ArenaVote, ArenaVote.battle_id == ArenaBattle.id)
    if voted_only:
        q = q.where(ArenaVote.id.is_not(None))
    q = q.order_by(ArenaBattle.created, ArenaBattle.id).execution_options(yield_per=chunk)
    for part in s.execute(q).mappings().partitions():
        for r in part:
            d = {c.name: r[c.name] for c in cols}
            d["tstamp"] = _epoch(r["created"])
            d["created"] = r["created"].isoformat() if r["created"] else None
            d["winner"] = r["v_winner"]
            d["vote_counted"] = r["v_counted"]
            d["vote_dwell_s"] = r["v_dwell_s"]
            d["vote_tstamp"] = _epoch(r["v_created"])
            yield d
