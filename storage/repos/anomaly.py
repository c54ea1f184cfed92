"""All SQL of the anomaly inspector (inspections, prompt pools, corrections).

Functions take an open SQLAlchemy Session (called through `get_storage().write/read`). Images are
passed already stored (sha256 from `storage.repos.images.store_image`).
"""
from __future__ import annotations

from sqlalchemy import case, false, func, or_, select, true, tuple_
from sqlalchemy.orm import Session

from storage.models import AnomalyCorrectionRow, AnomalyInspectionRow, AnomalyPromptPoolRow, AnomalyResultRow
from storage.repos.sessions import touch_session


def _session(s: Session, session_id: str | None) -> str | None:
    if session_id:
        touch_session(s, session_id)
    return session_id or None


def add_inspection(s: Session, *, session_id: str | None, engine: str, size: int, tiled: bool,
                   retrieval_k: int | None, image_threshold: float, pixel_threshold: float,
                   prompt_shas: list[str], results: list[dict], ms_total: float | None = None,
                   settings: dict | None = None) -> int:
    """Insert an inspection and its per-query results; return the inspection id.

    Each result dict has filename, query_sha, prompt_sha, prompt_similarity, score, verdict, ms, regions.
    """
    row = AnomalyInspectionRow(session_id=_session(s, session_id), engine=engine[:64], size=int(size),
                               tiled=bool(tiled), retrieval_k=retrieval_k, image_threshold=float(image_threshold),
                               pixel_threshold=float(pixel_threshold), prompt_shas=list(prompt_shas),
                               n_queries=len(results), ms_total=ms_total, settings=settings)
    s.add(row)
    s.flush()
    for i, r in enumerate(results):
        s.add(AnomalyResultRow(inspection_id=row.id, position=i, filename=str(r["filename"])[:256],
                               query_sha=r["query_sha"], prompt_sha=r.get("prompt_sha"),
                               prompt_similarity=r.get("prompt_similarity"), score=float(r["score"]),
                               verdict=str(r["verdict"])[:8], ms=r.get("ms"), regions=r.get("regions")))
    s.flush()
    return row.id


def get_inspection(s: Session, inspection_id: int) -> dict | None:
    row = s.get(AnomalyInspectionRow, inspection_id)
    if row is None:
        return None
    results = s.scalars(select(AnomalyResultRow).where(AnomalyResultRow.inspection_id == inspection_id)
                        .order_by(AnomalyResultRow.position)).all()
    return {"id": row.id, "created": row.created.isoformat(), "session_id": row.session_id, "engine": row.engine,
            "size": row.size, "tiled": row.tiled, "retrieval_k": row.retrieval_k,
            "image_threshold": row.image_threshold, "pixel_threshold": row.pixel_threshold,
            "prompt_shas": row.prompt_shas, "n_queries": row.n_queries, "ms_total": row.ms_total,
            "settings": row.settings,
            "results": [{"filename": r.filename, "query_sha": r.query_sha, "prompt_sha": r.prompt_sha,
                         "prompt_similarity": r.prompt_similarity, "score": r.score, "verdict": r.verdict,
                         "ms": r.ms, "regions": r.regions} for r in results]}


RECENT_MAX = 20  # inspections listed under "Your recent inspections"


