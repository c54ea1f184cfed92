"""Accessible names the page needs and Gradio does not give, applied in the browser by apps/a11y.js.

gr.Examples shows an image example as a thumbnail with an empty alt inside a button or grid cell, so a screen
reader met "button, button" on the Photo 3D tab (review darkui). A tab registers one caption per example with
`example_names(elem_id, captions)` while it builds; `script()` is the page script that gives each thumbnail its
caption (alt text, and the button's aria-label). Captions are ours (trusted text), passed as JSON. The same script
names every gr.Image picture after its block's label: Gradio draws it as an unnamed button with alt="" (the two
battle outputs were "button, button"), and Gradio's "More tabs" menu (a phone shows one tab of seven) says that it
opens a menu and whether it is open, and closes on Escape.
"""
from __future__ import annotations

import json
from pathlib import Path

_JS = (Path(__file__).with_name("a11y.js")).read_text(encoding="utf-8")
_EXAMPLE_NAMES: dict[str, list[str]] = {}


def example_names(elem_id: str, captions: list[str]) -> str:
    """Register the captions of the gr.Examples block `elem_id` (one per example, in order); returns elem_id."""
    _EXAMPLE_NAMES[elem_id] = [str(c) for c in captions]
    return elem_id


def script() -> str:
    """A no-argument page function (for launch(js=…)) that names every registered block's examples."""
    return f"() => ({_JS.strip()})({json.dumps(_EXAMPLE_NAMES)})"
