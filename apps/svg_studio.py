"""SVG Studio tab: prompt + style → icon candidates, previews, clean downloads, icon sets, edits, votes.

Layout and wiring only; handlers live in apps/svg_studio_handlers.py. Public endpoints (gradio_client):
svg_generate, svg_candidates, svg_style_card, svg_edit, svg_icon_set, svg_compare, svg_vote,
svg_leaderboard, svg_history; the style library accordion (apps/svg_studio_library.py) adds svg_learn_style and
svg_library_styles. SVG is shown as rendered PNG and as text in a code view, never as HTML.
"""
from __future__ import annotations

import gradio as gr

from apps import svg_studio_handlers as h
from apps import svg_studio_library
from apps.common import file_input, job
from backend.svg.style import GRID_MAX, GRID_MIN, max_padding, max_weight

INTRO = """### SVG Studio — icons in a consistent style
Type what the icon should show, pick a style (an installed icon set/variant, 1–16 exemplar SVGs of your own, or an
edited style card) and get candidates as clean SVG (viewBox, fixed precision, no raster inside). Each candidate
shows the **nearest corpus icon and its similarity** (a copying check) and its licence. Icon-set mode lays out a
list of concepts in one style with a consistency score. Icons come from permissively licensed sets (see
`static/svg/CORPUS.md`)."""

# Gallery layout (appended to the app's css by app.py). Gradio keeps an auto-height gallery at least 450 px tall
# (320 px below 1280 px): one row of tiles sat over ~250 px of blank panel that pushed the previews below the fold.
# Captions wrap onto two lines instead of being cut ("1. IoU 0.87 · c…" on a phone). Phones get two columns (four
# 100-px minimum columns ran off a 390-px screen). The preview sheet starts below the image toolbar, which covered
# the top of the dark 256-px preview on a phone. Below 576 px the sheet is not scaled to the panel (0.6x on a 390-px
# phone: the 16-px preview drew at ~10 px) but shown at native pixels, scrolling sideways inside its frame (left-aligned:
# a centred overflow could not be scrolled to its left edge).
CSS = """
#svg-gallery .grid-wrap.fixed-height { min-height: 0; }
#svg-gallery .caption-label { white-space: normal; overflow-wrap: anywhere; line-height: 1.2; display: -webkit-box;
  -webkit-box-orient: vertical; -webkit-line-clamp: 2; max-width: calc(100% - 2 * var(--block-label-margin)); }
@media (max-width: 575px) { #svg-gallery .grid-container { --grid-cols: 2 !important; } }
#svg-previews .image-container { padding-top: 40px; }
@media (max-width: 575px) {
  #svg-previews .image-frame { width: 100%; overflow-x: auto; overflow-y: hidden; justify-content: flex-start; }
  #svg-previews .image-frame img { max-width: none !important; width: auto !important; height: auto !important; }
}
"""


