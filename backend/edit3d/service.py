"""The 3D edit service the tab and the CLI call: components from the registry, per-image caching,
history in the database, full-resolution export.

Caching follows SamPredictor: a `Scene` (mask, depth, lifted object, filled plate) is kept per
(image hash, selection, scene settings, backends, size) in a small LRU, so a slider release only
costs `Edit3DPipeline.render`. Images are stored once by hash (storage.repos.images), so history
rows refer to them without copying pixels.
"""
from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from backend.errors import UserError
from backend.registry import ModelUnavailable, get_registry
from backend.tempfiles import scratch_dir
from storage.db import StorageError, get_storage
from storage.repos import edit3d as repo
from storage.repos.images import image_sha256, store_image

from . import exports
from .fill import CLASSICAL, ClassicalFiller
from .history import Position
from .params import PRESETS, EditParams, SceneSettings, Selection
from .pipeline import Edit3DPipeline, EditResult, Scene

PREVIEW_SIDE = 512
DEFAULTS = {"segmentation": "grabcut", "depth": "depth-proxy", "inpaint": "fill-telea"}
PREFER_MODELS = {"segmentation": "sam-vit-b", "depth": "depth-anything-v2-small"}


@dataclass(frozen=True)
class Backends:
    segmentation: str = "auto"
    depth: str = "auto"
    inpaint: str = "auto"  # a registry name, or a classical method name (telea | ns | biharmonic)

    def key(self) -> str:
        return f"{self.segmentation}|{self.depth}|{self.inpaint}"


def choices(capability: str) -> list[tuple[str, str]]:
    """(label, name) for every configured backend of a capability; unavailable ones say why."""
    reg = get_registry()
    out = [("auto (best available)", "auto")]
    for e in reg.entries(capability):
        ok, why = reg.availability(e.name)
        out.append((f"{e.label or e.name}" + ("" if ok else f" — unavailable: {why}"), e.name))
    if capability == "inpaint":
        out += [(f"classical: {m}", m) for m in CLASSICAL]
    return out


def _resolve(capability: str, choice: str) -> tuple[str, Any]:
    reg = get_registry()
    if choice in (None, "", "auto"):
        prefer = [n for n in (PREFER_MODELS.get(capability), DEFAULTS[capability]) if n]
        name = reg.pick(capability, prefer, default=DEFAULTS[capability])
    else:
        name = choice
    try:
        return name, reg.get(name)
    except ModelUnavailable:
        if choice in (None, "", "auto"):
            return DEFAULTS[capability], reg.get(DEFAULTS[capability])
        raise


def build_pipeline(backends: Backends = Backends()) -> Edit3DPipeline:
    _, seg = _resolve("segmentation", backends.segmentation)
    _, depth = _resolve("depth", backends.depth)
    if backends.inpaint in CLASSICAL:
        _, filler = _resolve("inpaint", "fill-telea")
        filler = filler.with_method(backends.inpaint) if isinstance(filler, ClassicalFiller) else filler
    else:
        _, filler = _resolve("inpaint", backends.inpaint)
    reg = get_registry()
    refiners = reg.available("refine")
    refiner = reg.get(refiners[0]) if refiners else None
    return Edit3DPipeline(seg, depth, filler, refiner)


def propose_mask(img: Image.Image, points: tuple[tuple[float, float, int], ...] = (),
                 box: tuple[float, float, float, float] | None = None,
                 segmentation: str = "auto") -> tuple[np.ndarray, str]:
    """The 3D tab's object selector as a service: clicks (x, y, 1 = object / 0 = background, original
    pixels) and/or a box → (H×W bool mask, label of the segmenter used). SAM when its checkpoint is
    under MODELS_DIR, GrabCut otherwise. Point-Bench annotation proposes its target mask with it."""
    if not any(lab for *_, lab in points) and box is None:
        raise UserError("Click on the target first (a background click alone selects nothing).")
    _, seg = _resolve("segmentation", segmentation)
    seg.set_image(np.asarray(img.convert("RGB")))
    return seg.predict(tuple(points), box), getattr(seg, "label", type(seg).__name__)


