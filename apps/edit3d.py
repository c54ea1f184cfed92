"""Photo 3D Edit tab: click an object, turn and move it in 3D, export an honest edited photo.

Layout only; the handlers live in apps/edit3d_handlers.py and call backend.edit3d.service.
Sliders and their number boxes render on input (newest value wins; a 512 px preview render); the full-resolution export is a button.
"""
from __future__ import annotations

import json
from pathlib import Path

import gradio as gr

from apps import a11y
from apps import edit3d_handlers as h
from apps.common import image_input, job
from backend.edit3d import service
from backend.edit3d.params import PRESETS, Selection

_SITE = Path(gr.__file__).resolve().parent.parent
# (photo, caption): the caption is the thumbnail's screen-reader name (apps/a11y.py)
_EXAMPLE_PHOTOS = [(_SITE / "skimage" / "data" / "coffee.png", "Example photo: espresso cup on a red saucer"),
                   (_SITE / "sklearn" / "datasets" / "images" / "flower.jpg",
                    "Example photo: orange dahlia against dark leaves")]
EXAMPLES = [p for p, _ in _EXAMPLE_PHOTOS if p.exists()]
EXAMPLE_CAPTIONS = [c for p, c in _EXAMPLE_PHOTOS if p.exists()]
INTRO = """### Photo 3D Edit
Click an object, then turn it (yaw / pitch / roll) and move it in 3D. The object is lifted with a depth map and a
pinhole camera, moved, re-projected with a z-buffer and composited back. **What is real and what is invented:** by
default depth is a *classical guess* (ground plane + the object as an inflated billboard) and the uncovered background
is filled by *classical inpainting* (smooth for thin and large holes, copied texture for medium ones); the status line names every stage, and the **guide mask** shows invented pixels in
black. Turns past ~30° show sides the photo never saw. Models (SAM, Depth-Anything, Stable Diffusion) are used only
when their weights are placed under `MODELS_DIR` (see the Status tab). Example photos: coffee (CC0, Rachel Michetti,
via scikit-image) and flower (CC-BY, via scikit-learn)."""


