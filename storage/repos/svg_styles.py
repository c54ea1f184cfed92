"""Style library repository (all SQL for svg_styles). Functions take a Session from get_storage().write/read."""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from storage.models import SvgStyleRow, utcnow


def _row(r: SvgStyleRow, with_token: bool = True) -> dict:
    d = {"id": r.id, "name": r.name, "created": r.created.isoformat(), "updated": r.updated.isoformat(),
         "session_id": r.session_id, "model_sha": r.model_sha, "base_style": r.base_style, "card": r.card,
         "n_exemplars": r.n_exemplars, "exemplar_sha": r.exemplar_sha, "train_s": r.train_s,
         "train_info": r.train_info, "notes": r.notes}
    if with_token:
        d["token"] = r.token
    return d


def add_style(s: Session, *, name: str, model_sha: str, base_style: str, token: list[float], card: dict | None,
              n_exemplars: int, exemplar_sha: list[str] | None = None, train_s: float | None = None,
              train_info: dict | None = None, session_id: str | None = None, notes: str | None = None) -> int:
    row = SvgStyleRow(name=name[:128], model_sha=model_sha, base_style=base_style[:128],
                      token=[float(x) for x in token], card=card, n_exemplars=int(n_exemplars),
                      exemplar_sha=exemplar_sha, train_s=train_s, train_info=train_info,
                      session_id=session_id, notes=notes)
    s.add(row)
    s.flush()
    return row.id


def list_styles(s: Session, model_sha: str | None = None, with_token: bool = False,
                visible_to: str | None = None) -> list[dict]:
    """Saved styles; with `visible_to`, only that session's own and the shared ones (learned without a session,
    i.e. from the CLI)."""
    q = select(SvgStyleRow).where(SvgStyleRow.deleted.is_(False)).order_by(SvgStyleRow.id)
    if model_sha:
        q = q.where(SvgStyleRow.model_sha == model_sha)
    if visible_to is not None:
        q = q.where(or_(SvgStyleRow.session_id == visible_to, SvgStyleRow.session_id.is_(None)))
    return [_row(r, with_token) for r in s.scalars(q)]


def get_style(s: Session, style_id: int) -> dict | None:
    r = s.get(SvgStyleRow, int(style_id))
    return None if r is None or r.deleted else _row(r)


def rename_style(s: Session, style_id: int, name: str) -> bool:
    r = s.get(SvgStyleRow, int(style_id))
    if r is None or r.deleted:
        return False
    r.name, r.updated = name[:128], utcnow()
    return True


def delete_style(s: Session, style_id: int) -> bool:
    r = s.get(SvgStyleRow, int(style_id))
    if r is None or r.deleted:
        return False
    r.deleted, r.updated = True, utcnow()
    return True
