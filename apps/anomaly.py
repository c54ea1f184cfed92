"""Anomaly Inspector tab: normal prompt(s) + many queries → thresholded, sorted, exportable results.

Layout and wiring only; handlers live in apps/anomaly_handlers.py. Maps are kept in gr.State, so
the threshold sliders re-threshold without re-running the engine. Public endpoints (gradio_client):
inspect_batch, inspect_one and anomaly_{rethreshold, detail, export_batch, export_one, calibrate, evaluate,
save_pool, load_pool, recent, reopen, start_correction, save_correction, export_corrections, example,
example_dataset}.
"""
from __future__ import annotations

import gradio as gr

from apps import anomaly_handlers as h
from apps.common import editor_input, file_input, job
from backend.anomaly.engines import default_role, describe
from backend.anomaly.inspector import engine_defaults

INTRO = """### Anomaly Inspector — one normal image is enough
Upload one or more **normal** (defect-free) images of a product as prompts and any number of **query** images
(or a zip). Each query gets an anomaly map in **absolute units** (a good part stays cold — unlike per-image
min–max colouring), an image score, an OK/NG verdict at your threshold, a binary mask, and its top anomalous
regions. Move the sliders to re-threshold instantly; the model is not re-run."""

# Gradio floats each image's label (top left) and its toolbar (fullscreen / download / share, top right) over the
# picture; on the heatmap the toolbar covered the colour bar's top value ("0.75" at 1280×800). The result images
# start below both, so the colour bar, the side-by-side captions and the overlay's corners stay readable.
RESULT_IMAGES = ("#anomaly-sbs", "#anomaly-overlay", "#anomaly-heatmap", "#anomaly-mask")
CSS = ", ".join(f"{sel} .image-container" for sel in RESULT_IMAGES) + " { padding-top: 40px; }"


def _engine_choices() -> tuple[list[tuple[str, str]], str, str]:
    """(choices, default, note) from the engines service; unavailable engines are listed with the reason."""
    try:
        infos = describe()
    except Exception as exc:  # the tab still opens; inspecting then says what is wrong
        return [("Patch kNN (training-free)", "knn")], "knn", f"Engine list unavailable: {exc}"
    ch = [(e["label"] + ("" if e["available"] else " — unavailable"), e["name"]) for e in infos]
    avail = [e["name"] for e in infos if e["available"]]
    # the default follows the evidence: the winner of the committed held-out real-photo report (docs/anomaly.md)
    default = default_role(avail) if avail else infos[0]["name"]
    notes = [f"*{e['name']}*: {e['why']}" for e in infos if not e["available"]]
    return ch, default, ("Unavailable here: " + "; ".join(notes)) if notes else ""