class _LRU:
    def __init__(self, size: int):
        self.size, self.lock = size, threading.Lock()
        self.data: OrderedDict = OrderedDict()

    def get(self, key):
        with self.lock:
            if key in self.data:
                self.data.move_to_end(key)
                return self.data[key]
        return None

    def put(self, key, value):
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)


_scenes = _LRU(6)
_images = _LRU(8)
_prep_lock = threading.Lock()


def remember_image(img: Image.Image, source: str = "upload") -> str:
    """Store the image once (by hash) and keep it in memory for the next calls."""
    sha = image_sha256(img)
    if _images.get(sha) is None:
        get_storage().write(lambda s: store_image(s, img, source=source))
        _images.put(sha, img)
    return sha


def _mask_hash(mask: np.ndarray | None) -> str | None:
    if mask is None:
        return None
    return hashlib.sha256(np.ascontiguousarray(np.asarray(mask)).tobytes() + str(np.shape(mask)).encode()).hexdigest()


def get_scene(img: Image.Image, selection: Selection, settings: SceneSettings, backends: Backends = Backends(),
              max_side: int | None = PREVIEW_SIDE, uploaded_mask: np.ndarray | None = None,
              mask: np.ndarray | None = None) -> tuple[Scene, Edit3DPipeline]:
    sha = image_sha256(img)
    key = json.dumps([sha, selection.to_dict(), settings.to_dict(), backends.key(), max_side,
                      _mask_hash(uploaded_mask), _mask_hash(mask)], sort_keys=True, default=str)
    pipe = build_pipeline(backends)
    hit = _scenes.get(key)
    if hit is not None:
        return hit, pipe
    with _prep_lock:  # two slider releases on a cold image must not both prepare it
        hit = _scenes.get(key)
        if hit is None:
            hit = pipe.prepare(img, selection, settings, max_side=max_side, uploaded_mask=uploaded_mask, mask=mask)
            _scenes.put(key, hit)
    return hit, pipe


def overlay(scene: Scene, selection: Selection) -> np.ndarray:
    """The photo with the selected object tinted and the clicks drawn (green +, red −)."""
    rgb = scene.rgb.astype(np.float32)
    tint = np.array([60, 140, 255], np.float32)
    out = rgb.copy()
    out[scene.mask] = 0.55 * rgb[scene.mask] + 0.45 * tint
    edge = scene.mask ^ np.roll(scene.mask, 1, 0) | scene.mask ^ np.roll(scene.mask, 1, 1)
    out[edge] = [255, 255, 255]
    im = Image.fromarray(out.clip(0, 255).astype(np.uint8))
    d = ImageDraw.Draw(im)
    r = max(3, int(0.012 * max(im.size)))
    for x, y, lab in selection.points:
        cx, cy = x * scene.scale, y * scene.scale
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(40, 200, 80) if lab else (230, 50, 50), outline="white")
    if selection.box:
        d.rectangle([c * scene.scale for c in selection.box], outline=(255, 220, 0), width=2)
    return np.asarray(im)


def status_line(scene: Scene, result: EditResult | None) -> str:
    log = result.log if result else scene.log
    parts = [f"**Stages** — {log.by_kind()}  \n{log.line()}"]
    if result is not None:
        parts.append(f"**Invented pixels:** {result.invented_fraction:.2%} of the image "
                     f"({int(result.invented.sum())} px at {scene.cam.width}×{scene.cam.height})")
        t = {**scene.log.timings, **result.log.timings}
        parts.append("**Timings (s):** " + ", ".join(f"{k} {v:.3f}" for k, v in t.items()))
        for w in result.warnings:
            parts.append(f"⚠️ {w}")
    return "  \n".join(parts)


