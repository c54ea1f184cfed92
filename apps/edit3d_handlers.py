"""Handlers of the Photo 3D Edit tab: validate UI values → call backend.edit3d.service → format.

Every public handler takes explicit arguments (scriptable through gradio_client); the click
handler is a private wrapper that turns a `gr.SelectData` into (x, y) in original pixels.
"""
from __future__ import annotations

import html
import json
import math
import time
from dataclasses import replace

import gradio as gr
import numpy as np
import pandas as pd

from apps.common import load_user_image, session_id, tab_key, throttle, user_error, user_errors
from backend.config import MAX_DEPTH_HINTS, MAX_SELECTION_JSON
from backend.edit3d import service
from backend.edit3d.fill import CLASSICAL
from backend.edit3d.params import DepthHint, EditParams, SceneSettings, Selection
from backend.errors import UserError

CLICK_MODES = {"object (+)": "pos", "background (−)": "neg", "brush: paint object": "paint",
               "brush: erase": "erase"}
HISTORY_COLUMNS = ["#", "time", "action", "yaw", "pitch", "roll", "tx", "ty", "tz", "scale", "mirror", "invented %"]
MOTION = ("yaw", "pitch", "roll", "tx", "ty", "tz", "scale", "mirror")


def _floats(text: str, n: int, what: str) -> tuple[float, ...]:
    try:
        vals = tuple(float(v) for v in text.replace(";", ",").split(",") if v.strip())
    except ValueError:
        vals = ()
    if len(vals) != n or not all(math.isfinite(v) and abs(v) < 1e7 for v in vals):
        raise UserError(f"{what} must be {n} comma-separated numbers, got “{_shown(text)}”.")
    return vals


def _shown(text: str, limit: int = 40) -> str:
    """A piece of what the user typed, for an error toast (which renders HTML): escaped, one line, cut. The whole
    field was echoed, so 200 KB of hints made a 200 KB toast, and markup in it was rendered."""
    one = " ".join(str(text).split())
    return html.escape(one[:limit] + ("…" if len(one) > limit else ""))


def parse_hints(text: str | None) -> tuple[DepthHint, ...]:
    """'x,y,depth; x,y,depth' (original pixels, scene units) → hints."""
    parts = [p for p in (text or "").split(";") if p.strip()]
    if len(parts) > MAX_DEPTH_HINTS:  # every render stores its hints with the history step (MBs per step before)
        raise UserError(f"{len(parts)} depth hints were given; at most {MAX_DEPTH_HINTS} are used. Keep the few "
                        "points whose distance you know.")
    out = []
    for part in parts:
        x, y, d = _floats(part, 3, "Each depth hint")
        out.append(DepthHint(x, y, d))
    return tuple(out)


def _selection(selection_json: str | None, box: str | None, mask, dilate: float) -> tuple[Selection, np.ndarray | None]:
    if selection_json and len(selection_json) > MAX_SELECTION_JSON:  # sized before parsing or storing
        raise UserError(f"The selection is {len(selection_json) // 1024} KB; the limit is {MAX_SELECTION_JSON // 1024} "
                         "KB. Clear the selection and click the object again.")
    try:
        sel = Selection.from_dict(json.loads(selection_json or "{}"))
        numbers = [float(v) for p in (*sel.points, *sel.brush_add, *sel.brush_remove, *([sel.box] if sel.box else []))
                   for v in p]
    except (json.JSONDecodeError, TypeError, ValueError, RecursionError) as exc:
        raise UserError("The selection state is not valid JSON; click the object again.") from exc
    if not all(math.isfinite(v) and abs(v) < 1e7 for v in numbers):  # NaN/inf/1e308 broke the mask maths
        raise UserError("The selection has points outside any image; clear the selection and click the object again.")
    upl = None
    if mask is not None:  # a file path from image_input (header checked before decoding), or an array
        upl = (np.asarray(load_user_image(mask, "mask").convert("L")) if isinstance(mask, (str, dict))
               else np.asarray(mask))
    box_v = _floats(box, 4, "The box") if box and box.strip() else None
    return replace(sel, box=box_v, dilate_px=int(dilate or 0), mask_sha="upload" if upl is not None else None), upl