def list_inspections(s: Session, session_id: str | None, limit: int = RECENT_MAX) -> list[dict]:
    """This session's own inspections, newest first (at most `limit`, capped at RECENT_MAX), with their NG/OK counts.
    No session, no list: inspections without a session belong to nobody who could ask for them."""
    if not session_id:
        return []
    rows = s.execute(select(AnomalyInspectionRow.id, AnomalyInspectionRow.created, AnomalyInspectionRow.engine,
                            AnomalyInspectionRow.n_queries)
                     .where(AnomalyInspectionRow.session_id == session_id)
                     .order_by(AnomalyInspectionRow.id.desc()).limit(max(1, min(int(limit), RECENT_MAX)))).all()
    ids = [r.id for r in rows]
    counts: dict[int, tuple[int, int]] = {}
    if ids:
        per = select(AnomalyResultRow.inspection_id,
                     func.sum(case((AnomalyResultRow.verdict == "NG", 1), else_=0)),
                     func.sum(case((AnomalyResultRow.verdict == "OK", 1), else_=0))) \
            .where(AnomalyResultRow.inspection_id.in_(ids)).group_by(AnomalyResultRow.inspection_id)
        counts = {i: (int(ng or 0), int(ok or 0)) for i, ng, ok in s.execute(per)}
    return [{"id": r.id, "created": r.created.isoformat(), "engine": r.engine, "n_queries": r.n_queries,
             "ng": counts.get(r.id, (0, 0))[0], "ok": counts.get(r.id, (0, 0))[1]} for r in rows]


def count_inspections(s: Session, session_id: str | None = None) -> int:
    q = select(func.count()).select_from(AnomalyInspectionRow)
    if session_id:
        q = q.where(AnomalyInspectionRow.session_id == session_id)
    return s.scalar(q) or 0


def save_pool(s: Session, *, session_id: str | None, product: str, name: str, prompt_shas: list[str],
              shared: bool = False) -> int:
    row = AnomalyPromptPoolRow(session_id=_session(s, session_id), product=product[:128], name=name[:128],
                               prompt_shas=list(prompt_shas), shared=bool(shared))
    s.add(row)
    s.flush()
    return row.id


def _newest_per(rows, key):
    """First row per key from rows ordered newest first (versions are appended, never updated)."""
    seen = set()
    for r in rows:
        k = key(r)
        if k not in seen:
            seen.add(k)
            yield r


def _visible(session_id: str | None, everything: bool = False):
    """Pools a session may see: its own and shared ones (`everything`: admin/maintenance reads)."""
    if everything:
        return true()
    own = AnomalyPromptPoolRow.session_id == session_id if session_id else false()
    return or_(own, AnomalyPromptPoolRow.shared.is_(True))


LIST_ROWS = 5_000  # newest pool rows read for a listing (every save appends a version)
LIST_POOLS = 200   # pools listed: all of the session's own (up to this many), then the newest shared ones


def shared_pool_owner(s: Session, product: str, name: str) -> tuple[bool, str | None]:
    """(whether a pool of that product and name is shared, the session that shared it first). A shared name
    belongs to its first sharer: a later visitor's shared pool of the same name made every other visitor load the
    newer one (anyone could swap the normal images of a product's shared pool for their own)."""
    row = s.execute(select(AnomalyPromptPoolRow.session_id)
                    .where(AnomalyPromptPoolRow.product == product, AnomalyPromptPoolRow.name == name,
                           AnomalyPromptPoolRow.shared.is_(True))
                    .order_by(AnomalyPromptPoolRow.id).limit(1)).first()
    return (row is not None, row[0] if row is not None else None)


def _first_sharers(s: Session, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], str | None]:
    """(product, name) -> the session that shared it first, for the given pairs."""
    if not pairs:
        return {}
    first = (select(func.min(AnomalyPromptPoolRow.id))
             .where(AnomalyPromptPoolRow.shared.is_(True),
                    tuple_(AnomalyPromptPoolRow.product, AnomalyPromptPoolRow.name).in_(sorted(pairs)))
             .group_by(AnomalyPromptPoolRow.product, AnomalyPromptPoolRow.name))
    rows = s.scalars(select(AnomalyPromptPoolRow).where(AnomalyPromptPoolRow.id.in_(first)))
    return {(r.product, r.name): r.session_id for r in rows}


