"""The SVG Studio preview sheet (backend.svg.studio.preview_sheet): every size at its native pixels, light beside
dark, and narrow enough that a phone still shows the 256-px preview large."""
from __future__ import annotations

import numpy as np
from PIL import ImageColor

from backend.svg import service, studio

# a square that fills its whole viewBox in the preview's foreground colour: each preview is an s x s block
FULL = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">'
        '<rect width="24" height="24" fill="currentColor"/></svg>')
PHONE_PANEL_PX = 326  # the preview panel's width on a 390x844 phone (the app's 32-px side margins)


def test_every_size_sits_at_native_pixels_on_its_own_background():
    sheet = np.asarray(studio.preview_sheet(FULL))
    (w, h), boxes = studio.preview_layout()
    assert sheet.shape == (h, w, 3)
    assert {s for _, s in boxes} == set(service.PREVIEW_SIZES)
    for col, (theme, fg, bg) in enumerate(studio.PREVIEW_THEMES):
        fg_rgb, bg_rgb = np.array(ImageColor.getrgb(fg)), np.array(ImageColor.getrgb(bg))
        half = sheet[:, col * w // 2:(col + 1) * w // 2]
        assert (half == fg_rgb).all(axis=2).sum() == sum(s * s for s in service.PREVIEW_SIZES), theme
        assert (half == bg_rgb).all(axis=2).sum() == half.shape[0] * half.shape[1] - sum(
            s * s for s in service.PREVIEW_SIZES), theme  # nothing else on the half: the rest is its background
        for s in service.PREVIEW_SIZES:
            x, y = boxes[theme, s]
            assert col * w // 2 <= x and x + s <= (col + 1) * w // 2 and 0 <= y and y + s <= h, (theme, s)
            assert (sheet[y:y + s, x:x + s] == fg_rgb).all(), (theme, s)  # the whole s x s block, at 1:1


def test_sheet_is_narrow_so_a_phone_shows_the_256px_preview_large():
    """Issue 18 at 390x844: the old 896x280 strip was scaled to ~0.36, so the "256-px" preview showed under 100 px.
    Light and dark 256-px previews now sit side by side under the small sizes."""
    w, h = studio.preview_sheet(FULL).size
    assert 256 * PHONE_PANEL_PX / w >= 150, w
    assert h <= 360, h  # still fits its panel whole at 1280x800 below the gallery
    assert studio.preview_layout()[0] == (w, h)
    boxes = studio.preview_layout()[1]
    light, dark = boxes["light", 256], boxes["dark", 256]
    assert light[1] == dark[1] and light[0] < dark[0]  # light beside dark, at the same height
    assert all(y + s <= light[1] for (_, s), (_, y) in boxes.items() if s < 256)  # small sizes above them