def _settings(fov, thickness, horizon, hints, fill) -> SceneSettings:
    return SceneSettings(fov_deg=float(fov), thickness=float(thickness), horizon=float(horizon),
                         hints=parse_hints(hints), fill=fill if fill in CLASSICAL else "sized")


def _params(yaw, pitch, roll, tx, ty, tz, scale, mirror, harmonize, shadow, occlusion, feather) -> EditParams:
    return EditParams(yaw=float(yaw), pitch=float(pitch), roll=float(roll), tx=float(tx), ty=float(ty),
                      tz=float(tz), scale=float(scale), mirror=bool(mirror), harmonize=float(harmonize),
                      shadow=float(shadow), occlusion=bool(occlusion), feather_px=float(feather))


def _history_table(rows: list[dict]) -> pd.DataFrame:
    data = []
    for r in rows[-30:][::-1]:
        p = r["params"] or {}
        inv = r.get("invented_fraction")
        data.append([r["id"], r["created"][11:19], r["action"], *(p.get(k) for k in MOTION),
                     None if inv is None else round(100 * inv, 2)])
    return pd.DataFrame(data, columns=HISTORY_COLUMNS)


def render_core(photo, sel: Selection, upl, settings: SceneSettings, backends: service.Backends, params: EditParams,
                sid: str):
    """One service call; the tab's outputs: pick overlay, before|after, depth, guide mask, status, history."""
    p = service.preview(load_user_image(photo, "image"), sel, settings, backends, params, sid, uploaded_mask=upl)
    return _outputs(p)


def _outputs(p: service.Preview):
    return (p.overlay, (p.before, p.after), p.depth, p.guide_mask, p.status, _history_table(p.history))


# ---- public endpoints (explicit arguments) ---------------------------------------------------

@user_errors
def edit3d_render(photo, selection_json, mask, box, dilate, yaw, pitch, roll, tx, ty, tz, scale, mirror,
                  fov, thickness, horizon, hints, seg, depth, fill, harmonize, shadow, occlusion, feather,
                  request: gr.Request = None):
    """Render the current edit at 512 px preview and record it in this session's history."""
    throttle(request, "edit3d", 240)  # slider releases are frequent; a render is cheap
    sel, upl = _selection(selection_json, box, mask, dilate)
    return render_core(photo, sel, upl, _settings(fov, thickness, horizon, hints, fill),
                       service.Backends(seg, depth, fill),
                       _params(yaw, pitch, roll, tx, ty, tz, scale, mirror, harmonize, shadow, occlusion, feather),
                       session_id(request))


@user_errors
def edit3d_select(photo, selection_json, x, y, positive, mask, box, dilate, yaw, pitch, roll, tx, ty, tz, scale,
                  mirror, fov, thickness, horizon, hints, seg, depth, fill, harmonize, shadow, occlusion, feather,
                  request: gr.Request = None):
    """Add a click at (x, y) in ORIGINAL image pixels and re-select. `positive`: True/"pos" (on the
    object), False/"neg" (background), "paint"/"erase" (brush dab added to / removed from the mask).

    Called by the image's private .select wrapper; API clients pass the clicks directly in the
    selection JSON of /edit3d_render ({"points": [[x, y, 1], ...]})."""
    sel, upl = _selection(selection_json, box, mask, dilate)
    img = load_user_image(photo, "image")
    if not (0 <= float(x) < img.width and 0 <= float(y) < img.height):
        raise UserError(f"The click ({x}, {y}) is outside the {img.width}×{img.height} photo.")
    if positive in ("paint", "erase"):  # brush dab: radius 2.5 % of the photo's long side
        dab = ((float(x), float(y), 0.025 * max(img.size)),)
        sel = replace(sel, brush_add=sel.brush_add + dab) if positive == "paint" else \
            replace(sel, brush_remove=sel.brush_remove + dab)
        if not sel.points and sel.box is None and upl is None and positive == "erase":
            raise UserError("Select the object first; the eraser removes parts of a selection.")
    else:
        sel = replace(sel, points=sel.points + ((float(x), float(y), 1 if positive in (True, "pos") else 0),))
    if not any(lab for *_, lab in sel.points) and sel.box is None and not sel.brush_add and upl is None:
        raise UserError("Add at least one click ON the object before background clicks.")
    outs = render_core(img, sel, upl, _settings(fov, thickness, horizon, hints, fill),
                       service.Backends(seg, depth, fill),
                       _params(yaw, pitch, roll, tx, ty, tz, scale, mirror, harmonize, shadow, occlusion, feather),
                       session_id(request))
    return (json.dumps(sel.to_dict()), *outs)


