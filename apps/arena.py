"""Point Battle tab: two anonymous pointing models answer the same instruction on the same image; the judge
votes, then the names are revealed. Handlers only translate UI values; backend.arena.service does the work."""
from __future__ import annotations

import html
import importlib.util
import io
import json
import secrets
from pathlib import Path

import gradio as gr
import numpy as np
from PIL import Image, PngImagePlugin

from apps import a11y
from apps.common import (
    client_ip,
    download_file,
    file_path,
    image_input,
    job,
    load_user_image,
    served_copy,
    session_id,
    signed_in_user,
    user_errors,
)
from backend.arena import bench_images, service
from backend.arena.vocab import CATEGORY_LABELS, VERDICTS
from backend.config import setting
from backend.identity import on_spaces

VOTE_LABELS = {"A": "A is better", "B": "B is better", "tie": "Tie", "bothbad": "Both bad"}
INTRO = ("### Point Battle\nPick an image (a random Point-Bench item, your upload, webcam or an example), say what "
         "to point at, and two **anonymous** pointing models answer. Model A is drawn as an orange circle, model B "
         "as a blue diamond (a green ring is a reference point). Vote for the better pointing; the names appear "
         "after your vote. *Play fair: only blind votes count.*")


def _examples() -> list[list[str]]:
    """One bundled Point-Bench photo item per category (backend.arena.bench_images.EXAMPLE_FILES)."""
    return [[served_copy(i.image_path), i.instruction] for i in bench_images.examples()]


def _example_captions() -> list[str]:
    """The example thumbnails' screen-reader names (apps/a11y.py): their grid cells had none."""
    return [f"Bench photo, {i.category_label}: {i.image_filename}" for i in bench_images.examples()]


def _bench_note(item) -> str:
    note = f"**Category:** {item.category_label} · bench item `{item.image_filename}`"
    if item.ref_point:
        note += (f" · reference point at ({item.ref_point[0]:.0f}, {item.ref_point[1]:.0f}) px, drawn as a green "
                 "ring on both outputs (the models are told its coordinates)")
    return note


@user_errors
def random_bench_image():
    """A random bundled Point-Bench image with its instruction and category."""
    item = bench_images.random_item(np.random.default_rng(secrets.randbits(64)))
    return served_copy(item.image_path), item.instruction, _bench_note(item), item.image_filename


def _reset_buttons(enabled: bool):
    return [gr.update(interactive=enabled) for _ in VOTE_LABELS]


def _badge_md(side: str, text: str) -> str:
    cls = "badge-warn" if text.startswith("⚠") else "badge-ok"
    return f"<span class='{cls}'>Model {side}: {html.escape(text)}</span>"


@user_errors
def new_battle(image, instruction, bench_file=None, request: gr.Request = None,
               progress=gr.Progress()):
    """Start a blind battle: returns battle id, the two annotated images, the overlay and a status line."""
    img = load_user_image(image, "image to point in")
    progress(0.1, desc="Both models are pointing…")
    b = service.start_battle(img, instruction or "", session_id=session_id(request), client_ip=client_ip(request),
                             bench_file=bench_file or None)
    progress(1.0, desc="Done")
    own = (" (your own instruction on a bench image, so not the bench item's category)"
           if bench_file and b["category"] == "upload" else "")
    status = (f"{_badge_md('A', b['badge_a'])} · {_badge_md('B', b['badge_b'])}  \n"
              f"Category: **{CATEGORY_LABELS.get(b['category'], b['category'])}**{own}. "
              "Which model pointed better? (Skip with *New round*.)")
    if b["identical"]:  # never ask people to judge two identical outputs
        status = (f"{_badge_md('A', b['badge_a'])} · {_badge_md('B', b['badge_b'])}  \n"
                  f"**{html.escape(service.IDENTICAL_MESSAGE)}**")
    bid = b["battle_id"]
    return (bid, _battle_png(b["image_a"], bid, "A"), _battle_png(b["image_b"], bid, "B"),
            _battle_png(b["overlay"], bid, "overlay"), status, "", *_reset_buttons(not b["identical"]))