def list_pools(s: Session, product: str | None = None, *, session_id: str | None = None,
               everything: bool = False) -> list[dict]:
    """Newest version of every visible (product, name, owner), newest first: the session's own pools and the newest
    shared ones, at most LIST_POOLS together. Every visitor's listing read every shared pool row ever saved, so a script saving shared pools in a
    loop grew everyone's dropdown and its cost without bound. Of another session's shared pools, one per name is
    listed, its first sharer's (the one `get_pool` loads), and none whose name the session uses itself."""
    q = (select(AnomalyPromptPoolRow).where(_visible(session_id, everything))
         .order_by(AnomalyPromptPoolRow.id.desc()).limit(LIST_ROWS))
    if product:
        q = q.where(AnomalyPromptPoolRow.product == product)
    rows = list(_newest_per(s.scalars(q), lambda r: (r.product, r.name, r.session_id)))
    own = [r for r in rows if session_id and r.session_id == session_id]
    others = [r for r in rows if r not in own]
    if not everything:
        taken = {(r.product, r.name) for r in own}
        first = _first_sharers(s, {(r.product, r.name) for r in others} - taken)
        others = [r for r in others if (r.product, r.name) in first and first[(r.product, r.name)] == r.session_id]
    rows = own[:LIST_POOLS] + others[:max(0, LIST_POOLS - len(own))]
    out = []
    for r in sorted(rows, key=lambda r: -r.id):
        out.append({"id": r.id, "product": r.product, "name": r.name, "n": len(r.prompt_shas),
                    "created": r.created.isoformat(), "prompt_shas": r.prompt_shas, "shared": bool(r.shared),
                    "own": bool(session_id) and r.session_id == session_id})
    return out


def get_pool(s: Session, product: str, name: str, *, session_id: str | None = None,
             everything: bool = False) -> dict | None:
    """Newest visible pool of that name: the session's own first, else the newest shared version of the session
    that shared the name first (see `shared_pool_owner`)."""
    q = select(AnomalyPromptPoolRow).where(AnomalyPromptPoolRow.product == product, AnomalyPromptPoolRow.name == name,
                                           _visible(session_id, everything))
    rows = list(s.scalars(q.order_by(AnomalyPromptPoolRow.id.desc())))
    own = [r for r in rows if session_id and r.session_id == session_id]
    if not own and rows and not everything:
        _, first = shared_pool_owner(s, product, name)
        rows = [r for r in rows if r.shared and r.session_id == first]
    picked = own or rows
    r = picked[0] if picked else None
    if r is None:
        return None
    return {"id": r.id, "product": r.product, "name": r.name, "prompt_shas": r.prompt_shas, "shared": bool(r.shared)}


def add_correction(s: Session, *, session_id: str | None, inspection_id: int | None, product: str,
                   defect_type: str, filename: str, query_sha: str, mask_sha: str, mask_pixels: int) -> int:
    if inspection_id is not None and s.get(AnomalyInspectionRow, inspection_id) is None:
        inspection_id = None
    row = AnomalyCorrectionRow(session_id=_session(s, session_id), inspection_id=inspection_id,
                               product=product[:128], defect_type=defect_type[:64], filename=filename[:256],
                               query_sha=query_sha, mask_sha=mask_sha, mask_pixels=int(mask_pixels))
    s.add(row)
    s.flush()
    return row.id


def list_corrections(s: Session, *, product: str | None = None, session_id: str | None = None,
                     per_session: bool = False) -> list[dict]:
    """Newest correction per (product, query image), oldest first, so exports are stable; `per_session`: newest per
    (product, query image, session), so corrections of one image by different sessions are all kept."""
    q = select(AnomalyCorrectionRow).order_by(AnomalyCorrectionRow.id.desc())
    if product:
        q = q.where(AnomalyCorrectionRow.product == product)
    if session_id:
        q = q.where(AnomalyCorrectionRow.session_id == session_id)
    out = []
    key = (lambda r: (r.product, r.query_sha, r.session_id)) if per_session else (lambda r: (r.product, r.query_sha))
    for r in _newest_per(s.scalars(q), key):
        out.append({"id": r.id, "session_id": r.session_id, "product": r.product, "defect_type": r.defect_type,
                    "filename": r.filename,
                    "query_sha": r.query_sha, "mask_sha": r.mask_sha, "mask_pixels": r.mask_pixels,
                    "inspection_id": r.inspection_id, "created": r.created.isoformat()})
    return out[::-1]
