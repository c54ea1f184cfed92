"""Status tab: which model adapters exist, which are usable, and where data lives."""
from __future__ import annotations

import gradio as gr
import pandas as pd

from apps.common import user_errors
from backend.system_status import system_status

MODEL_COLUMNS = ["name", "capability", "kind", "available", "loaded", "device", "load_time_s", "memory_mb",
                 "detail", "label", "path"]
KIND_LABEL = {"embedded": "embedded default", "checkpoint": "big checkpoint", "remote": "remote endpoint"}


def status_tables() -> tuple[pd.DataFrame, str, pd.DataFrame]:
    st = system_status()
    models = pd.DataFrame(st["models"])
    if models.empty:
        models = pd.DataFrame(columns=MODEL_COLUMNS)
    else:
        models["kind"] = models["kind"].map(lambda k: KIND_LABEL.get(k, k))
        models = models[MODEL_COLUMNS]
    db = st["database"]
    dev = st["device"]
    summary = (
        f"**Database:** {db['kind']} — `{db['url']}`  \n"
        f"**Data directory:** `{st['data_dir']}`  \n"
        f"**Models directory:** `{st['models_dir']}` (config `{st['models_config']}`)  \n"
        f"**Device:** {dev.get('device')} (setting `{dev.get('setting')}`, CUDA available: {dev.get('cuda_available', 'n/a')}"
        f"{', ' + dev['gpu'] if 'gpu' in dev else ''})  \n"
        f"**Admin token configured:** {'yes' if st['admin_token_set'] else 'no'}"
    )
    versions = pd.DataFrame(sorted(st["versions"].items()), columns=["package", "version"])
    return models, summary, versions


@user_errors
def refresh_status():
    return status_tables()


def build() -> None:
    with gr.Tab("Status", id="status", elem_id="tab-status") as tab:
        gr.Markdown("### System status\nEvery model adapter, whether its weights were found, and where data lives. "
                    "*Embedded default* = real weights shipped inside a Python package; *big checkpoint* = weights "
                    "you place under `MODELS_DIR`; *remote endpoint* = an OpenAI-compatible server.")
        summary = gr.Markdown(elem_id="status-summary")
        models = gr.Dataframe(label="Model adapters", interactive=False, elem_id="status-models", wrap=False,
                              max_height=4000)  # every row visible, no inner scroll
        versions = gr.Dataframe(label="Versions", interactive=False, elem_id="status-versions")
        btn = gr.Button("Refresh", elem_id="status-refresh")
        btn.click(refresh_status, outputs=[models, summary, versions], api_name="status")
        tab.select(refresh_status, outputs=[models, summary, versions], api_visibility="private")