def start_round(image, instruction, bench_file=None, request: gr.Request = None, progress=gr.Progress()):
    """The Start button: like `new_battle`, but a failure clears the previous round and shows ONE message in the
    status line (instead of an error badge on every output over the old reveal)."""
    try:
        return new_battle(image, instruction, bench_file, request, progress)
    except gr.Error as exc:
        msg = f"<span class='badge-warn'>{FAILED_START}: {html.escape(str(exc.message))}</span>"
        return ("", None, None, None, msg, "", *_reset_buttons(False))


FAILED_START = "⚠ Could not start the battle"


def clear_failed_start(status):
    """A new image: the line saying why the previous image could not start a battle ("“empty.png” is empty") no
    longer applies; any other status (a battle in progress) stays."""
    return "" if isinstance(status, str) and FAILED_START in status else gr.skip()


def _battle_png(img, battle_id: str, tag: str) -> str:
    """PNG file unique to this battle. Gradio caches outputs by content hash, so two concurrent battles with
    identical renderings would share (and rewrite) one cached file while it is being served; a text chunk with
    the battle id keeps every battle's files distinct without changing a pixel."""
    if not isinstance(img, Image.Image):
        img = Image.fromarray(np.asarray(img))
    info = PngImagePlugin.PngInfo()
    info.add_text("battle", f"{battle_id}:{tag}")
    buf = io.BytesIO()
    img.save(buf, format="PNG", pnginfo=info)
    return download_file(buf.getvalue(), f"battle-{battle_id[:12]}-{tag}.png")


def _vote_api(battle_id: str, choice: str, request: gr.Request) -> dict:
    return service.vote(battle_id, choice, session_id=session_id(request), username=signed_in_user(request))


@user_errors
def vote(battle_id: str, choice: str, request: gr.Request = None) -> dict:
    """Vote on your battle: choice is A, B, tie or bothbad. Returns the revealed model names."""
    return _vote_api(battle_id, choice, request)


def _reveal_md(r: dict) -> str:
    why = ("only votes from signed-in visitors count here" if r.get("not_counted_because") == "not signed in"
           else "it came faster than the minimum viewing time")
    counted = "" if r["counted"] else f" *(recorded, but {why}, so it does not count)*"
    if r["counted"]:  # the leaderboard is cached; say when it shows this vote (a refresh before showed old counts)
        when = r.get("leaderboard_from")
        counted = (f" Your vote counts: the leaderboard includes it from **{when[11:19]} UTC** (it is recomputed "
                   f"at most every {r['leaderboard_ttl_s']:g} s)." if when else
                   " Your vote counts: the leaderboard includes it from now on.")
    return (f"**Thanks for voting ({VERDICTS[r['winner']]}).**{counted}  \n"
            f"Model A (orange): **{html.escape(r['model_a'])}** — {html.escape(r['label_a'])} "
            f"({(r['latency_a'] or 0):.1f} s)  \n"
            f"Model B (blue): **{html.escape(r['model_b'])}** — {html.escape(r['label_b'])} "
            f"({(r['latency_b'] or 0):.1f} s)")


def _make_vote_handler(choice: str):
    @user_errors
    def handler(battle_id, request: gr.Request):
        r = vote(battle_id, choice, request)
        raw = json.dumps({"A": r["raw_a"], "B": r["raw_b"]}, indent=2, ensure_ascii=False)
        return (_reveal_md(r), gr.update(value=raw, visible=True), *_reset_buttons(False))

    handler.__name__ = f"vote_{choice}"
    return handler


def new_round():
    """Clear the battle (a skip records nothing). The user's image and instruction stay: only the random-image
    button picks a bench item."""
    return ("", None, None, None, "", "", gr.update(value="", visible=False), *_reset_buttons(False))


def _file_name(value) -> str | None:
    if isinstance(value, dict):
        value = value.get("orig_name") or value.get("path")
    return Path(str(value)).name if value else None


def input_changed(image, bench_file):
    """A bench caption belongs to its bench image: a shipped example (a bench item) brings its own, any other
    image (upload, webcam) clears it."""
    if bench_file and _file_name(image) == bench_file:
        return gr.update(), gr.update()
    item = bench_images.match_example(file_path(image))
    return (_bench_note(item), item.image_filename) if item else ("", None)


def _login_button() -> None:
    """Hugging Face sign-in, on a Space with `hf_oauth: true` (which sets OAUTH_CLIENT_ID) and gradio[oauth]
    installed. Off Spaces Gradio's OAuth is a mock that signs everyone in as the developer, so it is never shown."""
    if not (on_spaces() and setting("OAUTH_CLIENT_ID")):
        return
    if not all(importlib.util.find_spec(m) for m in ("authlib", "itsdangerous")):  # gradio[oauth] extras
        return
    gr.LoginButton()


