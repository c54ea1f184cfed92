"""Handlers of the Anomaly Inspector tab: UI values in, ONE backend call (backend.anomaly.actions), UI values out.

The expensive step (the engine) runs only in `inspect_batch`/`inspect_one`/`calibrate`/`evaluate`;
everything the sliders touch (`rethreshold`, `detail`) re-renders from the `Run` kept in gr.State.
Formatting (DataFrames, temp files for downloads) is all that happens here.
"""
from __future__ import annotations

import threading
import weakref
from collections import OrderedDict

import gradio as gr
import pandas as pd

from apps.common import download_file, file_paths, md_text, session_id, throttle, user_errors
from backend.anomaly import actions, history
from backend.anomaly.actions import ViewSettings
from backend.errors import UserError

TABLE_COLUMNS = ["#", "file", "score", "verdict", "regions", "largest region px", "similarity", "warning", "prompt"]
_ROW_KEYS = {"index": "#", "largest_region_px": "largest region px", "prompt_similarity": "similarity"}
REGION_COLUMNS = ["#", "box (x0, y0, x1, y1)", "area_px", "area_%", "peak", "mean"]
RECENT_COLUMNS = ["file", "score", "verdict"]


# --- inputs / outputs ---------------------------------------------------------------------------------
def _thr(v, default: float) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return default


def _view(image_thr, pixel_thr, normalise=False, vmax=1.0) -> ViewSettings:
    return ViewSettings(_thr(image_thr, 0.5), _thr(pixel_thr, 0.5), bool(normalise), _thr(vmax, 1.0))


def table(v: actions.Views) -> pd.DataFrame:
    df = pd.DataFrame(v.rows)
    if df.empty:
        return pd.DataFrame(columns=TABLE_COLUMNS)
    return df.rename(columns=_ROW_KEYS)[TABLE_COLUMNS].reset_index(drop=True)


def detail_values(d):
    """(side-by-side, overlay, heatmap, mask, regions table, info json) of an exports.View (or empty)."""
    if d is None:
        return None, None, None, None, pd.DataFrame(columns=REGION_COLUMNS), {}
    regions = pd.DataFrame([[k + 1, f"({g.x0}, {g.y0}, {g.x1}, {g.y1})", g.area_px, round(g.area_pct, 3),
                             round(g.peak, 4), round(g.mean, 4)] for k, g in enumerate(d.regions)],
                           columns=REGION_COLUMNS)
    return d.side_by_side, d.overlay, d.heatmap, d.mask, regions, d.info


def _all_views(v: actions.Views):
    return (table(v), v.gallery, v.summary, *detail_values(v.detail))


def choices(run) -> list[tuple[str, int]]:
    return [(f"#{i} {r.name} ({r.score:.3f})", i) for i, r in enumerate(run.records)] if run else []


# --- kept runs ---------------------------------------------------------------------------------------------
# A run's maps live in the session's gr.State (≈ 4 MB per query at 768 px, 100 queries per run). Gradio keeps the
# state of up to 10,000 sessions, and a script's sessions never close, so their runs were never freed. The state
# now expires (RUN_TTL_S after the last inspection) and all kept runs together stay under KEPT_RUNS_BYTES: beyond
# it the oldest runs give their maps back (their session is asked to inspect again).
RUN_TTL_S = 3600
KEPT_RUNS_BYTES = 4 * 2**30
_kept: OrderedDict[int, tuple[weakref.ref, int]] = OrderedDict()
_kept_lock = threading.Lock()


def _run_bytes(run) -> int:
    arrays = [a for r in run.records for a in (r.query, r.amap)] + [a for _, a in run.prompts]
    return sum(int(getattr(a, "nbytes", 0)) for a in arrays)


def keep(run, budget: int | None = None) -> None:
    """Count `run` among the kept runs; drop the maps of the oldest ones while all of them exceed the budget."""
    budget = KEPT_RUNS_BYTES if budget is None else budget
    with _kept_lock:
        for key in [k for k, (ref, _n) in _kept.items() if ref() is None]:  # freed by Gradio (state expired)
            del _kept[key]
        _kept[id(run)] = (weakref.ref(run), _run_bytes(run))
        total = sum(n for _, n in _kept.values())
        while total > budget and len(_kept) > 1:
            _key, (ref, n) = _kept.popitem(last=False)
            old = ref()
            if old is not None:
                old.records = []  # views show nothing; every other step says to run an inspection first
            total -= n


