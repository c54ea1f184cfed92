"""All SQL of the Point-Battle arena. Battles are inserted once, complete; votes are insert-only and unique
per battle (the database enforces "at most one vote", not just the UI)."""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import ColumnElement, Table, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.arena.vocab import WINNERS
from backend.errors import UserError
from storage.models import ArenaBattle, ArenaVote, SessionRow, utcnow
from storage.repos.exclusions import excluded_ids, not_excluded
from storage.repos.sessions import touch_session


class VoteRejected(UserError):
    """The vote cannot be accepted; the message says why (shown to the user)."""


def _epoch(dt: datetime | None) -> float | None:
    return dt.replace(tzinfo=UTC).timestamp() if dt else None


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


_TARGET_COLUMNS = (ArenaBattle.created, ArenaBattle.session_id, ArenaBattle.model_a, ArenaBattle.model_b,
                   ArenaBattle.raw_a, ArenaBattle.raw_b, ArenaBattle.latency_a, ArenaBattle.latency_b,
                   ArenaBattle.extra, ArenaVote.id.label("vote_id"))
_VOTE_TARGET = (select(*_TARGET_COLUMNS).outerjoin(ArenaVote, ArenaVote.battle_id == ArenaBattle.id)
                .where(ArenaBattle.id == bindparam("battle_id")))
_VOTE_TARGETS = (select(ArenaBattle.id, *_TARGET_COLUMNS).outerjoin(ArenaVote, ArenaVote.battle_id == ArenaBattle.id)
                 .where(ArenaBattle.id.in_(bindparam("ids", expanding=True))))
_VOTES = cast(Table, ArenaVote.__table__)
_SESSIONS = cast(Table, SessionRow.__table__)
_INSERT_VOTE = insert(_VOTES)
_SEEN = (update(_SESSIONS).where(_SESSIONS.c.id == bindparam("sid"))
         .values(last_seen=bindparam("now")))
ALREADY_VOTED = "This battle already has a vote; each battle takes exactly one."


def vote_target(s: Session, battle_id: str) -> dict | None:
    """What a vote needs to know about its battle, in one query: owner, age, names, outputs, whether voted.
    (The statements of the vote path are built once: it is the arena's hottest write.)"""
    row = s.execute(_VOTE_TARGET, {"battle_id": battle_id}).mappings().first()
    return None if row is None else {"id": battle_id, **row}


def vote_targets(s: Session, battle_ids: list[str]) -> dict[str, dict]:
    """`vote_target` of many battles in one query (a group commit's batch): battle id -> target; absent ids absent."""
    rows = s.execute(_VOTE_TARGETS, {"ids": list(dict.fromkeys(battle_ids))}).mappings()
    return {r["id"]: dict(r) for r in rows}


def vote_row(target: dict, *, session_id: str | None, judge_id: str | None, winner: str, dwell_s: float | None,
             counted: bool, note: str | None = None) -> dict:
    """The row of the vote for `target` (from `vote_target(s)`), or VoteRejected with a clear sentence: a second
    vote, or one from another session. (A batch sets `target["vote_id"]` once it has queued a row, so a second vote
    for the same battle in the same batch is refused too.)"""
    if winner not in WINNERS:
        raise VoteRejected(f"Unknown vote {winner!r}.")
    if target["session_id"] is None or target["session_id"] != session_id:
        raise VoteRejected("Only the person who started this battle can vote on it.")
    if target["vote_id"] is not None:
        raise VoteRejected(ALREADY_VOTED)
    return {"battle_id": target["id"], "created": utcnow(), "session_id": session_id, "judge_id": judge_id,
            "winner": winner, "dwell_s": dwell_s, "counted": counted, "note": note}


def insert_votes(s: Session, rows: list[dict]) -> None:
    """Insert vote rows (from `vote_row`) and refresh their sessions' last_seen: two statements for any number of
    votes. The unique battle_id settles any race with another thread or replica: a lone vote that loses it gets
    VoteRejected; a batch gets the IntegrityError (the group commit then retries its votes one by one)."""
    if not rows:
        return
    try:
        s.execute(_INSERT_VOTE, rows)
    except IntegrityError as exc:
        if len(rows) == 1:
            raise VoteRejected(ALREADY_VOTED) from exc
        raise
    seen: dict = {}
    for r in rows:
        seen[r["session_id"]] = r["created"]
    s.execute(_SEEN, [{"sid": sid, "now": now} for sid, now in seen.items()])


