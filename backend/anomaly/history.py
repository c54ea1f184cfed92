""""Your recent inspections": a session's own stored inspections, listed and reopened after a page refresh.

Every inspection is stored (storage/repos/anomaly.py) with its engine, settings, thresholds, the sha256 of its prompt
images and, per query, the file name, query sha, score, verdict and regions; the images themselves are stored once by
sha256. Reopening hands the stored PNG files back (copied, not decoded, like a prompt pool) with the settings and the
stored per-query results. The anomaly maps are not stored, so nothing here draws one: the user presses Inspect again.
An inspection belongs to the session that ran it; another session's id reads exactly like a missing one.
"""
from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from backend.anomaly import exports
from backend.anomaly.engines import ROLES
from backend.errors import UserError
from backend.tempfiles import shared_dir
from storage.db import get_storage
from storage.repos import anomaly as repo
from storage.repos.images import image_path

RECENT_MAX = repo.RECENT_MAX


def _plain(text) -> str:
    return str(text)


@dataclass
class Reopened:
    """What "Reopen" puts back: files for the inputs (None when they are no longer stored), settings, results."""
    inspection_id: int
    prompts: list[str] | None
    queries: list[str] | None
    engine: str | None          # None: the stored engine is not one the tab offers (the dropdown is left alone)
    resolution: str             # "256", "512" or "tiled"
    top_k: int
    image_threshold: float
    pixel_threshold: float
    rows: list[dict] = field(default_factory=list)  # per query: filename, score, verdict (stored order)
    message: str = ""


def label(item: dict) -> str:
    when = item["created"][:16].replace("T", " ")
    return (f"#{item['id']} · {when} UTC · {item['engine']} · {item['n_queries']} quer"
            f"{'y' if item['n_queries'] == 1 else 'ies'} · {item['ng']} NG / {item['ok']} OK")


def recent(session_id: str | None, limit: int = RECENT_MAX) -> list[tuple[str, int]]:
    """(label, id) of this session's own inspections, newest first; never another session's."""
    items = get_storage().read(lambda s: repo.list_inspections(s, session_id, limit))
    return [(label(i), int(i["id"])) for i in items]


def _parse_id(value) -> int:
    text = str(value if value is not None else "").strip().lstrip("#").split(" ", 1)[0]
    if isinstance(value, bool) or not text.isdigit() or len(text) > 12:
        raise UserError("Please choose one of your recent inspections first.")
    return int(text)


def _copy(folder: Path, files: list[tuple[str, Path]]) -> list[str]:
    for name, src in files:
        shutil.copyfile(src, folder / name)
    return [str(folder / name) for name, _ in files]


def reopen(inspection_id, session_id: str | None, escape: Callable[[str], str] = _plain) -> Reopened:
    """The stored inspection `inspection_id` of this session: its prompt and query images as files, its settings and
    its stored per-query results. Another session's inspection, a missing id or no session: a UserError."""
    iid = _parse_id(inspection_id)

    def _r(s):
        insp = repo.get_inspection(s, iid)
        if insp is None or not session_id or insp["session_id"] != session_id:
            return None, [], []
        return (insp, [image_path(s, sha) for sha in insp["prompt_shas"]],
                [image_path(s, r["query_sha"]) for r in insp["results"]])

    insp, prompt_files, query_files = get_storage().read(_r)
    if insp is None:
        raise UserError(f"Inspection #{iid} is not one of this browser session's inspections (each session sees "
                        "only its own); choose one from “Your recent inspections”.")
    used: set[str] = set()
    q_names = [exports.safe_stem(r["filename"], used) + ".png" for r in insp["results"]]
    p_names = [f"prompt_{i:02d}.png" for i in range(len(prompt_files))]
    missing = sum(1 for f in prompt_files + query_files if f is None or not f.is_file())
    prompts = queries = None
    if not missing:
        def fill(d: Path) -> None:  # the stored PNGs as they are; one copy per inspection however often reopened
            (d / "prompts").mkdir()
            (d / "queries").mkdir()
            _copy(d / "prompts", list(zip(p_names, prompt_files, strict=True)))
            _copy(d / "queries", list(zip(q_names, query_files, strict=True)))

        key = hashlib.sha256("\0".join(["inspection", str(iid), *insp["prompt_shas"], *q_names,
                                        *(r["query_sha"] for r in insp["results"])]).encode()).hexdigest()[:24]
        d = shared_dir("reopen-" + key, fill)
        prompts = [str(d / "prompts" / n) for n in p_names]
        queries = [str(d / "queries" / n) for n in q_names]
    rows = [{"filename": r["filename"], "score": round(float(r["score"]), 4), "verdict": r["verdict"]}
            for r in insp["results"]]
    engine = insp["engine"] if insp["engine"] in ROLES else None
    msg = f"Stored results of inspection #{iid}; press **Inspect** to redraw the maps (maps are not stored)."
    if missing:
        msg += (f" {missing} of its {len(prompt_files) + len(query_files)} images are no longer stored, so its "
                "prompts and queries could not be put back into the inputs.")
    if engine is None:
        msg += f" Its engine “{escape(insp['engine'])}” is not offered here; the engine choice was left as it is."
    return Reopened(iid, prompts, queries, engine, "tiled" if insp["tiled"] else str(insp["size"]),
                    int(insp["retrieval_k"] or 0), float(insp["image_threshold"]), float(insp["pixel_threshold"]),
                    rows, msg)