# --- events --------------------------------------------------------------------------------------------
@user_errors
def inspect_batch(prompt_files, query_files, engine, resolution, top_k, image_thr, pixel_thr, normalise, vmax,
                  auto=False, request: gr.Request = None, progress=gr.Progress()):
    """Inspect every query; returns state, table, gallery, summary, query choice, the first detail and the
    thresholds (calibrated from the prompts when `auto`, a UI-only State; API callers keep theirs)."""
    throttle(request, "inspect")

    def prog(i, n, name):
        progress((i, n), desc=f"Inspecting {name}" if i < n else "Done", unit="images")

    out = actions.inspect(file_paths(prompt_files), file_paths(query_files), engine=engine, resolution=resolution,
                          top_k=top_k, view=_view(image_thr, pixel_thr, normalise, vmax),
                          session_id=session_id(request), progress=prog, auto_thresholds=bool(auto), escape=md_text)
    if out.mismatched:
        gr.Warning(f"{len(out.mismatched)} query image(s) look like a different product than the prompts "
                   f"({', '.join(out.mismatched[:3])}{' …' if len(out.mismatched) > 3 else ''}); their verdict is "
                   "MISMATCH.")
    v = out.views
    keep(out.run)
    return (out.run, *_all_views(v)[:3], gr.Dropdown(choices=choices(out.run), value=v.index),
            *detail_values(v.detail), out.view.image_threshold, out.view.pixel_threshold)


@user_errors
def inspect_one(prompt_files, query_files, engine, resolution, top_k, image_thr, pixel_thr, normalise, vmax,
                request: gr.Request = None):
    """The first query only: overlay, heatmap, mask, score, verdict and the result JSON (for scripts)."""
    throttle(request, "inspect")
    out = actions.inspect(file_paths(prompt_files), file_paths(query_files), engine=engine, resolution=resolution,
                          top_k=top_k, view=_view(image_thr, pixel_thr, normalise, vmax),
                          session_id=session_id(request), limit=1, escape=md_text)
    d = out.views.detail
    info = dict(d.info)
    if out.run.calibrated is not None:
        info["calibrated_thresholds"] = {"image": out.run.calibrated.image, "pixel": out.run.calibrated.pixel}
    return d.overlay, d.heatmap, d.mask, info


# Re-rendering every overlay of a 100-query run and zipping it are CPU work without a model: limited per session
# and IP hash like the model jobs (a script could otherwise loop them on the shared workers).
VIEWS_PER_MIN, EXPORTS_PER_MIN = 240, 30
POOL_SAVES_PER_MIN = 10  # every save stores a version; shared ones reach every visitor's pool list


@user_errors
def rethreshold(run, index, image_thr, pixel_thr, normalise, vmax, request: gr.Request = None):
    """Re-threshold and re-render from the kept maps (no model call)."""
    throttle(request, "re-render", VIEWS_PER_MIN)
    if run is None:
        raise UserError("Run an inspection first; the thresholds apply to its results.")
    return _all_views(actions.views(run, index, _view(image_thr, pixel_thr, normalise, vmax), md_text))


@user_errors
def detail(run, index, image_thr, pixel_thr, normalise, vmax, request: gr.Request = None):
    throttle(request, "re-render", VIEWS_PER_MIN)
    return detail_values(actions.detail(run, index, _view(image_thr, pixel_thr, normalise, vmax)))


def mirror(value):
    """Checkbox → gr.State (a State input stays out of the public API)."""
    return bool(value)


def clear_downloads():
    return None


def select_row(run, evt: gr.SelectData):
    """Table click → that query's number (private wrapper; `detail` is the public endpoint)."""
    try:
        return int((evt.row_value or [0])[0])
    except (TypeError, ValueError, IndexError):
        return 0


def select_gallery(run, evt: gr.SelectData):
    """Gallery click → the query number written at the start of its caption ("#3 name · score · verdict")."""
    value = evt.value if isinstance(evt.value, dict) else {}
    caption = str(value.get("caption") or "")
    head = caption[1:].split(" ", 1)[0] if caption.startswith("#") else ""
    return int(head) if head.isdigit() else 0


@user_errors
def export_batch(run, image_thr, pixel_thr, normalise, vmax, request: gr.Request = None):
    throttle(request, "export", EXPORTS_PER_MIN)
    files = actions.export_batch(run, _view(image_thr, pixel_thr, normalise, vmax), session_id(request))
    return [download_file(data, name) for name, data in files]


