"""The server side of the browser's image check: a file an image input could not take in the browser gets the
sentence every tab gives a bad image (with a ref id and one log line), and the input keeps what it had.

Two kinds of file never reached the server before. Gradio's gr.Image / gr.ImageEditor refuse a file whose type is
not image/* in the browser, with Gradio's own toast ("Invalid file type: notes.txt. Only image/* allowed.": no
ref, no log line, not our wording); and the image editor silently drops a file it cannot draw on its canvas (text
renamed .png, a truncated PNG, an SVG named .png): the Point-Bench annotator showed nothing at all. `IMAGE_CHECK_JS`
(apps/image_check.js, passed to `launch(js=…)`) sends such a file to the hidden file input that `build()` adds
once per app; `check_upload` opens it with the same code as every image input and says what is wrong. The same
route serves what "Paste from clipboard" or Ctrl+V brings that is not an image (Gradio did nothing at all then).
The webcam source needs no check: it hands over a picture the browser drew itself.
"""
from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import Any

import gradio as gr

from apps.common import _INVISIBLE, error_ref, file_path, job, user_errors
from backend.imageio import ImageInputError, open_image

log = logging.getLogger(__name__)

IMAGE_CHECK_JS = (Path(__file__).with_name("image_check.js")).read_text(encoding="utf-8")
CHECK_CSS = ".image-check { display: none !important; }"


def _shown_name(path: str) -> str:
    """The file name as a toast may show it (a toast renders HTML): controls dropped, escaped, cut."""
    text = " ".join(_INVISIBLE.sub("", Path(path).name).split())
    return html.escape(text[:80] + ("…" if len(text) > 80 else "")) or "The file"


@user_errors
def check_upload(value: Any) -> None:
    """Open the file the browser could not take with the checks every image input uses and say what is wrong,
    in the sentence every tab uses, with a ref id that one log line shares. A warning, not an error: the event
    returns, so the hidden input is emptied for the next file (a failed event leaves it holding this one, and
    Gradio runs no `.then` after a failure). A file that opens here is a real image the browser could not take
    (its name or type says it is something else, or the browser cannot draw its format): the user is told how
    to get it in. Returns None (the hidden input's new value)."""
    path = file_path(value)
    if not path:
        return None
    name = _shown_name(path)
    try:
        open_image(path, name=name)
        msg = (f"“{name}” is an image, but this browser could not take it here (its name or type says otherwise, "
               "or the browser cannot draw its format); save it as PNG or JPEG and upload that.")
    except ImageInputError as exc:
        msg = str(exc)
    ref = error_ref()
    log.info("user error ref=%s in image check: %s", ref, msg[:300])
    gr.Warning(f"{msg} (ref {ref})", title="Image not added")
    return None


def build() -> gr.File:
    """The hidden input the browser script sends refused image files to (once per app, outside the tabs, so it
    is in the page whichever tab is open). Emptied after each check."""
    box = gr.File(label="Image check", elem_id="image-check", elem_classes=["image-check"], file_count="single")
    # private, but any script can start it by fn_index: it opens images, so it is a rate-limited job (job gate)
    box.upload(check_upload, box, box, api_visibility="private", show_progress="hidden", **job("image_open"))
    return box
