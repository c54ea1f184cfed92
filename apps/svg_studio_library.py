"""SVG Studio: the "Style library (learned engine)" accordion — learn a few-shot style, list saved ones, use one.

Layout + thin handlers over backend.svg.library_service. Public endpoints: svg_learn_style (name, exemplar files,
budget s) and svg_library_styles (table + refreshed style choices). A saved style is used by picking
"library:<id> — name" in the studio's style dropdown with the learned engine (svg_generate accepts
"library:<id>" as the style).
"""
from __future__ import annotations

import gradio as gr
import pandas as pd

from apps.common import file_input, job, md_text, session_id, user_errors
from apps.svg_studio_handlers import SOURCES, _read_files
from backend.svg import library_service as lib
from backend.svg import studio

COLUMNS = ["style", "name", "nearest trained style", "exemplars", "learned (s)", "steps", "loss start → end",
           "created"]


def _table(rows: list[dict]) -> pd.DataFrame:
    out = []
    for r in rows:
        info = r.get("train_info") or {}
        out.append([f"{lib.LIBRARY_PREFIX}{r['id']}", r["name"], r["base_style"], r["n_exemplars"],
                    round(r.get("train_s") or 0.0, 1), info.get("steps"),
                    f"{info.get('loss_start', float('nan')):.4f} → {info.get('loss_end', float('nan')):.4f}",
                    r["created"][:19]])
    return pd.DataFrame(out, columns=COLUMNS)


def _style_update(choices: list[tuple[str, str]], value: str | None = None):
    return gr.update(choices=choices, value=value) if value else gr.update(choices=choices)


@user_errors
def library_styles(request: gr.Request = None):
    """This session's saved library styles of the learned engine (table) and the style dropdown's refreshed
    choices; other sessions' styles are private to them."""
    v = studio.library(session_id(request))
    return _table(v.rows), _style_update(v.choices)


@user_errors
def learn_style(name: str, files, budget_s: float = lib.DEFAULT_BUDGET_S, request: gr.Request = None,
                progress=gr.Progress()):
    """Learn a few-shot style token from 1–16 exemplar SVGs (raster refused) within budget_s seconds (≤ 180),
    save it in the library; selects it in the style dropdown with the learned engine."""
    progress(0.0, desc="Checking exemplars and finding the nearest trained style…")
    v = studio.learn_style(_read_files(files), name, budget_s=float(budget_s or lib.DEFAULT_BUDGET_S),
                           session_id=session_id(request), progress=lambda f, t: progress(f, desc=t))
    row = v.row or {}
    info = row.get("train_info") or {}
    style = f"{lib.LIBRARY_PREFIX}{row['id']}"
    md = (f"Saved **{style}** “{md_text(row['name'])}” from {row['n_exemplars']} exemplar(s): {info.get('steps')} steps in "
          f"{row.get('train_s') or 0:.0f} s, loss {info.get('loss_start')} → {info.get('loss_end')}; nearest trained "
          f"style **{row['base_style']}**. It is now selected as the style, with the learned engine.")
    return md, _table(v.rows), _style_update(v.choices, style), SOURCES[0], lib.LEARNED_ENGINE


def build(style: gr.Dropdown, source: gr.Radio, engine: gr.Dropdown) -> None:
    """The accordion; `style`, `source` and `engine` are the studio's own inputs (updated to use a saved style)."""
    with gr.Accordion("Style library (learned engine)", open=False, elem_id="svg-library"):
        gr.Markdown("Teach the learned engine a new style from 1–16 of your SVGs (a few-shot style token; the model "
                    "itself is not changed). Then pick **library:&lt;id&gt; — name** as the installed style, with the "
                    "learned engine. Raster images are refused here; only SVG paths teach the token.")
        with gr.Row():
            name = gr.Textbox(label="Style name", max_length=128, elem_id="svg-lib-name")
            budget = gr.Slider(5, lib.MAX_BUDGET_S, value=lib.DEFAULT_BUDGET_S, step=5,
                               label="Learning budget (seconds)", elem_id="svg-lib-budget")
        files = file_input([".svg"], label="Exemplar SVGs (1–16)", file_count="multiple", type="filepath",
                           elem_id="svg-lib-exemplars")
        learn = gr.Button("Learn style", variant="primary", elem_id="svg-lib-learn")
        status = gr.Markdown(elem_id="svg-lib-status")
        table = gr.Dataframe(headers=COLUMNS, interactive=False, label="Saved library styles",
                             elem_id="svg-lib-table")
        refresh = gr.Button("Refresh library (adds saved styles to the style dropdown)", size="sm",
                            elem_id="svg-lib-refresh")
        learn.click(learn_style, [name, files, budget], [status, table, style, source, engine],
                    api_name="svg_learn_style", **job("svg_learn", learn_style))
        refresh.click(library_styles, None, [table, style], api_name="svg_library_styles")
