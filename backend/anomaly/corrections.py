"""How corrections of one image by several sessions become one ground truth, or none (the export's conflict policy).

Why: the all-sessions export used to keep only the newest correction of each image, so a later visitor's mask
silently replaced an earlier one's, and a "good" from one annotator could overwrite another's defect. Policy:
- a session's newest correction of an image replaces its own earlier ones (storage: newest per image AND session);
- versions of different sessions AGREE when all say good, or all name the same defect type (case-insensitive) with
  masks overlapping the newest by IoU ≥ AGREE_IOU: the newest goes into the MVTec tree, every version is listed;
- otherwise the image is a CONFLICT: it stays out of the tree (an evaluation must not read one annotator's guess as
  the truth) and is exported apart with every version, for a person to settle.
Sessions are named by an opaque tag (a hash), never by their id.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

AGREE_IOU = 0.5


@dataclass
class Resolved:
    item: dict                   # the version that represents the image (the newest)
    versions: list[dict]         # every session's newest version, oldest first
    status: str                  # "single", "agreed" or "conflict"
    why: str = ""                # for a conflict: what the versions disagree on
    extra: dict = field(default_factory=dict)


def session_tag(session_id) -> str:
    return "anonymous" if not session_id else "s-" + hashlib.sha256(str(session_id).encode()).hexdigest()[:10]


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a) > 0, np.asarray(b) > 0
    if a.shape != b.shape:
        return 0.0
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def _is_defect(it: dict) -> bool:
    return bool(np.asarray(it["mask"]).any())


def disagreement(versions: list[dict]) -> str:
    """'' when the versions agree, else a sentence saying on what they disagree."""
    if len(versions) < 2:
        return ""
    flags = [_is_defect(v) for v in versions]
    if any(flags) and not all(flags):
        return (f"{flags.count(False)} session(s) marked the image good, {flags.count(True)} drew a defect")
    if not any(flags):
        return ""
    kinds = sorted({str(v.get("defect_type", "")).casefold() for v in versions})
    if len(kinds) > 1:
        return "the sessions name different defect types: " + ", ".join(kinds)
    newest = versions[-1]["mask"]
    low = min(mask_iou(v["mask"], newest) for v in versions[:-1])
    if low < AGREE_IOU:
        return f"the masks overlap the newest one by IoU {low:.2f} only (agreement needs ≥ {AGREE_IOU:g})"
    return ""


def resolve(items: list[dict]) -> list[Resolved]:
    """Group items (oldest first, at most one per session and image) by (product, image); one Resolved per image in
    order of first appearance."""
    groups: dict[tuple, list[dict]] = {}
    for it in items:
        key = (it["product"], it.get("query_sha") or id(it))
        groups.setdefault(key, []).append(it)
    out = []
    for versions in groups.values():
        versions = sorted(versions, key=lambda v: str(v.get("created") or ""))
        why = disagreement(versions)
        status = "conflict" if why else ("single" if len(versions) == 1 else "agreed")
        out.append(Resolved(versions[-1], versions, status, why))
    return out
