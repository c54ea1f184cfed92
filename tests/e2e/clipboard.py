"""Clipboard helpers of the browser tests: a page whose Photo 3D Edit photo input has had text pasted with
gr.Image's "Paste from clipboard" (our sentence answers it), and a paste event carrying a file."""
from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager

_PASTE = """([sel, name, mime, b64]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const dt = new DataTransfer();
  dt.items.add(new File([bytes], name, {type: mime}));
  document.querySelector(sel + ' button').dispatchEvent(
    new ClipboardEvent('paste', {bubbles: true, cancelable: true, clipboardData: dt})); }"""


def paste_file(page, selector: str, name: str, mime: str, data: bytes) -> None:
    """Dispatch a paste of one file (name, type, bytes) on the first button inside `selector`."""
    page.evaluate(_PASTE, [selector, name, mime, base64.b64encode(data).decode()])


@contextmanager
def text_pasted_on_photo_edit(browser, app_url: str) -> Iterator:
    """A desktop page with clipboard permissions, on Photo 3D Edit, after "Paste from clipboard" with a line of
    text on the clipboard; the context is closed afterwards."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_url.rstrip("/"))
    page = ctx.new_page()
    try:
        page.goto(app_url)
        page.get_by_role("tab", name="Photo 3D Edit").click()
        page.evaluate("navigator.clipboard.writeText('a line of text, not a picture')")
        page.locator("#edit3d-photo button[aria-label='Paste from clipboard']").click()
        yield page
    finally:
        ctx.close()
