"""Entry point: `python app.py` serves the suite; `demo` is the module-level gr.Blocks.

Storage (migrations) and the model registry config are checked before the UI is built, so a
bad DATABASE_URL, unwritable DATA_DIR or broken models.toml stops startup with one clear line.
Each tab lives in apps/<tab>.py and exposes `build()`; TABS lists them in display order.
"""
from __future__ import annotations

import importlib
import logging
import sys

import gradio as gr
from starlette.middleware import Middleware

import backend.config  # noqa: F401  (sets the offline environment before anything else loads)
from apps import a11y, anomaly, image_check, job_gate, plots, svg_studio
from apps.common import on_load
from apps.job_gate import JobGateMiddleware
from apps.session_cookie import SessionCookieMiddleware
from apps.suite_blocks import SuiteBlocks
from apps.upload_gate import UploadGateMiddleware
from backend.config import ConfigError, check_environment, get_settings, gradio_cache_sweep, setting
from backend.registry import get_registry
from backend.tempfiles import sweep_at_startup
from storage.db import StorageError, init_storage

log = logging.getLogger("app")

# Tab modules in display order; each has build(). Status is always last.
TABS = [
    "apps.arena",
    "apps.leaderboard",
    "apps.bench",
    "apps.edit3d",
    "apps.anomaly",
    "apps.svg_studio",
    "apps.status",
]

CSS = """
#app-title h1 { margin-bottom: 0; }
.badge-warn { color: #b45309; font-weight: 600; }
.badge-ok { color: #047857; font-weight: 600; }
.dark .badge-warn { color: #fbbf24; }  /* the light-theme shades read at ~3.4:1 on the dark background */
.dark .badge-ok { color: #34d399; }
/* Gradio's gr.Group resets its children with `border: none` (width: medium = 3 px) while each block sets
   `border-style` inline, so an image or file directly in a group got a 3 px frame in the text colour. */
.gr-group > .styler > .block { border-width: 0; }
/* a block's label stops short of its toolbar (fullscreen / download / share): on a phone a long label ran under it */
.block:has(.icon-button-wrapper.top-panel) > [data-testid="block-label"] { max-width: calc(100% - 100px); }
/* keyboard focus on a slider showed nothing at all, on a radio or checkbox only a faint border */
.gradio-container input:is([type="range"], [type="radio"], [type="checkbox"]):focus-visible {
  outline: 2px solid var(--color-accent); outline-offset: 2px; }
/* keyboard focus on an example (thumbnail or table cell) and on "More tabs" was the browser's 1 px ring, hard to
   tell from the thumbnail's own border */
.gradio-container :is(.gallery-item, [data-testid^="dataset-cell"], .overflow-menu button):focus-visible {
  outline: 2px solid var(--color-accent); outline-offset: 2px; }
.dark .gradio-container :is(.gallery-item, [data-testid^="dataset-cell"], .overflow-menu button):focus-visible {
  outline-color: var(--primary-400); }
/* the selected tab's name is the accent (indigo-600, which white buttons need in the light theme): 3.05:1 on the
   dark page; indigo-400 reads at 6:1 */
.dark .tab-wrapper button.selected { color: var(--primary-400); }
/* the image editor's empty-canvas hint is Gradio's grey-500 (!important): 3.04:1 on the dark block */
.dark .image-container .empty.wrap { color: var(--body-text-color-subdued) !important; }
""" + image_check.CHECK_CSS + "\n" + anomaly.CSS + "\n" + svg_studio.CSS + "\n" + plots.CSS
# Light theme: Soft's indigo-500 labels on indigo-100 read at 3.6:1 and white on indigo-500 buttons and selected
# radios at 4.47:1, under the 4.5:1 small text needs; one shade darker passes. Soft's grey-400 hints (info lines,
# slider ends, "- or -") read at 2.54:1 on white; grey-500 passes. The accent has one value for both themes (the dark
# selected tab's name is set in CSS). Dark hover fills were indigo-500 under white text (4.47:1): one shade darker.
THEME = gr.themes.Soft(primary_hue="indigo").set(
    block_label_text_color="*primary_700", block_title_text_color="*primary_700",
    button_primary_background_fill="*primary_600", button_primary_background_fill_hover="*primary_700",
    checkbox_label_background_fill_selected="*primary_600", color_accent="*primary_600",
    body_text_color_subdued="*neutral_500",
    body_text_color_subdued_dark="*neutral_400", button_primary_background_fill_hover_dark="*primary_700",
    button_secondary_background_fill_hover_dark="*primary_600")


def startup_checks() -> None:
    """Fail fast with a message that names what to fix."""
    check_environment()
    init_storage(get_settings())
    get_registry()

    sweep_at_startup()  # temp folders an earlier process left behind (crash, kill -9)


def build_demo() -> gr.Blocks:
    startup_checks()
    # SuiteBlocks: Gradio's own input checks answer with our sentence and a ref id (apps/suite_blocks.py).
    # delete_cache: Gradio's own upload/output cache is swept (default every 10 min, files older than 30 min).
    with SuiteBlocks(title="Point-Battle & vision tools", delete_cache=gradio_cache_sweep()) as demo:
        gr.Markdown("# Point-Battle & vision tools\nCompare pointing models blind, edit photos in 3D, inspect "
                    "anomalies and design SVG icons. Every model's backend is named on the Status tab.",
                    elem_id="app-title")
        with gr.Tabs():
            for mod in TABS:
                importlib.import_module(mod).build()
        image_check.build()  # where the browser sends image files it refused (apps/image_check.py)
        demo.load(on_load, api_visibility="private")
    # api_open=False closes /gradio_api/run/<name>, which would otherwise run events directly, skipping the
    # queue, max_size, every concurrency pool and every validator (rate limit). Clients use the queue.
    demo.queue(default_concurrency_limit=4, max_size=256, api_open=False)

    job_gate.register(demo)  # rate and size limits of model jobs, checked before Gradio queues them
    return demo


def page_js() -> str:
    """The page scripts, run once on load: the browser's image check and the accessible names (apps/a11y.py)."""
    return f"() => {{ ({image_check.IMAGE_CHECK_JS.strip()})(); ({a11y.script()})(); }}"


def launch_kwargs() -> dict:
    return dict(theme=THEME, css=CSS, js=page_js(), footer_links=["api", "settings"], show_error=True,
                max_file_size="25mb", run_history=False,
                app_kwargs={"middleware": [Middleware(SessionCookieMiddleware),  # signed session cookie
                                           Middleware(JobGateMiddleware),  # refuses jobs before queueing
                                           Middleware(UploadGateMiddleware)]})  # upload bytes per client IP


try:
    demo = build_demo()
except (ConfigError, StorageError) as _exc:
    if __name__ == "__main__":
        print(f"Startup error: {_exc}", file=sys.stderr)
        raise SystemExit(2) from None
    raise


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    demo.launch(server_name=setting("GRADIO_SERVER_NAME"), server_port=setting("GRADIO_SERVER_PORT"),
                **launch_kwargs())
