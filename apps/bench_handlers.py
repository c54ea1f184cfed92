"""Handlers of the Point-Bench tab: thin translations between UI values and backend.arena services."""
from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from gradio.components.image_editor import EditorData
from PIL import Image

from apps.common import download_file, file_path, load_user_image, md_text, session_id, tab_key, user_errors
from apps.plots import themed
from backend.arena import annotations as ann
from backend.arena import bench_service as svc
from backend.arena.bench import CATEGORIES, CATEGORY_LABELS
from backend.edit3d import service as edit3d_service
from backend.errors import UserError
from backend.masks import mask_from_layers

CAT_CHOICES = [(CATEGORY_LABELS[c], c) for c in CATEGORIES]
STAT_LABELS = {"pearson_r": "Pearson r", "spearman_rho": "Spearman ρ", "r2": "R²"}
_BOX = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")


ITEM_COLUMNS = ("image_filename", "category", "success", "reason", "points")  # the "Per-item details" table


def per_category_frame(results: dict[str, dict]) -> pd.DataFrame:
    rows = []
    for model, r in sorted(results.items(), key=lambda kv: -kv[1]["average"]):
        row = {"Model": model}
        row.update({CATEGORY_LABELS[c]: r["per_category"].get(c) for c in CATEGORIES})
        row.update({"Average": r["average"], "n": r["n"], "Source": r.get("source", "")})
        rows.append(row)
    cols = ["Model", *[CATEGORY_LABELS[c] for c in CATEGORIES], "Average", "n", "Source"]
    return pd.DataFrame(rows, columns=cols)


def _progress_cb(progress):
    def cb(done: int, total: int, desc: str):
        progress((done, total), desc=desc, unit="items")

    return cb


@user_errors
def evaluate(pointer: str, bench_zip, show_overlays: bool, request: gr.Request = None,
             progress=gr.Progress()):
    """Evaluate a registry pointer on the sample bench (or an uploaded Point-Bench zip)."""
    res = svc.evaluate(pointer, file_path(bench_zip), progress=_progress_cb(progress), session_id=session_id(request),
                       overlays=bool(show_overlays))
    fails = {}
    for it in res["items"]:
        if not it["success"]:
            fails[it["reason"].split(":")[0]] = fails.get(it["reason"].split(":")[0], 0) + 1
    why = ", ".join(f"{k}: {v}" for k, v in sorted(fails.items(), key=lambda kv: -kv[1])) or "none"
    summary = (f"**{pointer}** on `{res['bench']}`: average **{res['average']:.2f}%** over {res['n']} items "
               f"({res['success']} correct) in {res['elapsed_s']:.1f} s.  \nFailures by reason — {why}.")
    if res.get("result_id") is None:
        summary += ("  \n**Not stored:** no item got a prediction, so this run measures the setup, not the model "
                    "(see the reasons above).")
    table = per_category_frame({pointer: res})
    gallery = [(it["overlay"], f"{'✔' if it['success'] else '✘'} {it['image_filename']}"
                + ("" if it["success"] else f" — {it['reason']}")) for it in res["items"] if it.get("overlay")]
    items = pd.DataFrame([{k: it.get(k) for k in ITEM_COLUMNS} for it in res["items"]], columns=list(ITEM_COLUMNS))
    return summary, table, gr.update(value=gallery, visible=bool(show_overlays)), items


def _scatter(rows: list[dict]):
    paired = [r for r in rows if r["paired"]]
    fig = go.Figure(go.Scatter(x=[r["bench_average"] for r in paired], y=[r["arena_rating"] for r in paired],
                               mode="markers+text", text=[r["model"] for r in paired], textposition="top center"))
    fig.update_layout(xaxis_title="Point-Bench average (%)", yaxis_title="Arena rating (BT)", height=360,
                      margin=dict(l=40, r=20, t=30, b=40))
    return themed(fig)


@user_errors
def bench_vs_arena():
    """Bench averages vs arena ratings, with Pearson r, Spearman ρ, R² and per-category accuracy."""
    out = svc.bench_vs_arena()
    st = out["stats"]
    if st["n"] < 3:
        stats_md = (f"{out['note']} Correlation needs at least 3 models that have both a bench result and an "
                    f"arena rating (now {st['n']}).")
    else:
        vals = " · ".join(f"**{STAT_LABELS[k]} = {st[k]:.3f}**" if st[k] is not None else f"{STAT_LABELS[k]} = n/a"
                          for k in STAT_LABELS)
        stats_md = f"{out['note']} Over {st['n']} models: {vals}. (PointArena's published 5 models: r = 0.951, ρ = 1.0.)"
    pairs = pd.DataFrame([{"Model": r["model"], "Bench average (%)": r["bench_average"],
                           "Arena rating": None if r["arena_rating"] is None else round(r["arena_rating"], 1),
                           "Arena 95% CI": "" if not r["arena_ci"] or r["arena_ci"][0] is None else
                           f"{r['arena_ci'][0]:.0f}–{r['arena_ci'][1]:.0f}"} for r in out["rows"]],
                         columns=["Model", "Bench average (%)", "Arena rating", "Arena 95% CI"])
    return stats_md, pairs, per_category_frame(out["bench"]), _scatter(out["rows"])


