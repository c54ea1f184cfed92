"""Overlays for Point-Bench results: the photo, the target mask tinted, and the model's kept points.

PointArena drew points on the bare mask; showing the photo under a translucent mask makes a failure
readable at a glance (green mask = target, point ring green on success and red on failure, blue dot =
steerable reference point).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

TARGET = np.array([0, 200, 120], dtype=np.uint16)


def render_overlay(img: Image.Image, mask: np.ndarray, points, success: bool | None,
                   ref_point=None) -> Image.Image:
    base = np.asarray(img.convert("RGB"), dtype=np.uint16) * 4 // 5  # integer maths: overlays are many
    base[mask] = (base[mask] * 9 + TARGET * 11) // 20
    out = Image.fromarray(base.astype(np.uint8))
    d = ImageDraw.Draw(out)
    r = max(6, min(out.size) // 60)
    colour = (40, 220, 40) if success else (235, 40, 40) if success is not None else (250, 210, 20)
    if ref_point is not None:
        x, y = ref_point
        d.ellipse([x - r * 0.7, y - r * 0.7, x + r * 0.7, y + r * 0.7], fill=(40, 90, 255), outline="white")
    for i, (x, y) in enumerate(points or []):
        d.ellipse([x - r, y - r, x + r, y + r], outline=colour, width=3)
        d.line([x - r, y, x + r, y], fill="white", width=1)
        d.line([x, y - r, x, y + r], fill="white", width=1)
        if len(points) > 1:
            d.text((x + r + 2, y - r), str(i + 1), fill="white")
    return out


def save_overlay(item, img: Image.Image, mask: np.ndarray, points, success: bool, out_dir: Path) -> str:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{Path(item.image_filename).stem}_overlay.png"
    render_overlay(img, mask, points, success, item.ref_point).save(path, compress_level=1)
    return str(path)
