"""Point-Bench annotation collection: save an annotated item, review it, export accepted items as a bench.

An annotator marks the target region (brush layers from an image editor, or cells of PointArena's
50×50 grid), sets the category and `count`, and saves; the item starts `pending`. A reviewer holding
ADMIN_TOKEN accepts or rejects it. Export writes accepted items as a zip in Point-Bench layout, so the
evaluator (and PointArena's own scripts) can run on it unchanged. Optionally only "hard" items are
exported: PointArena kept a query when at most 1 of 3 models answered it correctly.
"""
from __future__ import annotations

import io
import json
import zipfile

import numpy as np
from PIL import Image

from backend.arena.bench import CATEGORIES, STEER_NOTE, score_points
from backend.arena.bench_overlay import render_overlay
from backend.arena.vocab import bench_category
from backend.errors import UserError
from backend.masks import mask_from_layers
from backend.pointing.service import run_pointer
from backend.registry import get_registry
from backend.security import require_admin
from storage.db import get_storage
from storage.repos import arena as arena_repo
from storage.repos import bench as repo
from storage.repos.events import log_event
from storage.repos.images import load_image, store_image

GRID = 50                       # PointArena's annotation grid: cell = min(W, H) / 50
HARD_MAX_CORRECT = 1            # "hard" = at most 1 of the checked models correct
MAX_TEXT = 300
MAX_COUNT = 100  # a counting item asks for every object; PointArena's counts are small


def check_admin(token: str | None) -> None:
    """Constant-time comparison with ADMIN_TOKEN; reviews are off when it is unset."""
    require_admin(token, "Reviewing is disabled: set ADMIN_TOKEN on the server to enable it.")


def normalise_category(category: str | None) -> str:
    cat = bench_category(category)
    if cat not in CATEGORIES:
        raise UserError(f"Choose a category: one of {', '.join(CATEGORIES)} (got {category!r}).")
    return cat


def mask_from_cells(cells, size: tuple[int, int], grid: int = GRID) -> np.ndarray:
    """Cells (row, col) of PointArena's grid (square cells of min(W, H)/grid px) → pixel mask."""
    w, h = size
    cell = min(w, h) / grid
    mask = np.zeros((h, w), dtype=bool)
    for r, c in cells:
        y0, x0 = int(round(r * cell)), int(round(c * cell))
        y1, x1 = int(round((r + 1) * cell)), int(round((c + 1) * cell))
        if y0 >= h or x0 >= w or r < 0 or c < 0:
            raise UserError(f"Grid cell ({r}, {c}) is outside the image.")
        mask[y0:y1, x0:x1] = True
    return mask