@user_errors
def edit3d_history(photo, action, selection_json, mask, box, dilate, harmonize, shadow, occlusion, feather, fov,
                   thickness, horizon, hints, seg, depth, fill, request: gr.Request = None):
    """Undo or redo (action 'undo' | 'redo'); returns the restored slider values and the render."""
    sel, upl = _selection(selection_json, box, mask, dilate)
    p = service.undo_redo(load_user_image(photo, "image"), action, sel, _settings(fov, thickness, horizon, hints, fill),
                          service.Backends(seg, depth, fill), session_id(request), uploaded_mask=upl)
    return (*[getattr(p.params, k) for k in MOTION], json.dumps(p.selection.to_dict()), *_outputs(p))


@user_errors
def edit3d_preset(name):
    """Absolute slider values for a named preset: 'turn right 20°' means yaw = 20° from the photo's
    pose (not 20° more than now); 'reset' zeroes everything."""
    return [getattr(service.preset_params(name), k) for k in MOTION]


@user_errors
def edit3d_export(photo, selection_json, mask, box, dilate, yaw, pitch, roll, tx, ty, tz, scale, mirror,
                  fov, thickness, horizon, hints, seg, depth, fill, harmonize, shadow, occlusion, feather,
                  progress=gr.Progress()):
    """Full-resolution render + every output file (PNG, 16-bit depth, JSON, .glb, turntable GIF)."""
    img = load_user_image(photo, "image")
    sel, upl = _selection(selection_json, box, mask, dilate)
    if sel.is_empty() and upl is None:
        raise UserError("Select an object first.")
    progress(0.1, desc="rendering at full resolution")
    paths, result = service.export_full(img, sel, _settings(fov, thickness, horizon, hints, fill),
                                        _params(yaw, pitch, roll, tx, ty, tz, scale, mirror, harmonize, shadow,
                                                occlusion, feather),
                                        service.Backends(seg, depth, fill), uploaded_mask=upl, turntable=True)
    order = ["edited.png", "guide.png", "guide_mask.png", "coarse_rgba.png", "depth.png", "transform.json",
             "object.glb", "turntable.gif"]
    files = [paths[k] for k in order if k in paths]
    note = (f"Exported {len(files)} files at {result.image.shape[1]}×{result.image.shape[0]}; "
            f"invented {result.invented_fraction:.2%} of the pixels.")
    return files, paths["edited.png"], paths["object.glb"], paths.get("turntable.gif"), note


@user_errors
def edit3d_refine(photo, selection_json, mask, box, dilate, yaw, pitch, roll, tx, ty, tz, scale, mirror,
                  fov, thickness, horizon, hints, seg, depth, fill, harmonize, shadow, occlusion, feather,
                  steps, seed, strength):
    """Optional model refine of the hole and seam (needs local Stable-Diffusion inpainting weights)."""
    sel, upl = _selection(selection_json, box, mask, dilate)
    r = service.refine(load_user_image(photo, "image"), sel, _settings(fov, thickness, horizon, hints, fill),
                       service.Backends(seg, depth, fill),
                       _params(yaw, pitch, roll, tx, ty, tz, scale, mirror, harmonize, shadow, occlusion, feather),
                       uploaded_mask=upl, steps=int(steps), seed=int(seed), strength=float(strength))
    return (r.guide, r.refined), r.status


# ---- private UI wrappers -------------------------------------------------------------------

EMPTY_EXPORTS = (None, None, None, None, "", None)  # files, download, .glb, turntable, note, refined


def _pick_view(photo):
    if photo is None:
        return None, json.dumps(Selection().to_dict()), "Upload a photo, then click the object you want to move."
    img = load_user_image(photo, "image")
    small = img.copy()
    small.thumbnail((service.PREVIEW_SIDE, service.PREVIEW_SIDE))
    return (np.asarray(small), json.dumps(Selection().to_dict()),
            f"Photo {img.width}×{img.height}. Click the object you want to move (green = object, red = background).")