def build() -> None:
    engine_ch, engine_default, engine_note = _engine_choices()
    d = engine_defaults(engine_default)
    with gr.Tab("Anomaly Inspector", id="anomaly", elem_id="tab-anomaly") as tab:
        gr.Markdown(INTRO)
        run_state = gr.State(None, time_to_live=h.RUN_TTL_S)  # a script's session never closes; see h.keep
        auto_state = gr.State(False)  # mirrors the "auto" checkbox; a State stays out of the public API
        with gr.Row():
            with gr.Column(scale=1, min_width=320):
                prompts = file_input(["image", ".zip"], label="Normal prompt image(s)", file_count="multiple",
                                     type="filepath", elem_id="anomaly-prompts")
                with gr.Accordion("Prompt pools (save / load by name)", open=False):
                    product = gr.Textbox(label="Product", placeholder="e.g. bottle-cap-A", elem_id="anomaly-product")
                    pool_name = gr.Textbox(label="Pool name", placeholder="e.g. line-3 good parts")
                    share_pool = gr.Checkbox(False, label="Share this pool with everyone",
                                             info="Off: only this browser session sees it.")
                    save_pool_btn = gr.Button("Save prompts as pool", size="sm")
                    pool_dd = gr.Dropdown(label="Saved pools", choices=[], elem_id="anomaly-pools",
                                          allow_custom_value=True)
                    load_pool_btn = gr.Button("Load pool as prompts", size="sm")
                    pool_msg = gr.Markdown(elem_id="anomaly-pool-msg")
                queries = file_input(["image", ".zip"], label="Query image(s) or a .zip", file_count="multiple",
                                     type="filepath", elem_id="anomaly-queries")
                engine = gr.Dropdown(engine_ch, value=engine_default, label="Engine", elem_id="anomaly-engine",
                                     info=engine_note or None)
                resolution = gr.Radio(["256", "512", "tiled"], value="256", label="Resolution",
                                      info="tiled: overlapping 256 px tiles at native resolution (small defects, "
                                           "large images)")
                top_k = gr.Number(value=0, precision=0, minimum=0, label="Retrieve top-k prompts per query",
                                  info="0 = use every prompt; k ≥ 1 = the k most similar prompts of the pool")
                with gr.Row():
                    run_btn = gr.Button("Inspect", variant="primary", elem_id="anomaly-run")
                    example_btn = gr.Button("Try the example", elem_id="anomaly-example")
                one_btn = gr.Button("Inspect first query only", size="sm", visible=False)
                with gr.Accordion("Your recent inspections", open=False, elem_id="anomaly-recent-box"):
                    recent_dd = gr.Dropdown(label="This browser session's inspections (newest first)", choices=[],
                                            elem_id="anomaly-recent", allow_custom_value=True)
                    reopen_btn = gr.Button("Reopen", size="sm", elem_id="anomaly-reopen")
                    recent_msg = gr.Markdown(elem_id="anomaly-recent-msg")
                    recent_table = gr.Dataframe(headers=h.RECENT_COLUMNS, interactive=False, max_height=240,
                                                label="Stored results", elem_id="anomaly-recent-table")
            with gr.Column(scale=2):
                with gr.Row():
                    image_thr = gr.Slider(0, 1, value=d["image"], step=0.005, label="Image threshold (NG if score ≥)",
                                          elem_id="anomaly-image-thr")
                    pixel_thr = gr.Slider(0, 1, value=d["pixel"], step=0.005, label="Pixel threshold (mask)",
                                          elem_id="anomaly-pixel-thr")
                with gr.Row():  # columns (not bare form fields) so narrow screens wrap them instead of cutting labels
                    with gr.Column(min_width=240):
                        auto_thr = gr.Checkbox(True, label="Thresholds from the prompts (auto)",
                                               elem_id="anomaly-auto-thr",
                                               info="after each run, set both thresholds just above what nuisance-"
                                                    "augmented copies of the prompts score")
                        normalise = gr.Checkbox(False, label="Normalise colours per image (hides absolute level)")
                    with gr.Column(min_width=240):
                        vmax = gr.Slider(0.05, 1, value=d["vmax"], step=0.05,
                                         label="Colour scale top (absolute units)")
                summary = gr.Markdown(elem_id="anomaly-summary")
                # columns as wide as their contents, the table scrolls sideways inside itself: fixed percentage
                # widths squeezed nine columns into a phone's 356 px and cut every header to "s…", "v…"
                table = gr.Dataframe(headers=h.TABLE_COLUMNS, interactive=False, label="Results (click a row)",
                                     elem_id="anomaly-table", wrap=False, max_height=420, max_chars=40)
                gallery = gr.Gallery(label="Overlays (highest score first)", columns=4, height=300, format="png",
                                     elem_id="anomaly-gallery", allow_preview=False)
        with gr.Group():
            # equal heights: a two-line button beside a one-line one left a grey gap under the shorter; on a phone
            # the picker takes its own line (squeezed into a third, its label wrapped and a button hung below)
            with gr.Row(equal_height=True):
                pick = gr.Dropdown(label="Query shown below", choices=[], elem_id="anomaly-pick", scale=3,
                                   allow_custom_value=True, min_width=320)
                export_one_btn = gr.Button("Export this query (PNG + JSON)", scale=1, elem_id="anomaly-export-one")
                export_btn = gr.Button("Export all (zip, CSV, JSON)", scale=1, elem_id="anomaly-export")
            sbs = gr.Image(label="Prompt | query | map", show_label=False, format="png", interactive=False,
                           elem_id="anomaly-sbs")  # the panels carry their own captions; the badge covered them
            with gr.Row():
                overlay = gr.Image(label="Overlay (red: mask, yellow: regions)", format="png", interactive=False,
                                   elem_id="anomaly-overlay")
                heatmap = gr.Image(label="Heatmap with colour bar", format="png", interactive=False,
                                   elem_id="anomaly-heatmap")
                mask = gr.Image(label="Binary mask", format="png", interactive=False, elem_id="anomaly-mask")
            with gr.Row():
                regions = gr.Dataframe(headers=h.REGION_COLUMNS, interactive=False, label="Top anomalous regions")
                info = gr.JSON(label="Result", elem_id="anomaly-info")
            files = gr.File(label="Downloads", file_count="multiple", interactive=False, elem_id="anomaly-files",
                            height=160)
        with gr.Accordion("Calibrate thresholds", open=False):
            gr.Markdown("Upload **extra normal images** (not the prompts): the thresholds become a high percentile "
                        "of their scores. Add **defective images** (and optional masks named `<image>_mask.png`) "
                        "for F1-optimal thresholds.")
            with gr.Row():
                cal_good = file_input(["image", ".zip"], label="Extra normal images", file_count="multiple")
                cal_bad = file_input(["image", ".zip"], label="Defective images (optional)", file_count="multiple")
                cal_masks = file_input(["image", ".zip"], label="Defect masks (optional)", file_count="multiple")
            cal_btn = gr.Button("Calibrate")
            cal_msg = gr.Markdown()
        with gr.Accordion("Correct the mask → save as ground truth", open=False):
            gr.Markdown("Paint the true defect in red (erase false alarms), then save. Saved corrections export as "
                        "an MVTec-layout zip, which the evaluation mode below reads back.")
            edit_btn = gr.Button("Edit the mask of the query shown above", size="sm", elem_id="anomaly-edit")
            editor = editor_input(label="Mask editor", type="numpy", format="png", transforms=(),
                                    brush=gr.Brush(colors=["#ff0000"], default_color="#ff0000", color_mode="fixed"),
                                    elem_id="anomaly-editor")
            with gr.Row():
                corr_product = gr.Textbox(label="Product", value="product")
                defect_type = gr.Textbox(label="Defect type", value="defect")
                save_corr_btn = gr.Button("Save as ground truth", variant="primary")
            corr_msg = gr.Markdown()
            with gr.Row():
                only_mine = gr.Checkbox(True, label="Only corrections from this session")
                corr_token = gr.Textbox(label="Admin token (to export every session's)", type="password",
                                        max_lines=1)
                export_corr_btn = gr.Button("Export corrections (MVTec zip)")
            corr_file = gr.File(label="Corrections zip", interactive=False)
        with gr.Accordion("Evaluation mode (MVTec-layout zip)", open=False):
            # `AUPRO@0.3` as code: Markdown autolinks a bare x@y as an e-mail address
            gr.Markdown("Upload a zip with `<class>/train/good`, `<class>/test/<defect>` and "
                        "`<class>/ground_truth/<defect>/*_mask.png`. A prompt is drawn from train/good per seed; "
                        "metrics follow anomalib (I-AUROC, I-AP, I-F1max, P-AUROC, P-AP, P-F1max, `AUPRO@0.3`).")
            with gr.Row():
                eval_zip = file_input([".zip"], label="Dataset zip", type="filepath",
                                   elem_id="anomaly-eval-zip")
                seeds = gr.Textbox(value="0", label="Prompt seeds (space separated)")
            with gr.Row():
                eval_btn = gr.Button("Evaluate", elem_id="anomaly-eval")
                eval_example_btn = gr.Button("Use the bundled synthetic sample", size="sm")
            eval_msg = gr.Markdown()
            eval_table = gr.Dataframe(interactive=False, label="Metrics per class (%)", elem_id="anomaly-eval-table")

        settings = [engine, resolution, top_k, image_thr, pixel_thr, normalise, vmax]
        view_opts = [image_thr, pixel_thr, normalise, vmax]
        detail_out = [sbs, overlay, heatmap, mask, regions, info]
        views = [table, gallery, summary, *detail_out]
        run_btn.click(h.clear_downloads, None, files, api_visibility="private", queue=False)
        # progress and a failure's "Error" go on the results only: on every output they covered the threshold
        # sliders until the next successful run
        on_results = dict(show_progress_on=[table, gallery])
        inspected = run_btn.click(h.inspect_batch, [prompts, queries, *settings, auto_state],
                      [run_state, table, gallery, summary, pick, *detail_out, image_thr, pixel_thr],
                      api_name="inspect_batch", **on_results, **job("anomaly", h.inspect_batch))
        one_btn.click(h.inspect_one, [prompts, queries, *settings], [overlay, heatmap, mask, info],
                      api_name="inspect_one", **job("anomaly", h.inspect_one))
        # re-renders of a kept run: no model, but every overlay of up to 100 queries (apps/job_gate.py gates them)
        view_job = job("anomaly_view", h.rethreshold)
        for i, sl in enumerate((image_thr, pixel_thr, vmax)):  # one public endpoint, two private twins
            sl.release(h.rethreshold, [run_state, pick, *view_opts], views,
                       api_name="anomaly_rethreshold" if i == 0 else None,
                       api_visibility="public" if i == 0 else "private", show_progress="hidden",
                       trigger_mode="always_last", **view_job)
        normalise.change(h.rethreshold, [run_state, pick, *view_opts], views, api_visibility="private",
                         show_progress="hidden", **view_job)
        pick.change(h.detail, [run_state, pick, *view_opts], detail_out, api_name="anomaly_detail",
                    show_progress="hidden", **view_job)
        table.select(h.select_row, [run_state], pick, api_visibility="private")
        gallery.select(h.select_gallery, [run_state], pick, api_visibility="private")
        export_btn.click(h.export_batch, [run_state, *view_opts], files, api_name="anomaly_export_batch", **view_job)
        export_one_btn.click(h.export_one, [run_state, pick, *view_opts], files, api_name="anomaly_export_one",
                             **view_job)
        cal_btn.click(h.calibrate, [prompts, cal_good, cal_bad, cal_masks, engine, resolution, top_k, image_thr,
                                    pixel_thr], [image_thr, pixel_thr, cal_msg], api_name="anomaly_calibrate",
                      show_progress_on=[cal_msg], **job("anomaly_slow", h.calibrate)
                      ).then(h.rethreshold, [run_state, pick, *view_opts], views, api_visibility="private",
                             **view_job)
        eval_btn.click(h.evaluate, [eval_zip, engine, resolution, seeds, top_k], [eval_table, eval_msg],
                       api_name="anomaly_evaluate", **job("anomaly_slow", h.evaluate))
        # progress and a refusal's "Error" go on the pool message: on every output they covered the prompt images
        # (load) or the pool list (save) and took their clicks until the next success
        save_pool_btn.click(h.save_pool, [prompts, product, pool_name, share_pool], [pool_dd, pool_msg],
                            api_name="anomaly_save_pool", show_progress_on=[pool_msg])
        load_pool_btn.click(h.load_pool, [pool_dd], [prompts, pool_msg], api_name="anomaly_load_pool",
                            show_progress_on=[pool_msg])
        tab.select(h.refresh_pools, None, pool_dd, api_visibility="private")
        edit_btn.click(h.start_correction, [run_state, pick, pixel_thr], editor,
                       api_name="anomaly_start_correction")
        save_corr_btn.click(h.save_correction, [run_state, pick, editor, corr_product, defect_type], corr_msg,
                            api_name="anomaly_save_correction",  # Gradio decodes the editor's layers first:
                            **job("image_open", h.save_correction))  # gated at the door (apps/job_gate.py)
        export_corr_btn.click(h.export_corrections, [corr_product, only_mine, corr_token], corr_file,
                              api_name="anomaly_export_corrections")
        example_btn.click(h.clear_downloads, None, files, api_visibility="private", queue=False)
        example_ran = example_btn.click(h.load_example, None, [prompts, queries], api_name="anomaly_example").then(
            h.inspect_batch, [prompts, queries, *settings, auto_state],
            [run_state, table, gallery, summary, pick, *detail_out, image_thr, pixel_thr],
            api_visibility="private", **on_results, **job("anomaly", h.inspect_batch))
        auto_thr.change(h.mirror, auto_thr, auto_state, api_visibility="private", queue=False)
        tab.select(h.mirror, auto_thr, auto_state, api_visibility="private", queue=False)
        eval_example_btn.click(h.example_dataset, None, eval_zip, api_name="anomaly_example_dataset")
        # .input, not .change: a reopened inspection sets the engine AND its stored thresholds (.change fired on
        # that update too and replaced the thresholds with the engine's defaults)
        engine.input(_defaults_for, engine, [image_thr, pixel_thr, vmax], api_visibility="private")
        # "Your recent inspections": on page load, on opening the tab and after each inspection; Reopen copies the
        # stored images (no decoding, but file work per call: gated like every image read, apps/job_gate.py)
        gr.on([tab.select], h.recent_inspections, None, recent_dd, api_visibility="private")
        gr.on(None, h.recent_inspections, None, recent_dd, api_name="anomaly_recent")
        for ran in (inspected, example_ran):
            ran.success(h.recent_inspections, None, recent_dd, api_visibility="private")
        reopen_btn.click(h.reopen_inspection, recent_dd,
                         [prompts, queries, engine, resolution, top_k, image_thr, pixel_thr, recent_table, recent_msg],
                         api_name="anomaly_reopen", show_progress_on=[recent_msg],
                         **job("image_open", h.reopen_inspection))


def _defaults_for(engine: str):
    d = engine_defaults(engine or "")
    return d["image"], d["pixel"], d["vmax"]