def _boxes_mask(text: str, size: tuple[int, int]) -> np.ndarray:
    w, h = size
    mask = np.zeros((h, w), dtype=bool)
    for part in filter(None, (p.strip() for p in str(text).split(";"))):
        m = _BOX.match(part)
        if not m:
            raise UserError(f"Boxes are 'x0,y0,x1,y1' in pixels separated by ';' — could not read {part!r}.")
        x0, y0, x1, y1 = (float(v) for v in m.groups())
        x0, x1 = sorted((max(0, x0), min(w, x1)))
        y0, y1 = sorted((max(0, y0), min(h, y1)))
        mask[int(y0):int(np.ceil(y1)), int(x0):int(np.ceil(x1))] = True
    return mask


def _editor_parts(editor) -> tuple[Image.Image, list]:
    if editor is None:
        raise UserError("Upload an image (or load a battle) first.")
    if isinstance(editor, dict):
        bg = editor.get("background")
        if bg is None:
            bg = editor.get("composite")
        layers = editor.get("layers") or []
    else:
        bg, layers = editor, []
    if bg is None:
        raise UserError("Upload an image (or load a battle) first.")
    img = load_user_image(bg if not isinstance(bg, Image.Image) else bg.convert("RGBA"), "image to annotate")
    return img, [layer for layer in layers if layer is not None]


PROPOSAL_RGBA = (255, 0, 102, 255)  # the brush colour, so proposal and corrections look alike


def _no_image(editor) -> bool:
    if editor is None:
        return True
    if isinstance(editor, dict):
        return editor.get("background") is None and editor.get("composite") is None
    return False


@user_errors
def editor_changed(editor, seen_key: str):
    """Private, after every editor change or upload: report what the layers mark (so the user — and the
    browser test — sees a stroke or proposal took effect before saving) and, when the image itself
    changed (upload, battle, clear), show it in the click-to-select view with no clicks.

    An editor with no image stays silent (it fires change with no image before its upload event, and after a
    file it could not draw: apps/image_check.py explains that one); an image that is there but cannot be used
    gets the sentence every image input gives, and no other field changes."""
    if _no_image(editor):
        return gr.update(), gr.update(), gr.update(), gr.update()
    img, layers = _editor_parts(editor)
    n = int(mask_from_layers(layers, img.size, on_mismatch="resize").sum())
    note = f"Marked region: **{n} px**" if n else "Nothing marked yet: click the target or paint it with the brush."
    rgb = np.asarray(img.convert("RGB"))
    key = hashlib.sha1(rgb[::4, ::4].tobytes() + str(rgb.shape).encode()).hexdigest()
    if key == seen_key:
        return note, gr.update(), gr.update(), key
    return note, rgb, "[]", key


REPORT_WINDOW_S = 5.0  # the editor's change and upload events for one image arrive well within this
_reported: dict[tuple[str, str], float] = {}
_reported_lock = threading.Lock()
_REF = re.compile(r"\s*\(ref [0-9a-f]+\)\s*$")


def first_report(session: str, message: str, now: float | None = None) -> bool:
    """True the first time this session gets this sentence (its ref id aside) within REPORT_WINDOW_S; False for
    a repeat inside the window. Thread-safe: the two events may run at the same time."""
    now = time.monotonic() if now is None else now
    key = (session, _REF.sub("", message))
    with _reported_lock:
        for k in [k for k, t in _reported.items() if now - t > REPORT_WINDOW_S]:
            del _reported[k]
        if key in _reported:
            return False
        _reported[key] = now
        return True


def editor_listener(editor: gr.ImageEditor) -> Callable:
    """The private handler of the annotator editor's change AND upload events (listen with preprocess=False).

    Both events fire for one upload and both are needed (after a drop, change sometimes arrives without the
    image). An image the editor can draw but the app refuses (1×10000 px, over the pixel limit) failed both
    events' preprocessing, so its sentence showed twice ("(2)" on the toast). Here the payload is preprocessed
    inside the handler and the same sentence is raised once per session within REPORT_WINDOW_S; the repeat
    changes nothing and says nothing."""

    def editor_event(payload, seen_key: str, request: gr.Request = None):
        try:
            value = user_errors(editor.preprocess)(EditorData.model_validate(payload)) if payload else None
            return editor_changed(value, seen_key)
        except gr.Error as exc:
            if first_report(tab_key(request) or "", str(exc.message)):
                raise
            return gr.update(), gr.update(), gr.update(), gr.update()

    editor_event.__name__ = editor_event.__qualname__ = "editor_changed"  # the event's name (api_name, job pool)
    return editor_event


