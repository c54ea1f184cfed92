"""SVG studio persistence: generations with their candidates, and pairwise votes (append-only).

Votes are never updated or deleted here. Votes stored before the comparison was blind (migration svg_0002,
blind=False) stay in the table but are left out of the ratings' battles table."""
from __future__ import annotations

import hashlib

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.errors import UserError
from storage.models import SvgCandidate, SvgGeneration, SvgVote


def add_generation(s: Session, *, kind: str, prompt: str, style: str, style_card: dict | None, engine: str,
                   seed: int, n: int, elapsed_s: float | None, candidates: list[dict], session_id: str | None = None,
                   metrics: dict | None = None) -> tuple[int, list[int]]:
    """Store one generation and its candidates (dicts with svg + Candidate.manifest() fields); return ids."""
    gen = SvgGeneration(kind=kind[:16], prompt=prompt, style=style[:128], style_card=style_card, engine=engine[:64],
                        seed=int(seed), n=int(n), elapsed_s=elapsed_s, metrics=metrics, session_id=session_id)
    s.add(gen)
    s.flush()
    ids = []
    for rank, c in enumerate(candidates):
        row = SvgCandidate(generation_id=gen.id, rank=rank, svg=c["svg"],
                           svg_sha256=hashlib.sha256(c["svg"].encode()).hexdigest(), engine=c.get("engine", engine),
                           concept=(c.get("concept") or "")[:256], source_id=c.get("source_id"),
                           nearest_id=c.get("nearest_id"), similarity=c.get("similarity"),
                           text_score=c.get("text_score"), licence=(c.get("licence") or "")[:256],
                           metrics=c.get("metrics"), notes=c.get("notes"))
        s.add(row)
        s.flush()
        ids.append(row.id)
    return gen.id, ids


def _cand(c: SvgCandidate) -> dict:
    return {"id": c.id, "generation_id": c.generation_id, "rank": c.rank, "engine": c.engine, "svg": c.svg,
            "concept": c.concept, "source_id": c.source_id, "nearest_id": c.nearest_id, "similarity": c.similarity,
            "text_score": c.text_score, "licence": c.licence, "metrics": c.metrics, "notes": c.notes}


def get_candidate(s: Session, candidate_id: int) -> dict | None:
    c = s.get(SvgCandidate, int(candidate_id))
    if c is None:
        return None
    g = s.get(SvgGeneration, c.generation_id)
    if g is None:
        return {**_cand(c), "prompt": None, "style": None, "session_id": None}
    return {**_cand(c), "prompt": g.prompt, "style": g.style, "session_id": g.session_id}


def generation_owner(s: Session, generation_id: int) -> tuple[bool, str | None]:
    """(exists, session id that made it)."""
    g = s.get(SvgGeneration, int(generation_id))
    return (g is not None, g.session_id if g is not None else None)


def awaiting_vote(s: Session, generation_id: int) -> bool:
    """True for a blind comparison ("compare" generation) whose pair has no vote yet: until then nothing may say which
    engine drew which side (only the session that made it can vote, so a vote is that session's)."""
    g = s.get(SvgGeneration, int(generation_id))
    if g is None or g.kind != "compare":
        return False
    ids = select(SvgCandidate.id).where(SvgCandidate.generation_id == g.id)
    voted = select(SvgVote.id).where(SvgVote.candidate_a.in_(ids) | SvgVote.candidate_b.in_(ids)).limit(1)
    return s.scalar(voted) is None


def generation_candidates(s: Session, generation_id: int) -> list[dict]:
    q = select(SvgCandidate).where(SvgCandidate.generation_id == int(generation_id)).order_by(SvgCandidate.rank)
    return [_cand(c) for c in s.scalars(q)]


def recent_generations(s: Session, session_id: str | None = None, limit: int = 20) -> list[dict]:
    q = select(SvgGeneration).order_by(SvgGeneration.id.desc()).limit(limit)
    if session_id:
        q = q.where(SvgGeneration.session_id == session_id)
    out = []
    for g in s.scalars(q):
        n_c = s.scalar(select(func.count()).select_from(SvgCandidate).where(SvgCandidate.generation_id == g.id))
        out.append({"id": g.id, "created": g.created.isoformat(timespec="seconds"), "kind": g.kind,
                    "prompt": g.prompt, "style": g.style, "engine": g.engine, "seed": g.seed,
                    "candidates": int(n_c or 0), "elapsed_s": g.elapsed_s})
    return out


class DuplicateVote(UserError):
    """This pair already has its one vote."""


def add_vote(s: Session, *, prompt: str, style: str, model_a: str, model_b: str, candidate_a: int, candidate_b: int,
             winner: str, session_id: str | None = None) -> int:
    """Append the pair's one vote (the database enforces it with a unique pair key). Every vote cast through here is
    blind: the pair must be the two candidates of one "compare" generation, for which backend.svg.service.compare
    drew which engine is shown as A (candidates of separate generations, whose engine the user picked, are refused)."""
    lo, hi = sorted((int(candidate_a), int(candidate_b)))
    gens = {c.generation_id for c in s.scalars(select(SvgCandidate).where(SvgCandidate.id.in_((lo, hi))))}
    gen = s.get(SvgGeneration, gens.pop()) if len(gens) == 1 and lo != hi else None
    if gen is None or gen.kind != "compare":  # any two of a session's candidates were taken and counted as blind
        raise UserError("A vote is on the two icons of one blind comparison (Compare two engines); these "
                        "candidates are not one comparison's pair.")
    key = f"{lo}-{hi}"
    if s.scalar(select(SvgVote.id).where(SvgVote.pair_key == key)) is not None:
        raise DuplicateVote("This pair already has a vote; each comparison takes exactly one.")
    row = SvgVote(prompt=prompt, style=style[:128], model_a=model_a, model_b=model_b, candidate_a=int(candidate_a),
                  candidate_b=int(candidate_b), winner=winner, session_id=session_id, pair_key=key,
                 blind=True)
    try:
        with s.begin_nested():
            s.add(row)
            s.flush()
    except IntegrityError as exc:  # a concurrent vote won the race
        raise DuplicateVote("This pair already has a vote; each comparison takes exactly one.") from exc
    return row.id


def battles_frame(s: Session) -> pd.DataFrame:
    """Blind votes as a battles table for backend.arena.ratings (columns model_a, model_b, winner, tstamp, ...);
    votes from before the comparison was blind are not counted (non_blind_votes says how many)."""
    rows = [{"model_a": v.model_a, "model_b": v.model_b, "winner": v.winner, "tstamp": v.created.timestamp(),
             "anony": True, "instruction": v.prompt, "category": v.style}
            for v in s.scalars(select(SvgVote).where(SvgVote.blind.is_(True)).order_by(SvgVote.id))]
    return pd.DataFrame(rows, columns=["model_a", "model_b", "winner", "tstamp", "anony", "instruction", "category"])


def non_blind_votes(s: Session) -> int:
    """How many stored votes were cast before the comparison was blind (kept, not counted in the ratings)."""
    return int(s.scalar(select(func.count()).select_from(SvgVote).where(SvgVote.blind.is_(False))) or 0)