@user_errors
def export_one(run, index, image_thr, pixel_thr, normalise, vmax, request: gr.Request = None):
    throttle(request, "export", EXPORTS_PER_MIN)
    return [download_file(data, name) for name, data in
            actions.export_one(run, index, _view(image_thr, pixel_thr, normalise, vmax))]


@user_errors
def calibrate(prompt_files, good_files, bad_files, mask_files, engine, resolution, top_k, image_thr, pixel_thr,
              request: gr.Request = None):
    """New slider values from extra good images (percentile) or labelled defects (F1-optimal)."""
    c = actions.calibrate(file_paths(prompt_files), file_paths(good_files), file_paths(bad_files),
                          file_paths(mask_files),
                          engine=engine, resolution=resolution, top_k=top_k, pixel_threshold=_thr(pixel_thr, 0.5),
                          session_id=session_id(request))
    return c.image_threshold, c.pixel_threshold, c.message


@user_errors
def evaluate(zip_file, engine, resolution, seeds, top_k, progress=gr.Progress()):
    def prog(frac, desc=""):
        progress(float(frac), desc=desc or "Evaluating")

    paths = file_paths(zip_file)
    t = actions.evaluate(paths[0] if paths else None, engine=engine, resolution=resolution, seeds=seeds,
                         top_k=top_k, progress=prog)
    return pd.DataFrame(t.rows, columns=t.columns), t.note


# --- pools, corrections, example -----------------------------------------------------------------------
@user_errors
def save_pool(prompt_files, product, name, share: bool = False, request: gr.Request = None):
    """Save the prompts as a named pool, visible to this session only unless `share` (everyone can load it)."""
    throttle(request, "pool save", POOL_SAVES_PER_MIN)
    key, keys, msg = actions.save_pool(file_paths(prompt_files), product, name, session_id(request), bool(share),
                                       md_text)
    return gr.Dropdown(choices=keys, value=key), msg


@user_errors
def load_pool(key, request: gr.Request = None):
    return actions.load_pool(key, session_id(request), md_text)


def refresh_pools(request: gr.Request = None):
    try:
        return gr.Dropdown(choices=actions.pool_choices(session_id(request)))
    except Exception:  # the tab must open even if storage hiccups; saving shows the real error
        return gr.Dropdown()


def recent_inspections(request: gr.Request = None):
    """This session's own recent inspections (newest first) for the "Your recent inspections" list."""
    try:
        return gr.Dropdown(choices=history.recent(session_id(request)), value=None)
    except Exception:  # the tab must open even if storage hiccups (or the cookie is missing); reopening says why
        return gr.Dropdown()


@user_errors
def reopen_inspection(inspection_id, request: gr.Request = None):
    """A stored inspection of this session back into the inputs (prompts, queries, engine, resolution, top-k,
    thresholds) with its stored results; inputs whose images are no longer stored are left as they are."""
    r = history.reopen(inspection_id, session_id(request), md_text)
    rows = pd.DataFrame([[x["filename"], x["score"], x["verdict"]] for x in r.rows], columns=RECENT_COLUMNS)
    keep_if_none = [gr.skip() if v is None else v for v in (r.prompts, r.queries, r.engine)]
    return (*keep_if_none, r.resolution, r.top_k, r.image_threshold, r.pixel_threshold, rows, r.message)


@user_errors
def start_correction(run, index, pixel_thr):
    """Editor value: the query as background and the predicted mask as a red, editable layer."""
    return actions.correction_editor(run, index, _thr(pixel_thr, 0.5))


@user_errors
def save_correction(run, index, editor, product, defect_type, request: gr.Request = None):
    throttle(request, "correction save", POOL_SAVES_PER_MIN * 3)  # stores a query and a mask image each time
    return actions.save_correction(run, index, editor, product, defect_type, session_id(request), md_text)


@user_errors
def export_corrections(product, only_mine, admin_token: str = "", request: gr.Request = None):
    """Your corrections as an MVTec zip; every session's corrections (only_mine off) need the admin token."""
    return download_file(actions.export_corrections(product, only_mine, session_id(request), admin_token or ""),
                         "anomaly-corrections-mvtec.zip")


@user_errors
def load_example():
    """Copies of the bundled synthetic sample: prompt = train/good, queries = test/* (named by defect)."""
    return actions.example_files()


@user_errors
def example_dataset():
    """The bundled sample as an MVTec-layout zip (for the evaluation mode)."""
    return download_file(actions.example_zip(), "synthetic-sample-mvtec.zip")
