"""SQL for Point-Bench annotations and results (the only place that queries these tables)."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from backend.arena.vocab import failed_run
from backend.errors import UserError
from storage.models import BenchAnnotation, BenchResult, utcnow
from storage.models.bench import ANNOTATION_STATUSES


def _ann_dict(r: BenchAnnotation, with_mask: bool = False) -> dict:
    d = {"id": r.id, "created": r.created.isoformat(timespec="seconds"), "session_id": r.session_id,
         "annotator": r.annotator, "source_battle_id": r.source_battle_id, "image_sha256": r.image_sha256,
         "user_input": r.user_input, "category": r.category, "count": r.count, "ref_point": r.ref_point,
         "mask_pixels": r.mask_pixels, "models_correct": r.models_correct, "models_checked": r.models_checked,
         "status": r.status, "reviewer": r.reviewer,
         "reviewed_at": r.reviewed_at.isoformat(timespec="seconds") if r.reviewed_at else None,
         "review_note": r.review_note}
    if with_mask:
        d["mask_png"] = r.mask_png
    return d


def add_annotation(s: Session, **fields) -> int:
    row = BenchAnnotation(status="pending", **fields)
    s.add(row)
    s.flush()
    return row.id


def get_annotation(s: Session, ann_id: int, with_mask: bool = True) -> dict | None:
    row = s.get(BenchAnnotation, ann_id)
    return _ann_dict(row, with_mask) if row else None


def list_annotations(s: Session, status: str | None = None, limit: int = 200, with_mask: bool = False) -> list[dict]:
    q = select(BenchAnnotation).order_by(BenchAnnotation.id.desc()).limit(limit)
    if status:
        q = q.where(BenchAnnotation.status == status)
    return [_ann_dict(r, with_mask) for r in s.scalars(q)]


def count_annotations(s: Session) -> dict[str, int]:
    rows = s.execute(select(BenchAnnotation.status, func.count()).group_by(BenchAnnotation.status)).all()
    out = {k: 0 for k in ANNOTATION_STATUSES}
    out.update({k: int(v) for k, v in rows})
    return out


def review_annotation(s: Session, ann_id: int, decision: str, reviewer: str, note: str | None = None) -> dict:
    if decision not in ("accepted", "rejected"):
        raise UserError(f"A review decision is 'accepted' or 'rejected', not {decision!r}.")
    row = s.get(BenchAnnotation, ann_id)
    if row is None:
        raise UserError(f"There is no annotation #{ann_id}.")
    row.status, row.reviewer, row.reviewed_at, row.review_note = decision, reviewer[:128], utcnow(), note
    s.flush()
    return _ann_dict(row)


def add_result(s: Session, res: dict, session_id: str | None = None, keep_items: bool = True) -> int:
    row = BenchResult(model=str(res["model"])[:128], bench=str(res.get("bench", ""))[:128],
                      bench_fingerprint=str(res.get("bench_fingerprint", ""))[:32],
                      source=str(res.get("source", "pointer"))[:16], n=int(res["n"]), average=float(res["average"]),
                      per_category=dict(res["per_category"]), items=res.get("items") if keep_items else None,
                      session_id=session_id)
    s.add(row)
    s.flush()
    return row.id


def _is_failed(r: BenchResult) -> bool:
    """A 0 % row whose every item is a pointer error (vocab.failed_run). Only 0 % rows can be failed runs, so only
    their items are read."""
    return r.average <= 0 and failed_run(r.items)


def latest_results(s: Session, bench: str | None = None, with_items: bool = False) -> dict[str, dict]:
    """The newest result row per model (optionally for one bench name). Failed runs (no item got a prediction,
    e.g. a pointer whose weights were missing) are never a model's result: an older row or nothing shows."""
    q = select(BenchResult).order_by(BenchResult.id.desc())
    if not with_items:
        q = q.options(defer(BenchResult.items))
    if bench:
        q = q.where(BenchResult.bench == bench)
    out: dict[str, dict] = {}
    for r in s.scalars(q):
        if r.model in out or _is_failed(r):
            continue
        out[r.model] = {"id": r.id, "created": r.created.isoformat(timespec="seconds"), "model": r.model,
                        "bench": r.bench, "bench_fingerprint": r.bench_fingerprint, "source": r.source, "n": r.n,
                        "average": r.average, "per_category": r.per_category,
                        **({"items": r.items} if with_items else {})}
    return out


def failed_results(s: Session) -> list[dict]:
    """Every stored failed run (see `_is_failed`), oldest first: what an operator reviews before deleting."""
    q = select(BenchResult).where(BenchResult.average <= 0).order_by(BenchResult.id)
    return [{"id": r.id, "created": r.created.isoformat(timespec="seconds"), "model": r.model, "bench": r.bench,
             "source": r.source, "n": r.n, "session_id": r.session_id,
             "first_reason": str((r.items or [{}])[0].get("reason", ""))[:200]}
            for r in s.scalars(q) if _is_failed(r)]


def delete_results(s: Session, ids: list[int]) -> int:
    """Delete result rows by id, only those that are failed runs (a scored result is never deleted here)."""
    gone = 0
    for rid in ids:
        r = s.get(BenchResult, int(rid))
        if r is not None and _is_failed(r):
            s.delete(r)
            gone += 1
    s.flush()
    return gone