def build() -> None:
    engine_ch, engine_default, engine_note = h.engine_choices()
    style_names, corpus_note = h.styles()
    with gr.Tab("SVG Studio", id="svg", elem_id="tab-svg") as tab:
        gr.Markdown(INTRO + (f"\n\n{corpus_note}" if corpus_note else ""))
        state = gr.State(None)
        set_state = gr.State(None)
        cmp_state = gr.State(None)
        with gr.Row():
            with gr.Column(scale=1, min_width=320):
                prompt = gr.Textbox(label="Prompt", placeholder="e.g. bell", elem_id="svg-prompt", max_length=200)
                source = gr.Radio(h.SOURCES, value=h.SOURCES[0], label="Style source", elem_id="svg-source")
                style = gr.Dropdown(style_names, value="phosphor/bold" if "phosphor/bold" in style_names else None,
                                    label="Installed style (set/variant, or library:<id> for the learned engine)",
                                    elem_id="svg-style", allow_custom_value=True)
                files = file_input([".svg", ".png", ".jpg", ".jpeg"],
                                   label="Exemplar SVGs (1–16; PNG/JPG are traced with vtracer)",
                                   file_count="multiple", type="filepath", elem_id="svg-exemplars")
                with gr.Accordion("Style card (editable; used when the source is 'Edited style card')", open=False):
                    card_btn = gr.Button("Extract card from the chosen set or exemplars", size="sm",
                                         elem_id="svg-card-extract")
                    with gr.Row():
                        c_mode = gr.Dropdown(h.MODES, value="outline", label="Mode")
                        # limits from backend.svg.style (line weight and padding scale with the grid: c_grid.change)
                        c_width = gr.Number(value=2.0, label="Line weight (grid units)", minimum=0,
                                            maximum=max_weight(24), info=h.weight_info(24, max_weight(24)), elem_id="svg-card-width")
                    with gr.Row():
                        c_cap = gr.Dropdown(h.CAPS, value="round", label="Caps")
                        c_join = gr.Dropdown(h.JOINS, value="round", label="Joins")
                    with gr.Row():
                        c_pad = gr.Number(value=2.0, label="Padding (grid units)", minimum=0,
                                          maximum=max_padding(24), info=h.padding_info(24, max_padding(24)), elem_id="svg-card-padding")
                        c_grid = gr.Number(value=24, label="Grid (viewBox size)", minimum=GRID_MIN, maximum=GRID_MAX,
                                           info=f"{GRID_MIN:g} to {GRID_MAX:g}", elem_id="svg-card-grid")
                    c_palette = gr.Textbox(value="currentColor", label="Palette (#rrggbb or currentColor, comma-separated)")
                    card_md = gr.Markdown(elem_id="svg-card-summary")
                    card_json = gr.Code(language="json", label="Card (JSON)", interactive=False, max_lines=12,
                                        elem_id="svg-card-json")  # 130 lines of identity rows pushed Generate off
                engine = gr.Dropdown(engine_ch, value=engine_default, label="Engine", elem_id="svg-engine",
                                     info=engine_note or None)
                with gr.Row():
                    n = gr.Slider(1, 16, value=4, step=1, label="Candidates")
                    seed = gr.Number(value=0, precision=0, label="Seed", elem_id="svg-seed", minimum=0, maximum=2**31 - 1)
                run = gr.Button("Generate", variant="primary", elem_id="svg-generate")
            with gr.Column(scale=2):
                summary = gr.Markdown(elem_id="svg-summary")
                gr.Markdown("Candidates (click one for details)", elem_id="svg-gallery-caption")
                gallery = gr.Gallery(label="Candidates (click one for details)", columns=4, height="auto",
                                     format="png", elem_id="svg-gallery", allow_preview=False, object_fit="contain",
                                     show_label=False)  # the label badge covered the first tiles' tops
                pick = gr.Number(value=0, precision=0, label="Selected candidate (0-based)", visible=False)
                gr.Markdown("Previews at native size: 16 / 24 / 32 / 48 / 256 px on light and dark (on a narrow "
                            "screen the sheet scrolls sideways)", elem_id="svg-previews-caption")
                sheet = gr.Image(label="Previews: 16 / 24 / 32 / 48 / 256 px on light and dark", format="png",
                                 interactive=False, elem_id="svg-previews", height="auto",
                                 buttons=["fullscreen", "download"],  # no "share" (Hugging Face Spaces only)
                                 show_label=False)  # the label badge covered the top of the 256-px preview
                info = gr.Markdown(elem_id="svg-info")
                with gr.Row():
                    dl_svg = gr.DownloadButton("Download SVG", elem_id="svg-download-svg")
                    dl_png = gr.DownloadButton("Download PNG (512 px)", elem_id="svg-download-png")
                code = gr.Code(language="html", label="SVG code (text; use the copy button)", interactive=False,
                               elem_id="svg-code")
                with gr.Accordion("Vector post-edits (no regeneration)", open=False):
                    with gr.Row():
                        # 0 = keep: Gradio 6.31 shows and sends 0 for an empty Number, so a minimum above 0 refused the
                        # untouched field ("Line weight takes a number ≥ 0.01") and no post-edit could be applied
                        e_width = gr.Number(value=0, label="Line weight (grid units of this icon; 0 = keep)", minimum=0,
                                            maximum=max_weight(24), info=h.edit_weight_info(24),
                                            elem_id="svg-edit-width")
                        e_mode = gr.Dropdown(h.EDIT_MODES, value="keep", label="Outline ↔ fill")
                    with gr.Row():
                        e_cap = gr.Dropdown(h.CAPS, value="round", label="Caps")
                        e_join = gr.Dropdown(h.JOINS, value="round", label="Joins")
                        e_palette = gr.Textbox(value="", label="Palette (empty = keep)")
                    e_btn = gr.Button("Apply edits to the selected candidate", elem_id="svg-edit")
        svg_studio_library.build(style, source, engine)
        with gr.Accordion("Icon-set mode: many concepts, one style", open=False):
            concepts = gr.Textbox(lines=4, label="Concepts (one per line or comma-separated, ≤ 24)",
                                  placeholder="home\nsearch\nbell\nsettings", elem_id="svg-concepts")
            set_btn = gr.Button("Make icon set", elem_id="svg-make-set")
            set_md = gr.Markdown(elem_id="svg-set-summary")
            set_gallery = gr.Gallery(label="Icon set", columns=6, height="auto", format="png",
                                     elem_id="svg-set-gallery", object_fit="contain")
            set_zip = gr.DownloadButton("Download set (.zip: SVG + PNG + manifest + attribution)", elem_id="svg-set-zip")
        with gr.Accordion("Compare two engines (blind vote)", open=False):
            with gr.Row():
                eng_a = gr.Dropdown(engine_ch, value=engine_default, label="One engine",
                                    info="the two are shown as A and B in a random order")
                eng_b = gr.Dropdown(engine_ch, value=(engine_ch[1][1] if len(engine_ch) > 1 else engine_default),
                                    label="The other engine")
            cmp_btn = gr.Button("Compare", elem_id="svg-compare")
            with gr.Row():
                img_a = gr.Image(label="A", format="png", interactive=False)
                img_b = gr.Image(label="B", format="png", interactive=False)
            with gr.Row():
                va = gr.Button("A is better")
                vb = gr.Button("B is better")
                vt = gr.Button("Tie")
                vn = gr.Button("Both bad")
            vote_md = gr.Markdown()
            lb = gr.Dataframe(label="SVG engine ratings (Bradley–Terry, arena rating code; blind votes only)",
                              interactive=False)
            lb_note = gr.Markdown(elem_id="svg-ratings-note")
            lb_btn = gr.Button("Refresh ratings", size="sm")
        with gr.Accordion("My recent generations", open=False):
            hist = gr.Dataframe(interactive=False, elem_id="svg-history")
            hist_btn = gr.Button("Refresh", size="sm")

        card_fields = [c_mode, c_width, c_cap, c_join, c_pad, c_grid, c_palette]
        style_in = [source, style, files, *card_fields]
        detail_out = [sheet, code, info, dl_svg, dl_png]
        gen_out = [state, gallery, summary, *detail_out, pick]
        # progress and a failure's "Error" go on the gallery only (an empty prompt put "Error" over the gallery, the
        # previews, the code and the summary line, after the toast had said why)
        on_gallery = dict(show_progress_on=[gallery])
        # the post-edit line weight's maximum follows the shown candidate's grid (a private step after each)
        limits = dict(fn=h.edit_weight_limits, inputs=[state, pick], outputs=e_width, api_visibility="private",
                      queue=False)
        run.click(h.generate, [prompt, *style_in, engine, n, seed], gen_out, api_name="svg_generate", **on_gallery,
                  **job("svg", h.generate)).success(**limits)
        prompt.submit(h.generate, [prompt, *style_in, engine, n, seed], gen_out, api_visibility="private",
                      **on_gallery, **job("svg", h.generate)).success(**limits)
        gallery.select(h.select_candidate, [state], [*detail_out, pick], api_visibility="private").success(**limits)
        gr.api(h.candidates_api, api_name="svg_candidates")
        c_grid.change(h.card_limits, c_grid, [c_width, c_pad], api_visibility="private", queue=False,
                      preprocess=False)  # raw value: a half-typed grid must not raise Gradio's range toast
        card_btn.click(h.style_card, [source, style, files], [*card_fields, card_md, card_json],
                       api_name="svg_style_card", show_progress_on=[card_md],  # a failure must not cover the fields
                       **job("svg", h.style_card))
        e_btn.click(h.edit, [state, pick, e_width, e_cap, e_join, e_mode, e_palette], [state, gallery, *detail_out],
                    api_name="svg_edit", **on_gallery, **job("svg", h.edit))
        set_btn.click(h.icon_set, [concepts, *style_in, engine, seed], [set_state, set_gallery, set_md, set_zip],
                      api_name="svg_icon_set", show_progress_on=[set_gallery], **job("svg", h.icon_set))
        cmp_btn.click(h.compare, [prompt, *style_in, eng_a, eng_b, seed], [cmp_state, img_a, img_b, vote_md],
                      api_name="svg_compare", **job("svg", h.compare))
        for btn, winner in ((va, "model_a"), (vb, "model_b"), (vt, "tie"), (vn, "tie (bothbad)")):
            btn.click(h.vote, [cmp_state, gr.State(winner)], vote_md, api_visibility="private")
        gr.api(h.vote_api, api_name="svg_vote")
        lb_btn.click(h.leaderboard, None, [lb, lb_note], api_name="svg_leaderboard")
        hist_btn.click(h.history, None, hist, api_name="svg_history")
        tab.select(h.history, None, hist, api_visibility="private")