def build() -> None:
    has_bench = bool(bench_images.load_items())
    # bench images (and the examples) are handed out as copies in the shared temp dir (apps.common.served_copy): a
    # static path to the bench folder made Gradio send its install path to every client
    with gr.Tab("Point Battle", id="arena", elem_id="tab-arena"):
        gr.Markdown(INTRO)
        _login_button()
        bench_state = gr.State(None)
        with gr.Row():
            with gr.Column(scale=1):
                image = image_input(label="Image", sources=["upload", "webcam", "clipboard"],
                                 elem_id="arena-image", height=320)
                rand_btn = gr.Button("Random Point-Bench image", elem_id="arena-random", interactive=has_bench)
                category = gr.Markdown("" if has_bench else "*The bundled Point-Bench sample is not installed; "
                                       "upload a photo.*", elem_id="arena-category")
                instruction = gr.Textbox(label="I want to point to…", max_length=300, max_lines=3,
                                         placeholder="e.g. Point to the handle of the mug", elem_id="arena-instruction")
                go = gr.Button("Start battle", variant="primary", elem_id="arena-go")
                if _examples():
                    gr.Examples(_examples(), inputs=[image, instruction],
                                label="Examples (one bench photo per category)",
                                elem_id=a11y.example_names("arena-examples", _example_captions()))
            with gr.Column(scale=2):
                with gr.Row():
                    out_a = gr.Image(label="Model A (orange ●)", format="png", interactive=False, elem_id="arena-a",
                                     height=360)
                    out_b = gr.Image(label="Model B (blue ◆)", format="png", interactive=False, elem_id="arena-b",
                                     height=360)
                status = gr.Markdown(elem_id="arena-status")
                with gr.Row():
                    buttons = {c: gr.Button(lbl, interactive=False, elem_id=f"arena-vote-{c}")
                               for c, lbl in VOTE_LABELS.items()}
                reveal = gr.Markdown(elem_id="arena-reveal")
                raw = gr.Code(label="Raw model outputs (shown only after the vote)", language="json", visible=False,
                              elem_id="arena-raw")
                again = gr.Button("New round (skip)", elem_id="arena-new")
                with gr.Accordion("Both outputs on one image", open=False):
                    overlay = gr.Image(label="Overlay", format="png", interactive=False, elem_id="arena-overlay")
                battle_id = gr.Textbox(label="Battle id", interactive=False, elem_id="arena-battle-id", max_lines=1)
        vote_btns = list(buttons.values())
        rand_btn.click(random_bench_image, outputs=[image, instruction, category, bench_state],
                       api_name="random_bench_image")
        battle_outs = [battle_id, out_a, out_b, overlay, status, reveal, *vote_btns]
        # Enter in the instruction starts the battle too (a keyboard user typed it and Enter did nothing)
        gr.on([go.click, instruction.submit], start_round, inputs=[image, instruction, bench_state],
              outputs=battle_outs, api_visibility="private", **job("battle", start_round)).then(
            lambda: gr.update(visible=False, value=""), outputs=raw, api_visibility="private")
        # The API keeps `new_battle`, which raises its error to the client (the page uses `start_round`).
        api_go = gr.Button("Start battle (API)", visible=False)
        api_go.click(new_battle, inputs=[image, instruction, bench_state], outputs=battle_outs,
                     api_name="new_battle", **job("battle", new_battle))
        image.change(input_changed, inputs=[image, bench_state], outputs=[category, bench_state],
                     api_visibility="private", show_progress="hidden")
        image.change(clear_failed_start, inputs=status, outputs=status, api_visibility="private", queue=False,
                     show_progress="hidden")
        for c, btn in buttons.items():
            btn.click(_make_vote_handler(c), inputs=[battle_id], outputs=[reveal, raw, *vote_btns],
                      api_visibility="private", concurrency_limit=None)
        again.click(new_round, outputs=[battle_id, out_a, out_b, overlay, status, reveal, raw, *vote_btns],
                    api_visibility="private")
        # a vote is one short database write: no queue slot to wait for (SQLite writers queue in Storage.write)
        gr.api(vote, api_name="vote", concurrency_limit=None)