def preset_params(name: str) -> EditParams:
    """A named preset as absolute values from the neutral pose."""
    if name not in PRESETS:
        raise UserError(f"Unknown preset {name!r}; choose one of: {', '.join(PRESETS)}.")
    return EditParams.from_dict({**EditParams().to_dict(), **PRESETS[name]})


def record(session_id: str | None, sha: str, action: str, params: EditParams, selection: Selection,
           settings: SceneSettings, backends: Backends, result: EditResult | None) -> int:
    outputs = None if result is None else {"stages": result.log.stages, "warnings": result.warnings,
                                           "in_frame_fraction": result.in_frame_fraction}
    scene = {**settings.to_dict(), "backends": backends.key()}
    return get_storage().write(lambda s: repo.add_edit(
        s, session_id=session_id, image_sha256=sha, action=action, params=params.to_dict(),
        selection=selection.to_dict(), scene=scene, outputs=outputs,
        invented_fraction=None if result is None else float(result.invented_fraction)))


HISTORY_SHOWN = 30  # rows of the history table


def history(session_id: str | None, sha: str) -> tuple[Position, list[dict]]:
    """Where this session's history of the photo stands (from a few rows, any length), and its newest rows."""
    pos, rows = get_storage().read(lambda s: (repo.position(s, session_id, sha),
                                              repo.list_edits(s, session_id, sha, limit=HISTORY_SHOWN)))
    return Position.from_rows(pos), rows


def step_history(session_id: str | None, sha: str, action: str) -> Position:
    """Undo or redo: append the action row (with the params it restores) and return the new position.

    The position is read in the write transaction, under the history's lock: read before it, two undos at once
    both restored the same pose and told both callers the same cursor."""
    def step(s) -> Position:
        repo.lock_history(s, session_id, sha)
        st = Position.from_rows(repo.position(s, session_id, sha))
        if action == "undo" and not st.can_undo:
            raise UserError("Nothing to undo for this image.")
        if action == "redo" and not st.can_redo:
            raise UserError("Nothing to redo.")
        target = st.state(st.cursor - 1 if action == "undo" else st.cursor + 1)
        repo.add_edit(s, session_id=session_id, image_sha256=sha, action=action, params=target["params"],
                      selection=target.get("selection"), scene=target.get("scene"))
        st.cursor += -1 if action == "undo" else 1
        return st

    return get_storage().write(step)


@dataclass
class Preview:
    """What the tab shows after one preview render (all arrays ready to display)."""

    overlay: np.ndarray  # the photo with the selection tinted and the clicks drawn
    before: np.ndarray
    after: np.ndarray
    depth: np.ndarray  # edited depth, near = bright, uint8
    guide_mask: np.ndarray  # uint8: 0 invented, 128 moved object, 255 kept
    status: str
    history: list[dict]  # this session's rows for this photo, oldest first
    params: EditParams
    selection: Selection


@dataclass
class Refined:
    guide: np.ndarray
    refined: np.ndarray
    status: str


def _motion_changed(a: dict, b: dict) -> bool:
    keys = ("yaw", "pitch", "roll", "tx", "ty", "tz", "scale", "mirror", "harmonize", "shadow", "occlusion",
            "feather_px")
    return any(a.get(k) != b.get(k) for k in keys)