def _mask_png(mask: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(mask.astype(np.uint8) * 255, mode="L").save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def check_item(image: Image.Image, user_input: str, category: str, mask: np.ndarray, count=None,
               ref_point=None) -> dict:
    """Validated fields of an item, or ValueError with a sentence for the annotator."""
    text = " ".join(str(user_input or "").split())
    if not text:
        raise UserError("Type the instruction (what should a model point to?).")
    if len(text) > MAX_TEXT:
        raise UserError(f"The instruction is too long ({len(text)} characters; at most {MAX_TEXT}).")
    cat = normalise_category(category)
    if cat == "counting":
        try:
            count = int(count)
        except (TypeError, ValueError):
            raise UserError("A counting item needs the number of objects (count ≥ 1).") from None
        if count < 1:
            raise UserError("A counting item needs the number of objects (count ≥ 1).")
        if count > MAX_COUNT:
            raise UserError(f"A counting item can have at most {MAX_COUNT} objects ({count} given).")
    elif count not in (None, "", 0):
        raise UserError(f"Only counting items take a count; this is a {cat!r} item.")
    else:
        count = None
    if mask.shape != (image.height, image.width):
        raise UserError("The mask does not match the image size.")
    if not mask.any():
        raise UserError("Mark the target region first (the mask is empty).")
    if mask.all():
        raise UserError("The mask covers the whole image; mark only the target region.")
    if cat == "steerable":
        if ref_point is None:
            raise UserError("A steerable item needs a reference point (x, y).")
        x, y = float(ref_point[0]), float(ref_point[1])
        if not (0 <= x < image.width and 0 <= y < image.height):
            raise UserError("The reference point is outside the image.")
        ref_point = [round(x, 1), round(y, 1)]
    else:
        ref_point = None
    return {"user_input": text, "category": cat, "count": count, "ref_point": ref_point}


def hardness(image: Image.Image, item: dict, mask: np.ndarray, pointer_names: list[str],
             timeout_s: float = 30) -> tuple[int, int]:
    """(models correct, models checked) with PointArena's scoring, for the "hard items only" filter."""
    text = item["user_input"]
    if item.get("ref_point"):
        text = f"{text} {STEER_NOTE.format(x=item['ref_point'][0], y=item['ref_point'][1])}"
    correct = 0
    for name in pointer_names:
        res = run_pointer(name, image, text, timeout_s)
        ok, _, _ = score_points(res.points, mask, item["category"], item.get("count"))
        correct += int(ok)
    return correct, len(pointer_names)



def save_drawn(img: Image.Image, layers: list, extra: np.ndarray | None, instruction: str, category: str, *,
               count=None, ref_point=None, session_id: str | None = None, annotator: str | None = None,
               source_battle_id: str | None = None, check_hard: bool = False) -> dict:
    """The annotation tab's one call: editor brush layers (resized when the editor returns canvas-size layers)
    plus an optional extra mask (typed boxes) become the target mask; with `check_hard`, three enabled
    pointers try the item first."""
    mask = mask_from_layers(layers, img.size, on_mismatch="resize")
    if extra is not None:
        mask |= extra
    check_with = None
    if check_hard:
        check_with = [e.name for e in get_registry().entries("pointing") if e.enabled][:3]
        if len(check_with) < 3:
            raise UserError("Checking hardness needs 3 enabled pointers.")
    return save_annotation(img, instruction, category, mask, count=count or None, ref_point=ref_point,
                           session_id=session_id, annotator=annotator, source_battle_id=source_battle_id,
                           check_with=check_with)


def save_annotation(image: Image.Image, user_input: str, category: str, mask: np.ndarray, *, count=None,
                    ref_point=None, session_id: str | None = None, annotator: str | None = None,
                    source_battle_id: str | None = None, check_with: list[str] | None = None) -> dict:
    """Store a pending annotation; returns its row (without the mask bytes)."""
    image = image.convert("RGB")
    fields = check_item(image, user_input, category, mask, count, ref_point)
    correct = checked = None
    if check_with:
        correct, checked = hardness(image, fields, mask, check_with)
    png = _mask_png(mask)

    def _w(s):
        sha = store_image(s, image, source="bench-annotation")
        ann_id = repo.add_annotation(s, session_id=session_id, annotator=(annotator or "").strip()[:128] or None,
                                     source_battle_id=(source_battle_id or "").strip()[:64] or None,
                                     image_sha256=sha, mask_png=png, mask_pixels=int(mask.sum()),
                                     models_correct=correct, models_checked=checked, **fields)
        return repo.get_annotation(s, ann_id, with_mask=False)

    return get_storage().write(_w)


def review(ann_id: int, decision: str, token: str | None, reviewer: str | None = None, note: str | None = None) -> dict:
    check_admin(token)

    decision = {"accept": "accepted", "reject": "rejected"}.get(decision, decision)
    who = (reviewer or "admin").strip() or "admin"

    def _w(s):
        row = repo.review_annotation(s, int(ann_id), decision, who, note)
        log_event(s, "bench_review", payload={"annotation": row["id"], "decision": decision, "reviewer": who})
        return row

    return get_storage().write(_w)


def list_annotations(token: str | None, status: str | None = None, limit: int = 200) -> list[dict]:
    check_admin(token)
    return get_storage().read(lambda s: repo.list_annotations(s, status=status or None, limit=limit))


def counts() -> dict[str, int]:
    return get_storage().read(repo.count_annotations)


def review_listing(token: str | None, status: str | None = None) -> tuple[list[dict], dict[str, int]]:
    """(annotations with `status`, counts per status) for the reviewer's list; admin only."""
    rows = list_annotations(token, status=None if status in (None, "", "all") else status)
    return rows, counts()


def review_preview(ann_id: int, token: str | None) -> tuple[Image.Image, dict]:
    """The annotation drawn on its image (mask and reference point) and its row, for the reviewer."""
    img, mask, row = annotation_image(ann_id, token)
    return render_overlay(img, mask, [], None, row.get("ref_point")), row


def annotation_image(ann_id: int, token: str | None) -> tuple[Image.Image, np.ndarray, dict]:
    """(image, mask, row) of one annotation, for the reviewer's preview."""
    check_admin(token)

    def _r(s):
        row = repo.get_annotation(s, int(ann_id), with_mask=True)
        if row is None:
            raise UserError(f"There is no annotation #{ann_id}.")
        return row, load_image(s, row["image_sha256"])

    row, img = get_storage().read(_r)
    if img is None:
        raise UserError(f"The image of annotation #{ann_id} is missing from DATA_DIR/images.")
    mask = np.array(Image.open(io.BytesIO(row.pop("mask_png")))) > 127
    return img, mask, row


def export_zip(token: str | None, hard_only: bool = False) -> tuple[bytes, int]:
    """(zip bytes, item count): accepted items in Point-Bench layout (data.json, images/, masks/)."""
    check_admin(token)

    def _r(s):
        rows = repo.list_annotations(s, status="accepted", limit=100_000, with_mask=True)
        return [(r, load_image(s, r["image_sha256"])) for r in rows]

    pairs = get_storage().read(_r)
    if hard_only:
        pairs = [(r, im) for r, im in pairs
                 if r["models_checked"] and r["models_correct"] is not None and r["models_correct"] <= HARD_MAX_CORRECT]
    if not pairs:
        raise UserError("There are no accepted annotations to export yet." if not hard_only else
                         "No accepted annotation is marked hard (checked by models with at most 1 correct).")
    buf = io.BytesIO()
    data = []
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for r, img in sorted(pairs, key=lambda p: p[0]["id"]):
            if img is None:
                continue
            stem = f"ann_{r['id']:05d}"
            ib = io.BytesIO()
            img.save(ib, format="PNG")
            zf.writestr(f"images/{stem}.png", ib.getvalue())
            zf.writestr(f"masks/{stem}_mask.png", r["mask_png"])
            item = {"image_filename": f"{stem}.png", "user_input": r["user_input"], "category": r["category"],
                    "mask_filename": f"{stem}_mask.png", "timestamp": r["created"]}
            if r["count"] is not None:
                item["count"] = r["count"]
            if r["ref_point"]:
                item["ref_point"] = r["ref_point"]
            if r["source_battle_id"]:
                item["source_battle_id"] = r["source_battle_id"]
            data.append(item)
        zf.writestr("data.json", json.dumps(data, indent=1) + "\n")
    return buf.getvalue(), len(data)


def battle_input(battle_id: str, session_id: str | None = None) -> tuple[Image.Image, str, str | None]:
    """(image, instruction, category) of an arena battle that `session_id` started, to annotate it.

    Battle ids are public (clean_battle export), uploaded photos are not: another session's battle gets the same
    sentence as a missing one, so the answer says nothing about which ids exist."""
    def _r(s):
        b = arena_repo.get_battle(s, str(battle_id).strip()[:64])
        if b is None or not session_id or b.get("session_id") != session_id:
            raise UserError("There is no battle with that id that you started in this browser session.")
        return b, load_image(s, b.get("image_sha256")) if b.get("image_sha256") else None

    b, img = get_storage().read(_r)
    if img is None:
        raise UserError(f"The image of battle {battle_id!r} is not stored.")
    cat = b.get("category")
    try:
        cat = normalise_category(cat)
    except ValueError:
        cat = None
    return img, annotator_instruction(b.get("instruction") or "", b.get("ref_point")), cat


def annotator_instruction(instruction: str, ref_point) -> str:
    """A steerable battle's instruction without the reference-point sentence `start_battle` appended: the item keeps
    the annotator's own query and its ref_point, and `BenchItem.instruction` adds the sentence once at evaluation
    (it used to be stored in user_input and then sent to the models twice)."""
    if ref_point:
        note = " " + STEER_NOTE.format(x=ref_point[0], y=ref_point[1])
        if instruction.endswith(note):
            return instruction[:-len(note)]
    return instruction
