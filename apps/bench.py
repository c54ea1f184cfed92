"""Point-Bench tab: evaluate a pointer on the bundled sample bench, compare bench with arena, collect
and review new bench items (annotation → review → export → evaluate)."""
from __future__ import annotations

import gradio as gr

from apps import bench_handlers as h
from apps.common import editor_input, file_input, job

INTRO = """### Point-Bench
PointArena's static benchmark: each item is an image, an instruction and a target mask. A pointer scores when
its point lands in the mask (**counting**: exactly `count` points, all inside; other categories: only the
first point counts). The headline is the unweighted mean of the five category accuracies. The bundled sample
bench (75 items: real photos from scikit-image / scikit-learn / gradio with hand-drawn masks, and procedural
scenes with exact masks) is in `static/bench/`; the real Point-Bench runs unchanged with
`python -m backend.arena.bench_cli evaluate --bench DIR ...`."""


def _evaluate_section():
    with gr.Accordion("Evaluate a pointer", open=True):
        with gr.Row():
            pointer = gr.Dropdown(h.pointer_choices(), label="Pointer (from models.toml)", elem_id="bench-pointer",
                                  scale=2)
            bench_zip = file_input([".zip"], label="Bench zip (optional; default: the bundled sample)",
                                 elem_id="bench-zip", scale=2)
            overlays = gr.Checkbox(label="Show overlays (points on mask)", value=False, elem_id="bench-overlays")
        run = gr.Button("Evaluate", variant="primary", elem_id="bench-run")
        summary = gr.Markdown(elem_id="bench-summary")
        # headers before the first run (an empty table showed Gradio's "1 2 3")
        table = gr.Dataframe(headers=list(h.per_category_frame({}).columns), label="Accuracy per category (%)",
                             interactive=False, elem_id="bench-table")
        gallery = gr.Gallery(label="Overlays: green = target mask, ring = kept point (green ✔ / red ✘), "
                                   "blue = reference point", visible=False, columns=4, height=420, format="png",
                             elem_id="bench-gallery")
        with gr.Accordion("Per-item details", open=False):
            items = gr.Dataframe(headers=list(h.ITEM_COLUMNS), interactive=False, wrap=True, elem_id="bench-items")
        ev = run.click(h.evaluate, [pointer, bench_zip, overlays], [summary, table, gallery, items],
                       api_name="bench_evaluate", **job("bench", h.evaluate))
    return ev


def _compare_section():
    with gr.Accordion("Bench ↔ arena", open=True):
        gr.Markdown("Each model's bench average against its arena rating. PointArena found the two agree "
                    "closely; with few models the statistics are shown but mean little.")
        refresh = gr.Button("Refresh", elem_id="bench-compare-refresh")
        stats_md = gr.Markdown(elem_id="bench-compare-stats")
        with gr.Row():
            pairs = gr.Dataframe(label="Bench average vs arena rating", interactive=False, elem_id="bench-pairs")
            plot = gr.Plot(label="Bench vs arena")
        per_cat = gr.Dataframe(label="Per-category accuracy (%) — latest result per model", interactive=False,
                               elem_id="bench-percat")
        outs = [stats_md, pairs, per_cat, plot]
        refresh.click(h.bench_vs_arena, outputs=outs, api_name="bench_vs_arena")
    return outs