# Gradio 6.31's Image fires `.change` twice with the same value when a photo replaces another (gradio issue #4589
# has the same symptom): the photo was decoded twice and a bad file showed two identical error toasts.
_SEEN: dict[str, tuple[str, float]] = {}  # server session + tab -> (photo path, monotonic time of its first change)
REPEAT_S = 3.0


def _repeated(photo, request: gr.Request | None) -> bool:
    """True for the second `.change` of the same photo within REPEAT_S seconds in the same browser tab. The tab's
    `session_hash` is the client's word, so the key also holds the server-issued session: a script that copies
    another visitor's `session_hash` cannot make that visitor's upload be skipped."""
    key = tab_key(request)
    if key is None:
        return False
    path = photo if isinstance(photo, str) else None
    if not path:  # removed: the same photo uploaded again right after is a new upload
        _SEEN.pop(key, None)
        return False
    now = time.monotonic()
    if len(_SEEN) > 10_000:  # forget quiet tabs
        for k in [k for k, (_, t) in _SEEN.items() if now - t > REPEAT_S]:
            _SEEN.pop(k, None)
    last = _SEEN.get(key)
    if last and last[0] == path and now - last[1] < REPEAT_S:
        return True
    _SEEN[key] = (path, now)
    return False


@user_errors
def on_upload(photo, request: gr.Request = None):
    """New photo: show it for clicking; reset the pose, selection, box, outputs and exports, so
    nothing of the previous photo carries over."""
    if _repeated(photo, request):
        return gr.skip()
    pose = [getattr(EditParams(), k) for k in MOTION]
    try:
        view = _pick_view(photo)
    except UserError as exc:  # a photo that opens but is refused (1×10000 px): the previous photo's preview and
        # "Photo 6000×6000. Click the object…" stayed on screen, and a click on that preview answered about the new
        # file; now everything of the old photo goes and the status line says why (one log line, same ref)
        err = user_error(str(exc), action="on_upload", cause=exc)
        gr.Warning(html.escape(str(err.message)), title="Could not use this photo")  # the toast, as for any refusal
        view = (None, json.dumps(Selection().to_dict()), f"⚠ {html.escape(str(err.message))}")
    return (*view, *pose, "", None, None, None, _history_table([]), *EMPTY_EXPORTS)


def clear_exports():
    """The inputs changed: the exported files no longer match the edit on screen."""
    return EMPTY_EXPORTS


@user_errors
def on_click(photo, selection_json, mode, mask, box, dilate, yaw, pitch, roll, tx, ty, tz, scale, mirror, fov,
             thickness, horizon, hints, seg, depth, fill, harmonize, shadow, occlusion, feather,
             evt: gr.SelectData, request: gr.Request):
    """Private .select wrapper: preview pixels → original pixels, then edit3d_select."""
    if photo is None or evt is None or evt.index is None:
        raise gr.Error("Upload a photo first.")
    img = load_user_image(photo, "image")
    s = min(1.0, service.PREVIEW_SIDE / max(img.size))
    x, y = evt.index[0] / s, evt.index[1] / s
    return edit3d_select(img, selection_json, x, y, CLICK_MODES.get(mode, "pos"), mask, box, dilate, yaw, pitch,
                         roll, tx, ty, tz, scale, mirror, fov, thickness, horizon, hints, seg, depth, fill, harmonize,
                         shadow, occlusion, feather, request=request)


def undo_click(photo, selection_json, mask, box, dilate, harmonize, shadow, occlusion, feather, fov, thickness,
               horizon, hints, seg, depth, fill, request: gr.Request):
    return edit3d_history(photo, "undo", selection_json, mask, box, dilate, harmonize, shadow, occlusion, feather,
                          fov, thickness, horizon, hints, seg, depth, fill, request=request)


def redo_click(photo, selection_json, mask, box, dilate, harmonize, shadow, occlusion, feather, fov, thickness,
               horizon, hints, seg, depth, fill, request: gr.Request):
    return edit3d_history(photo, "redo", selection_json, mask, box, dilate, harmonize, shadow, occlusion, feather,
                          fov, thickness, horizon, hints, seg, depth, fill, request=request)


def clear_selection(photo):
    """Clear the selection (pose kept) and every output made from it."""
    return (*_pick_view(photo), None, None, None, *EMPTY_EXPORTS)
