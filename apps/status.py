"""Status tab: which model adapters exist, which are usable, and where data lives."""
from __future__ import annotations

import re
from pathlib import Path

import gradio as gr
import pandas as pd

from apps.common import user_errors
from backend.config import REPO_ROOT
from backend.system_status import system_status

HIDDEN = "(hidden; admins see it)"


def public_path(p, admin: bool) -> str:
    """Absolute server paths only for admins; others see a path relative to the project, or nothing."""
    if p is None or p == "" or (isinstance(p, float) and p != p):
        return ""
    if admin:
        return str(p)
    s = str(p)
    try:
        return str(Path(s).resolve().relative_to(REPO_ROOT)) if s.startswith("/") else s
    except (ValueError, OSError):
        return HIDDEN

MODEL_COLUMNS = ["name", "capability", "kind", "available", "loaded", "device", "load_time_s", "memory_mb",
                 "detail", "label", "path"]
KIND_LABEL = {"embedded": "embedded default", "checkpoint": "big checkpoint", "remote": "remote endpoint"}


_ABS = re.compile(r"(?<![\w:])/(?:[\w.+@-]+/)*[\w.+@-]+")


def _scrub(text) -> str:
    """Free text with absolute paths made project-relative (or hidden) for the public view."""
    if not isinstance(text, str):
        return text
    return _ABS.sub(lambda m: public_path(m.group(0), False), text)


def status_tables(token: str | None = None) -> tuple[pd.DataFrame, str, pd.DataFrame]:
    st = system_status(token)
    admin = bool(st.get("admin"))
    models = pd.DataFrame(st["models"])
    if models.empty:
        models = pd.DataFrame(columns=MODEL_COLUMNS)
    else:
        models["kind"] = models["kind"].map(lambda k: KIND_LABEL.get(k, k))
        models = models[MODEL_COLUMNS]
        models["path"] = models["path"].map(lambda v: public_path(v, admin))
        if not admin:
            models["detail"] = models["detail"].map(_scrub)
    db = st["database"]
    dev = st["device"]
    summary = (
        f"**Database:** {db['kind']} — `{db['url'] if admin else HIDDEN}` — "
        f"{'answering' if not db.get('problem') else '⚠ ' + db['problem']}  \n"
        f"**Data directory:** `{public_path(st['data_dir'], admin)}`  \n"
        f"**Models directory:** `{public_path(st['models_dir'], admin)}` "
        f"(config `{public_path(st['models_config'], admin)}`)  \n"
        f"**Device:** {dev.get('device')} (setting `{dev.get('setting')}`, CUDA available: {dev.get('cuda_available', 'n/a')}"
        f"{', ' + dev['gpu'] if 'gpu' in dev else ''})  \n"
        f"**Admin token configured:** {'yes' if st['admin_token_set'] else 'no'}"
    )
    versions = pd.DataFrame(sorted(st["versions"].items()), columns=["package", "version"])
    return models, summary, versions


@user_errors
def refresh_status(token: str = ""):
    """Public view hides server paths and the database location; a valid admin token shows them."""
    return status_tables(token)


def build() -> None:
    with gr.Tab("Status", id="status", elem_id="tab-status") as tab:
        gr.Markdown("### System status\nEvery model adapter, whether its weights were found, and where data lives. "
                    "*Embedded default* = real weights shipped inside a Python package; *big checkpoint* = weights "
                    "you place under `MODELS_DIR`; *remote endpoint* = an OpenAI-compatible server.")
        summary = gr.Markdown(elem_id="status-summary")
        models = gr.Dataframe(label="Model adapters", interactive=False, elem_id="status-models", wrap=False,
                              max_height=4000)  # every row visible, no inner scroll
        versions = gr.Dataframe(label="Versions", interactive=False, elem_id="status-versions")
        with gr.Row():
            token = gr.Textbox(label="Admin token (shows server paths)", type="password", value="",
                               elem_id="status-token", scale=2)
            btn = gr.Button("Refresh", elem_id="status-refresh", scale=1)
        btn.click(refresh_status, inputs=[token], outputs=[models, summary, versions], api_name="status")
        tab.select(refresh_status, inputs=[token], outputs=[models, summary, versions], api_visibility="private")