def build() -> None:
    with gr.Tab("Photo 3D Edit", id="edit3d", elem_id="tab-edit3d"):
        gr.Markdown(INTRO)
        with gr.Row():
            with gr.Column(scale=1):
                photo = image_input(label="Photo (any size and aspect ratio)", sources=["upload", "clipboard"],
                                 elem_id="edit3d-photo", height=260)
                if EXAMPLES:
                    gr.Examples([[str(p)] for p in EXAMPLES], inputs=[photo], label="Real example photos",
                                elem_id=a11y.example_names("edit3d-examples", EXAMPLE_CAPTIONS))
                pick = gr.Image(label="Click the object (preview)", interactive=False, format="png",
                                elem_id="edit3d-pick")
                mode = gr.Radio(list(h.CLICK_MODES), value="object (+)", label="Clicks mark",
                                elem_id="edit3d-mode")
                with gr.Row():
                    box = gr.Textbox(label="…or a box x0,y0,x1,y1 (original pixels)", elem_id="edit3d-box",
                                     scale=3)
                    clear = gr.Button("Clear selection", elem_id="edit3d-clear", scale=1)
                with gr.Accordion("Mask upload and refinement", open=False):
                    mask = image_input(label="…or upload a mask (white = object)", sources=["upload"], height=160)
                    dilate = gr.Slider(-10, 10, 0, step=1, label="Grow (+) / shrink (−) mask, px")
                    sel_state = gr.Textbox(json.dumps(Selection().to_dict()), label="Selection as JSON (clicks "
                                           "[x, y, 1 = object / 0 = background] in original pixels; editable)",
                                           elem_id="edit3d-selection", lines=2)
            with gr.Column(scale=1):
                yaw = gr.Slider(-180, 180, 0, step=1, label="Yaw ° (turn left/right)", elem_id="edit3d-yaw",
                                buttons=["reset"])
                pitch = gr.Slider(-180, 180, 0, step=1, label="Pitch ° (tilt)", elem_id="edit3d-pitch",
                                  buttons=["reset"])
                roll = gr.Slider(-180, 180, 0, step=1, label="Roll ° (in-plane)", elem_id="edit3d-roll",
                                 buttons=["reset"])
                tx = gr.Slider(-3, 3, 0, step=0.01, label="Move x (scene units ≈ m)", elem_id="edit3d-tx",
                               buttons=["reset"])
                ty = gr.Slider(-3, 3, 0, step=0.01, label="Move y (down +)", elem_id="edit3d-ty", buttons=["reset"])
                tz = gr.Slider(-3, 6, 0, step=0.01, label="Move z (away +)", elem_id="edit3d-tz", buttons=["reset"])
                scale = gr.Slider(0.2, 3, 1, step=0.01, label="Scale", elem_id="edit3d-scale", buttons=["reset"])
                mirror = gr.Checkbox(False, label="Mirror", elem_id="edit3d-mirror")
                with gr.Row():
                    preset = gr.Dropdown(list(PRESETS), value="turn right 20°", label="Preset", scale=2)
                    apply_preset = gr.Button("Apply preset", elem_id="edit3d-preset", scale=1)
                with gr.Row():
                    undo = gr.Button("↶ Undo", elem_id="edit3d-undo")
                    redo = gr.Button("↷ Redo", elem_id="edit3d-redo")
                    render = gr.Button("Render", variant="primary", elem_id="edit3d-render")
                with gr.Accordion("Scene, depth and compositing", open=False):
                    fov = gr.Slider(20, 120, 55, step=1, label="Camera field of view °")
                    thickness = gr.Slider(0, 1, 0.15, step=0.01, label="Object thickness (inflation)")
                    horizon = gr.Slider(-1, 0.9, 0.35, step=0.01, label="Horizon row (fraction of height)")
                    hints = gr.Textbox(label="Depth hints: x,y,depth; x,y,depth (original pixels, scene units)",
                                       placeholder="300,380,1.2; 100,50,4")
                    seg = gr.Dropdown(service.choices("segmentation"), value="auto", label="Selection backend")
                    depth = gr.Dropdown(service.choices("depth"), value="auto", label="Depth backend")
                    fill = gr.Dropdown(service.choices("inpaint"), value="auto", label="Background fill")
                    harmonize = gr.Slider(0, 1, 0.5, step=0.05, label="Colour harmonisation")
                    shadow = gr.Slider(0, 1, 0, step=0.05, label="Contact shadow (approximate)")
                    occlusion = gr.Checkbox(True, label="Depth-test occlusion")
                    feather = gr.Slider(0, 5, 1.5, step=0.5, label="Edge feather px")
        status = gr.Markdown("Upload a photo (or pick an example), then click the object.", elem_id="edit3d-status")
        with gr.Row():
            result = gr.ImageSlider(label="Before | after (drag the divider)", format="png", elem_id="edit3d-result",
                                    max_height=520)
            with gr.Column():
                depth_img = gr.Image(label="Edited depth (near = bright)", format="png", interactive=False,
                                     elem_id="edit3d-depth", height=250)
                gmask = gr.Image(label="Guide mask: black invented, grey moved object, white kept", format="png",
                                 interactive=False, elem_id="edit3d-gmask", height=250)
        with gr.Row():
            export = gr.Button("Export full resolution (+ .glb, turntable)", variant="primary", elem_id="edit3d-export")
            download = gr.DownloadButton("Download edited.png", elem_id="edit3d-download")
        export_note = gr.Markdown(elem_id="edit3d-export-note")
        with gr.Row():
            files = gr.File(label="All outputs", file_count="multiple", elem_id="edit3d-files")
            model3d = gr.Model3D(label="Lifted object (edited pose)", elem_id="edit3d-model3d", height=300)
            turntable = gr.Image(label="Turntable (yaw ±30°)", type="filepath", interactive=False,
                                 elem_id="edit3d-turntable", height=300)
        with gr.Accordion("Refine with a local diffusion model (optional, slow)", open=False):
            gr.Markdown("Re-renders only the invented pixels and the object's seam with Stable-Diffusion inpainting "
                        "weights from `MODELS_DIR/stable-diffusion-inpainting`. Without them this button explains "
                        "what is missing.")
            with gr.Row():
                steps = gr.Slider(1, 50, 20, step=1, label="Steps")
                seed = gr.Number(0, precision=0, label="Seed", minimum=0, maximum=2**31 - 1)
                strength = gr.Slider(0.05, 1, 0.6, step=0.05, label="Strength")
            refine = gr.Button("Refine", elem_id="edit3d-refine")
            refined = gr.ImageSlider(label="Guide | refined", format="png")
        history = gr.Dataframe(headers=h.HISTORY_COLUMNS, label="Edit history (this session, this photo)",
                               interactive=False, elem_id="edit3d-history")

        motion = [yaw, pitch, roll, tx, ty, tz, scale, mirror]
        scene_in = [fov, thickness, horizon, hints, seg, depth, fill]
        comp = [harmonize, shadow, occlusion, feather]
        common = [photo, sel_state, mask, box, dilate, *motion, *scene_in, *comp]
        outs = [pick, result, depth_img, gmask, status, history]
        # progress and a failure's "Error" overlay go on the result only: on every output they covered the click
        # preview (and the status line) until the next success, so after e.g. Render with nothing selected the
        # object could no longer be clicked
        on_result = dict(show_progress_on=[result])

        exports_out = [files, download, model3d, turntable, export_note, refined]
        reset_out = [pick, sel_state, status, *motion, box, result, depth_img, gmask, history, *exports_out]
        # a new photo (or none) resets pose, selection, every output and every export
        # (a refused upload drew "Error" over every slider, the box and the status line: it goes on the preview)
        photo.change(h.on_upload, [photo], reset_out, api_visibility="private", show_progress_on=[pick],
                     **job("image_open", h.on_upload))  # opens the photo: gated by apps/job_gate.py
        clear.click(h.clear_selection, [photo], [pick, sel_state, status, result, depth_img, gmask, *exports_out],
                    api_visibility="private", **on_result)
        stale = dict(fn=h.clear_exports, inputs=None, outputs=exports_out, api_visibility="private", queue=False)
        pick.select(h.on_click, [photo, sel_state, mode, mask, box, dilate, *motion, *scene_in, *comp],
                    [sel_state, *outs], api_visibility="private", **on_result, **job("edit3d", h.on_click))
        pick.select(**stale)
        render.click(h.edit3d_render, common, outs, api_name="edit3d_render", **on_result,
                     **job("edit3d", h.edit3d_render))
        # sliders: drag release, and typing into their number boxes (.input, newest value wins)
        for s in (yaw, pitch, roll, tx, ty, tz, scale, fov, thickness, horizon, harmonize, shadow, feather, dilate):
            s.input(h.edit3d_render, common, outs, api_visibility="private", trigger_mode="always_last",
                    show_progress="minimal", **on_result, **job("edit3d", h.edit3d_render))
            s.input(**stale)
        for c in (mirror, occlusion, seg, depth, fill):
            c.input(h.edit3d_render, common, outs, api_visibility="private", trigger_mode="always_last", **on_result,
                    **job("edit3d", h.edit3d_render))
            c.input(**stale)
        for t in (sel_state, box, hints):
            t.submit(h.edit3d_render, common, outs, api_visibility="private", **on_result,
                     **job("edit3d", h.edit3d_render))
            t.submit(**stale)
        mask.change(**stale)
        apply_preset.click(h.edit3d_preset, [preset], motion, api_name="edit3d_preset").then(
            h.edit3d_render, common, outs, api_visibility="private", **on_result, **job("edit3d", h.edit3d_render))
        apply_preset.click(**stale)
        hist_in = [photo, sel_state, mask, box, dilate, *comp, *scene_in]
        undo.click(h.undo_click, hist_in, [*motion, sel_state, *outs], api_name="edit3d_undo", **on_result,
                   **job("edit3d", h.undo_click))
        redo.click(h.redo_click, hist_in, [*motion, sel_state, *outs], api_name="edit3d_redo", **on_result,
                   **job("edit3d", h.redo_click))
        undo.click(**stale)
        redo.click(**stale)
        # likewise one panel each for export and refine (a refused export drew "Error" on four panels, a refused
        # refine on the status line)
        export.click(h.edit3d_export, common, [files, download, model3d, turntable, export_note],
                     api_name="edit3d_export", show_progress_on=[files], **job("edit3d", h.edit3d_export))
        refine.click(h.edit3d_refine, [*common, steps, seed, strength], [refined, status], api_name="edit3d_refine",
                     show_progress_on=[refined], **job("edit3d", h.edit3d_refine))
