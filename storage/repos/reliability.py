"""Read-only integrity checks used by the load benchmark and the fault tests."""
from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def vote_integrity(s: Session) -> dict:
    """Counts that must hold after any load or crash: one vote per battle, no orphans."""
    q = lambda sql: s.execute(text(sql)).scalar() or 0  # noqa: E731
    return {
        "battles": q("SELECT count(*) FROM arena_battles"),
        "votes": q("SELECT count(*) FROM arena_votes"),
        "orphan_votes": q("SELECT count(*) FROM arena_votes v LEFT JOIN arena_battles b ON b.id = v.battle_id "
                          "WHERE b.id IS NULL"),
        "duplicate_votes": q("SELECT count(*) FROM (SELECT battle_id FROM arena_votes GROUP BY battle_id "
                             "HAVING count(*) > 1) d"),
        "incomplete_battles": q("SELECT count(*) FROM arena_battles WHERE model_a IS NULL OR model_b IS NULL "
                                "OR points_a IS NULL OR points_b IS NULL"),
    }


def votes_by_battle(s: Session) -> dict[str, dict]:
    rows = s.execute(text("SELECT v.battle_id, v.winner, b.model_a, b.model_b FROM arena_votes v "
                          "JOIN arena_battles b ON b.id = v.battle_id")).all()
    return {r[0]: {"winner": r[1], "model_a": r[2], "model_b": r[3]} for r in rows}


def sqlite_integrity_check(s: Session) -> str:
    return str(s.execute(text("PRAGMA integrity_check")).scalar())