@user_errors
def click_segment(editor, clicks: str, mode: str, evt: gr.SelectData):
    """Private: a click on the target proposes its mask (the 3D tab's selector: GrabCut, or SAM with
    weights) as an editable layer; the brush then corrects it. Background clicks refine."""
    img, _ = _editor_parts(editor)
    try:
        pts = [tuple(p) for p in json.loads(clicks or "[]")]
    except (json.JSONDecodeError, TypeError):
        pts = []
    x, y = float(evt.index[0]), float(evt.index[1])
    pts.append((x, y, 0 if mode == "background (−)" else 1))
    mask, how = edit3d_service.propose_mask(img, tuple(pts))
    rgb = np.asarray(img.convert("RGB"))
    layer = np.zeros((*mask.shape, 4), np.uint8)
    layer[mask] = PROPOSAL_RGBA
    composite = rgb.copy()
    composite[mask] = (0.4 * composite[mask] + 0.6 * np.array(PROPOSAL_RGBA[:3])).astype(np.uint8)
    view = composite.copy()
    for px, py, lab in pts:
        view[max(0, int(py) - 3):int(py) + 4, max(0, int(px) - 3):int(px) + 4] = (40, 200, 80) if lab else (230, 50, 50)
    value = {"background": rgb, "layers": [layer], "composite": np.dstack([composite, np.full(mask.shape, 255, np.uint8)])}
    note = f"Marked region: **{int(mask.sum())} px** (proposed by {how}; correct it with the brush)"
    return value, view, json.dumps(pts), note


@user_errors
def save_annotation(editor, instruction: str, category: str, count, ref_x, ref_y, boxes: str, annotator: str,
                    battle_id: str, check_hard: bool, request: gr.Request = None):
    """Save the marked region (brush layers and/or typed boxes) as a pending bench annotation."""
    img, layers = _editor_parts(editor)
    extra = _boxes_mask(boxes, img.size) if boxes and str(boxes).strip() else None
    ref = None
    if ref_x not in (None, "") and ref_y not in (None, ""):
        ref = (float(ref_x), float(ref_y))
    if ref == (0.0, 0.0):  # Gradio 6.31 shows and sends 0 for an empty Number: (0, 0) is "not typed", never a
        ref = None         # reference point (a steerable item saved without one pointed at the image corner)
    row = ann.save_drawn(img, layers, extra, instruction, category, count=count, ref_point=ref,
                         session_id=session_id(request), annotator=annotator, source_battle_id=battle_id,
                         check_hard=bool(check_hard))
    hard = "" if row["models_checked"] is None else f" {row['models_correct']} of {row['models_checked']} models correct."
    return (f"Saved annotation **#{row['id']}** ({CATEGORY_LABELS[row['category']]}, {row['mask_pixels']} mask pixels) "
            f"— status *pending* until a reviewer accepts it.{hard}")


@user_errors
def load_battle(battle_id: str, request: gr.Request = None):
    """Put one of your arena battles' image, instruction and (steerable) reference point into the annotation editor."""
    if not battle_id or not str(battle_id).strip():
        raise UserError("Type a battle id first.")
    img, instruction, cat, ref = ann.battle_input(battle_id, session_id(request))
    return ({"background": img, "layers": [], "composite": img}, instruction,
            gr.update(value=cat) if cat else gr.update(), ref[0] if ref else None, ref[1] if ref else None)


_REVIEW_COLS = ["id", "status", "category", "user_input", "count", "annotator", "created", "source_battle_id",
                "models_correct", "reviewer"]


@user_errors
def review_list(token: str, status: str):
    rows, c = ann.review_listing(token, status)
    md = f"{c['pending']} pending · {c['accepted']} accepted · {c['rejected']} rejected."
    return md, pd.DataFrame([{k: r.get(k) for k in _REVIEW_COLS} for r in rows], columns=_REVIEW_COLS)


@user_errors
def review_preview(token: str, ann_id):
    if ann_id in (None, ""):
        raise UserError("Type an annotation id.")
    overlay, row = ann.review_preview(int(ann_id), token)
    return overlay, (
        f"#{row['id']} · {CATEGORY_LABELS[row['category']]} · “{md_text(row['user_input'])}”"
        + (f" · count {row['count']}" if row["count"] else "") + f" · status *{row['status']}*")


def _review(decision: str):
    @user_errors
    def handler(token: str, ann_id, reviewer: str):
        if ann_id in (None, ""):
            raise UserError("Type an annotation id.")
        row = ann.review(int(ann_id), decision, token, reviewer=reviewer)
        return f"Annotation #{row['id']} is now **{row['status']}** (by {md_text(row['reviewer'])})."

    handler.__name__ = f"review_{decision}"
    return handler


review_accept = _review("accepted")
review_reject = _review("rejected")


@user_errors
def export_zip(token: str, hard_only: bool):
    data, n = ann.export_zip(token, hard_only=bool(hard_only))
    return download_file(data, "point-bench-annotations.zip"), f"Exported {n} accepted item(s) in Point-Bench layout."


def pointer_choices() -> list[tuple[str, str]]:
    """(label, name): a pointer that cannot run here says so in its label instead of scoring 0 % when picked."""
    try:
        return [(name if not (why := svc.pointer_unavailable(name)) else f"{name} (unavailable: {why})", name)
                for name in svc.pointers()]
    except Exception:  # noqa: BLE001 - a broken registry must not break the tab
        return []


def sample_path() -> Path:
    return svc.sample_bench_dir()