def preview(img: Image.Image, selection: Selection, settings: SceneSettings, backends: Backends, params: EditParams,
            session_id: str | None, uploaded_mask: np.ndarray | None = None, record_edit: bool = True) -> Preview:
    """Render the edit at preview size and record it in the session's history when it changed
    the pose or the selection (a re-render of the same state adds no row). When the database cannot take the
    record, the render is returned anyway and its status line says it is not in the history."""
    if selection.is_empty() and uploaded_mask is None:
        raise UserError("No object is selected yet. Click on the object in the “Click the object” image "
                        "(or give a box or a mask).")
    scene, pipe = get_scene(img, selection, settings, backends, uploaded_mask=uploaded_mask)
    result = pipe.render(scene, params)
    rows: list[dict] = []
    status = status_line(scene, result)
    try:  # the database down or locked: the render is still shown (and exportable), said not to be in the history
        sha = remember_image(img)
        if record_edit:
            st, _ = history(session_id, sha)
            cur = st.current
            if _motion_changed(cur["params"], params.to_dict()) or (cur.get("selection") or {}) != selection.to_dict():
                record(session_id, sha, "edit", params, selection, settings, backends, result)
        _, rows = history(session_id, sha)
    except StorageError as exc:
        status += f"  \n⚠️ This edit is shown but not saved in the edit history (undo/redo): {exc}"
    return Preview(overlay(scene, selection), scene.rgb, result.image, exports.depth_preview(result.depth),
                   exports.guide_mask_u8(result.guide_mask), status, rows, params, selection)


def undo_redo(img: Image.Image, action: str, selection: Selection, settings: SceneSettings, backends: Backends,
              session_id: str | None, uploaded_mask: np.ndarray | None = None) -> Preview:
    """Step the history and render the restored pose (and the selection it was made with)."""
    if action not in ("undo", "redo"):
        raise UserError("action must be 'undo' or 'redo'.")
    st = step_history(session_id, remember_image(img), action)
    cur = st.current
    saved = Selection.from_dict(cur.get("selection")) if cur.get("selection") else selection
    if saved.is_empty() and uploaded_mask is None:
        saved = selection
    saved = replace(saved, box=selection.box, dilate_px=selection.dilate_px, mask_sha=selection.mask_sha)
    return preview(img, saved, settings, backends, EditParams.from_dict({**cur["params"]}), session_id,
                   uploaded_mask=uploaded_mask, record_edit=False)


def refine(img: Image.Image, selection: Selection, settings: SceneSettings, backends: Backends, params: EditParams,
           uploaded_mask: np.ndarray | None = None, steps: int = 20, seed: int = 0, strength: float = 0.6) -> Refined:
    """The optional model refine of the hole and the seam (needs local diffusion weights)."""
    scene, pipe = get_scene(img, selection, settings, backends, uploaded_mask=uploaded_mask)
    result = pipe.render(scene, params)
    out = pipe.refine(result, steps=int(steps), seed=int(seed), strength=float(strength))
    return Refined(result.guide, out, status_line(scene, result))


def carry_selection_label(prev: Scene, full: Scene) -> None:
    """The full-resolution scene reuses the preview's mask: say so, and by which method it was made."""
    if prev is not full:
        full.log.stages["selection"] = f"{prev.log.stages.get('selection')} (512 px preview mask, upsampled)"
        full.log.kinds["selection"] = prev.log.kinds.get("selection", "classical")


def export_full(img: Image.Image, selection: Selection, settings: SceneSettings, params: EditParams,
                backends: Backends = Backends(), uploaded_mask: np.ndarray | None = None,
                turntable: bool = True, out_dir: str | None = None) -> tuple[dict, EditResult]:
    """Render at full resolution (≤ 2048 px) reusing the preview's mask; write every output file."""
    prev, pipe = get_scene(img, selection, settings, backends, PREVIEW_SIDE, uploaded_mask)
    full, _ = get_scene(img, selection, settings, backends, max_side=None, mask=prev.mask)
    carry_selection_label(prev, full)
    result = pipe.render(full, params)
    out_dir = out_dir or str(scratch_dir("edit3d-"))
    paths = exports.write_all(full, result, out_dir, full_size=img.size)
    if turntable:
        gif = exports.turntable_gif(pipe, prev, params)
        p = f"{out_dir}/turntable.gif"
        with open(p, "wb") as fh:
            fh.write(gif)
        paths["turntable.gif"] = p
    return paths, result