def _annotate_section() -> None:
    with gr.Accordion("Annotate a new bench item", open=False):
        gr.Markdown("Upload a photo (or load a finished battle by id), paint the target region with the brush "
                    "(or type boxes), set the category — and `count` for counting, the reference point for "
                    "steerable — then save. Items wait for review.")
        with gr.Row():
            with gr.Column(scale=3):
                editor = editor_input(label="Image — paint the target region", type="pil", format="png",
                                        image_mode="RGBA", transforms=(), layers=False, elem_id="bench-editor",
                                        brush=gr.Brush(colors=["#ff0066"], default_size=24, color_mode="fixed"),
                                        sources=("upload", "clipboard"), height=460)
                marked = gr.Markdown(elem_id="bench-marked")
                with gr.Accordion("Click to select (proposes the mask; correct it with the brush above)", open=True):
                    pick = gr.Image(label="Click the target (GrabCut, or SAM when its weights are present — the "
                                          "Photo 3D Edit tab's selector)", interactive=False, format="png",
                                    elem_id="bench-pick", height=300)
                    click_mode = gr.Radio(["target (+)", "background (−)"], value="target (+)", label="Clicks mark",
                                          elem_id="bench-click-mode")
                    clicks = gr.State("[]")
                    seen = gr.State("")  # key of the image shown in the click view
            with gr.Column(scale=2):
                with gr.Row():
                    battle = gr.Textbox(label="Battle id (optional)", elem_id="bench-battle-id", scale=3)
                    load_b = gr.Button("Load battle", scale=1, elem_id="bench-load-battle")
                instruction = gr.Textbox(label="Instruction", placeholder="Point to the handle of the mug.",
                                         elem_id="bench-instruction")
                category = gr.Dropdown(h.CAT_CHOICES, label="Category", value="spatial", elem_id="bench-category")
                count = gr.Number(label="Count (counting items only)", precision=0, value=None,
                                  elem_id="bench-count")
                with gr.Row():
                    ref_x = gr.Number(label="Reference x (steerable)", value=None, elem_id="bench-ref-x")
                    ref_y = gr.Number(label="Reference y (steerable)", value=None, elem_id="bench-ref-y")
                boxes = gr.Textbox(label="Boxes instead of / besides the brush: x0,y0,x1,y1; …", elem_id="bench-boxes")
                annotator = gr.Textbox(label="Your name (optional)", elem_id="bench-annotator")
                check = gr.Checkbox(label="Check with 3 models (PointArena keeps items ≤ 1 of 3 get right)",
                                    value=False, elem_id="bench-check-hard")
                save = gr.Button("Save annotation", variant="primary", elem_id="bench-save")
                saved = gr.Markdown(elem_id="bench-saved")
        save.click(h.save_annotation, [editor, instruction, category, count, ref_x, ref_y, boxes, annotator, battle,
                                       check], saved, api_name="bench_annotate", **job("bench", h.save_annotation))
        # a quick lookup: no progress, so a refused id ("Type a battle id first") is said by the toast alone; the
        # "Error" overlay covered the editor, the instruction and the category (and took their clicks)
        load_b.click(h.load_battle, battle, [editor, instruction, category, ref_x, ref_y], api_name="bench_load_battle",
                     show_progress="hidden", **job("image_open", h.load_battle))  # decodes + re-encodes the photo
        # after every stroke or proposal: what is marked; after a new image: the click view, no clicks
        # (one upload fires both; apps.bench_handlers.editor_listener says a refused image's sentence once)
        on_editor = h.editor_listener(editor)
        for ev in (editor.change, editor.upload):
            ev(on_editor, [editor, seen], [marked, pick, clicks, seen], api_visibility="private",
               trigger_mode="always_last", show_progress="hidden", preprocess=False,
               **job("image_open", h.editor_changed))
        pick.select(h.click_segment, [editor, clicks, click_mode], [editor, pick, clicks, marked],
                    api_visibility="private", **job("edit3d", h.click_segment))


def _review_section() -> None:
    with gr.Accordion("Review and export (admin)", open=False):
        with gr.Row():
            token = gr.Textbox(label="Admin token", type="password", elem_id="bench-token", scale=2)
            reviewer = gr.Textbox(label="Reviewer name", value="admin", elem_id="bench-reviewer", scale=1)
            status = gr.Dropdown(["pending", "accepted", "rejected", "all"], value="pending", label="Show",
                                 elem_id="bench-review-status", scale=1)
            list_btn = gr.Button("List annotations", elem_id="bench-review-list", scale=1)
        counts_md = gr.Markdown(elem_id="bench-review-counts")
        listing = gr.Dataframe(interactive=False, wrap=True, elem_id="bench-review-table")
        with gr.Row():
            ann_id = gr.Number(label="Annotation id", precision=0, elem_id="bench-review-id")
            show = gr.Button("Preview", elem_id="bench-review-preview")
            accept = gr.Button("Accept", variant="primary", elem_id="bench-accept")
            reject = gr.Button("Reject", variant="stop", elem_id="bench-reject")
        with gr.Row():
            preview = gr.Image(label="Annotation (green = mask)", format="png", interactive=False, height=320)
            decision = gr.Markdown(elem_id="bench-review-result")
        with gr.Row():
            hard = gr.Checkbox(label="Hard items only (≤ 1 of 3 models correct)", value=False, elem_id="bench-hard")
            export = gr.Button("Export accepted as Point-Bench zip", elem_id="bench-export")
        export_md = gr.Markdown(elem_id="bench-export-result")
        export_file = gr.File(label="Point-Bench zip", elem_id="bench-export-file")
        list_btn.click(h.review_list, [token, status], [counts_md, listing], api_name="bench_review_list")
        show.click(h.review_preview, [token, ann_id], [preview, decision], api_name="bench_review_preview")
        # the list refreshes after each decision, so it never shows a stale status
        accept.click(h.review_accept, [token, ann_id, reviewer], decision, api_name="bench_accept").success(
            h.review_list, [token, status], [counts_md, listing], api_visibility="private")
        reject.click(h.review_reject, [token, ann_id, reviewer], decision, api_name="bench_reject").success(
            h.review_list, [token, status], [counts_md, listing], api_visibility="private")
        export.click(h.export_zip, [token, hard], [export_file, export_md], api_name="bench_export")


def build() -> None:
    with gr.Tab("Point-Bench", id="bench", elem_id="tab-bench") as tab:
        gr.Markdown(INTRO)
        ev = _evaluate_section()
        compare_outs = _compare_section()
        # a new result changes "latest result per model": refresh the comparison after each evaluation
        ev.success(h.bench_vs_arena, outputs=compare_outs, api_visibility="private")
        _annotate_section()
        _review_section()
        tab.select(h.bench_vs_arena, outputs=compare_outs, api_visibility="private")