def insert_vote(s: Session, battle_id: str, *, session_id: str | None, judge_id: str | None, winner: str,
                dwell_s: float | None, counted: bool, note: str | None = None) -> None:
    """Append one vote outside a group commit; refuse a missing battle, a second vote or one from another session
    with a clear sentence (the checks of `vote_row`; the unique battle_id settles any race)."""
    target = vote_target(s, battle_id)
    if target is None:
        raise VoteRejected("This battle does not exist (it may have expired). Start a new round.")
    insert_votes(s, [vote_row(target, session_id=session_id, judge_id=judge_id, winner=winner, dwell_s=dwell_s,
                              counted=counted, note=note)])


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
    Votes an admin excluded (storage.repos.exclusions) are left out here, so every aggregate honours them."""
    conds: list[ColumnElement[bool]] = [ArenaVote.winner.is_not(None), func.coalesce(ArenaBattle.anony, True).is_(True),
             func.coalesce(ArenaBattle.invalid, False).is_(False), func.coalesce(ArenaVote.counted, True).is_(True),
             not_excluded(ArenaBattle.id)]
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
    if s.get_bind().dialect.name == "sqlite":
        return _sqlite_index_only(s, q)
    return [tuple(r) for r in s.execute(q)]


_JOIN_TEXT = "FROM arena_battles JOIN arena_votes ON arena_votes.battle_id = arena_battles.id"
_JOIN_INDEX_ONLY = ("FROM arena_votes INDEXED BY ix_arena_votes_rating CROSS JOIN arena_battles INDEXED BY "
                    "ix_arena_battles_rating ON arena_votes.battle_id = arena_battles.id")


def _sqlite_index_only(s: Session, q) -> list[tuple]:
    """Run the aggregate with SQLite reading only the two covering indexes (migration arena_0002), votes in
    battle-id order outside, battles looked up by id inside. SQLite's planner otherwise scans battles by model_a
    and reads every battle row (2x slower at 100k votes). SQLAlchemy cannot say INDEXED BY / CROSS JOIN, so the
    compiled text gets those words; if the FROM clause ever reads differently, the plain statement runs."""
    compiled = q.compile(dialect=s.get_bind().dialect)
    sql = str(compiled)
    if sql.count(_JOIN_TEXT) != 1:
        return [tuple(r) for r in s.execute(q)]
    params = tuple(compiled.params[k] for k in compiled.positiontup or ())
    return [tuple(r) for r in s.connection().exec_driver_sql(sql.replace(_JOIN_TEXT, _JOIN_INDEX_ONLY), params)]


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
    are then written only for the battles that went in. Returns how many battles were added. SQLite gets one
    driver-level executemany per table (no per-row ORM or bind processing), PostgreSQL a COPY into a staging table."""
    if not battles:
        return 0
    dialect = s.get_bind().dialect.name
    if dialect == "postgresql":
        added = _pg_copy_battles(s, battles)
    elif dialect == "sqlite":
        ids = [b["id"] for b in battles]
        before = existing_ids(s, ids)  # ids are fresh, but a caller may pass a stored one: never vote on it
        cols = ", ".join(BATTLE_IMPORT_COLUMNS)
        s.connection().exec_driver_sql(
            f"INSERT INTO arena_battles ({cols}) VALUES ({', '.join('?' * len(BATTLE_IMPORT_COLUMNS))}) "
            "ON CONFLICT DO NOTHING", _sqlite_rows(battles, BATTLE_IMPORT_COLUMNS))
        added = existing_ids(s, ids) - before
    else:
        ids = [b["id"] for b in battles]
        before = existing_ids(s, ids)
        s.execute(_insert_ignoring(s, ArenaBattle.__table__), battles)
        added = existing_ids(s, ids) - before
    keep = [v for v in votes if v["battle_id"] in added]
    if not keep:
        return 0
    if dialect == "postgresql":
        _pg_copy(s, "arena_votes", VOTE_IMPORT_COLUMNS, keep)
    elif dialect == "sqlite":
        s.connection().exec_driver_sql(
            f"INSERT INTO arena_votes ({', '.join(VOTE_IMPORT_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(VOTE_IMPORT_COLUMNS))})", _sqlite_rows(keep, VOTE_IMPORT_COLUMNS))
    else:
        s.execute(insert(_VOTES), keep)
    return len(keep)


BATTLE_IMPORT_COLUMNS = ("id", "created", "judge_id", "image_sha256", "image_source", "category", "instruction",
                         "model_a", "model_b", "sampling_prob", "swapped", "anony", "points_a", "points_b", "raw_a",
                         "raw_b", "parse_ok_a", "parse_ok_b", "invalid", "source", "content_hash")
VOTE_IMPORT_COLUMNS = ("battle_id", "created", "session_id", "judge_id", "winner", "dwell_s", "counted", "note")
_JSON_COLUMNS = {"points_a", "points_b"}


def _column(rows: list[dict], c: str, now: datetime, sqlite: bool) -> list:
    """One column of plain rows as the driver wants it: JSON as text, datetimes as SQLAlchemy's
    SQLite text format, a missing `created` as now."""
    vals = [r.get(c) for r in rows]
    if c in _JSON_COLUMNS:  # None as JSON 'null', as SQLAlchemy's JSON type stores it
        return [json.dumps(v) for v in vals]
    if c == "created":
        filled = [v or now for v in vals]
        return [v.isoformat(sep=" ", timespec="microseconds") for v in filled] if sqlite else filled
    return vals


def _sqlite_rows(rows: list[dict], cols: tuple) -> list[tuple]:
    now = utcnow()
    return list(zip(*(_column(rows, c, now, True) for c in cols), strict=True))


def _pg_copy(s: Session, table: str, cols: tuple, rows: list[dict]) -> None:
    now = utcnow()
    conn = s.connection().connection.driver_connection  # psycopg 3
    assert conn is not None
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as cp:
        for row in zip(*(_column(rows, c, now, False) for c in cols), strict=True):
            cp.write_row(row)


def _pg_copy_battles(s: Session, battles: list[dict]) -> set[str]:
    """PostgreSQL: COPY the chunk into a temporary table, then INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING id."""
    conn = s.connection().connection.driver_connection
    assert conn is not None
    cols = ", ".join(BATTLE_IMPORT_COLUMNS)
    with conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE IF NOT EXISTS arena_import_stage (LIKE arena_battles INCLUDING DEFAULTS) "
                    "ON COMMIT DELETE ROWS")
    _pg_copy(s, "arena_import_stage", BATTLE_IMPORT_COLUMNS, battles)
    with conn.cursor() as cur:
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
