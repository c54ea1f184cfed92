"""Pictures of anomaly maps in ABSOLUTE units.

The official MetaUAS demo colours every map by its own min–max, so a defect-free part still shows a
hot spot. Here the colour scale is fixed (0 → 1 of the engine's score) unless the caller asks for
per-image normalisation, and every heatmap can carry a colour bar that states its range. Predicted
masks are drawn as red contours and ground truth as white ones (anomalib's convention).
"""
from __future__ import annotations

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

CMAP = cv2.COLORMAP_JET
PRED_COLOUR = (255, 40, 40)
GT_COLOUR = (255, 255, 255)
BOX_COLOUR = (255, 230, 0)


def _font(size: int = 12):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # very old Pillow
        return ImageFont.load_default()


def value_range(amap: np.ndarray, normalise: bool, vmax: float = 1.0) -> tuple[float, float]:
    """The (lo, hi) the colours stand for: fixed [0, vmax] (absolute), or the map's own min–max when asked."""
    if not normalise:
        return 0.0, max(float(vmax), 1e-6)
    lo, hi = float(np.nanmin(amap)), float(np.nanmax(amap))
    return (lo, hi) if hi - lo > 1e-6 else (lo, lo + 1e-6)


def colorize(amap: np.ndarray, normalise: bool = False, vmax: float = 1.0) -> np.ndarray:
    """Map → RGB uint8 with a fixed (absolute) scale by default."""
    lo, hi = value_range(amap, normalise, vmax)
    v = np.clip((np.nan_to_num(amap.astype(np.float32)) - lo) / (hi - lo), 0.0, 1.0)
    bgr = cv2.applyColorMap((v * 255).astype(np.uint8), CMAP)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def colour_bar(height: int, lo: float = 0.0, hi: float = 1.0, width: int = 64, ticks: int = 5,
               title: str = "score") -> np.ndarray:
    """A vertical colour bar labelled with the values it stands for (so the units are visible)."""
    height = max(int(height), 80)
    pad = 10
    strip_h = height - 2 * pad
    grad = np.linspace(1.0, 0.0, strip_h, dtype=np.float32)[:, None].repeat(14, axis=1)
    strip = cv2.cvtColor(cv2.applyColorMap((grad * 255).astype(np.uint8), CMAP), cv2.COLOR_BGR2RGB)
    img = Image.new("RGB", (width, height), (255, 255, 255))
    img.paste(Image.fromarray(strip), (4, pad))
    draw = ImageDraw.Draw(img)
    font = _font(11)
    for i in range(ticks):
        frac = i / (ticks - 1)
        y = pad + int(round((1 - frac) * (strip_h - 1)))
        draw.line([(18, y), (22, y)], fill=(0, 0, 0))
        draw.text((24, y - 6), f"{lo + frac * (hi - lo):.2f}", fill=(0, 0, 0), font=font)
    draw.text((2, 0), title, fill=(60, 60, 60), font=_font(9))
    return np.asarray(img)


def heatmap_with_bar(amap: np.ndarray, normalise: bool = False, vmax: float = 1.0) -> np.ndarray:
    """The raw heatmap with its colour bar on the right."""
    heat = colorize(amap, normalise, vmax)
    lo, hi = value_range(amap, normalise, vmax)
    bar = colour_bar(heat.shape[0], lo, hi, title="per-image" if normalise else "absolute")
    return np.concatenate([heat, bar[: heat.shape[0]]], axis=1)


def _contours(mask: np.ndarray) -> list:
    cs, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return list(cs)


def overlay(query: np.ndarray, amap: np.ndarray, mask: np.ndarray | None = None, regions: list | None = None,
            gt_mask: np.ndarray | None = None, alpha: float = 0.45, normalise: bool = False,
            vmax: float = 1.0) -> np.ndarray:
    """Query blended with the heatmap; predicted mask in red contours, GT in white, regions as numbered boxes."""
    q = np.asarray(query, dtype=np.uint8)
    heat = colorize(amap, normalise, vmax)
    out = cv2.addWeighted(q, 1.0 - alpha, heat, alpha, 0.0)
    thick = max(1, round(max(q.shape[:2]) / 300))
    if gt_mask is not None and gt_mask.any():
        cv2.drawContours(out, _contours(gt_mask), -1, GT_COLOUR, thick)
    if mask is not None and mask.any():
        cv2.drawContours(out, _contours(mask), -1, PRED_COLOUR, thick)
    if regions:
        img = Image.fromarray(out)
        draw = ImageDraw.Draw(img)
        font = _font(max(10, thick * 6))
        for i, r in enumerate(regions, 1):
            draw.rectangle([r.x0, r.y0, r.x1, r.y1], outline=BOX_COLOUR, width=thick)
            draw.text((r.x0 + 2, max(0, r.y0 - 12 * thick)), f"#{i} {r.peak:.2f}", fill=BOX_COLOUR, font=font)
        out = np.asarray(img)
    return out


def mask_png(mask: np.ndarray) -> np.ndarray:
    """Binary mask as an 8-bit image: 255 = anomalous (the MVTec ground-truth convention)."""
    return (mask.astype(bool) * 255).astype(np.uint8)


def _fit_height(img: np.ndarray, h: int) -> np.ndarray:
    if img.shape[0] == h:
        return img
    w = max(1, round(img.shape[1] * h / img.shape[0]))
    return np.asarray(Image.fromarray(img).resize((w, h), Image.Resampling.BILINEAR))


def side_by_side(panels: list[tuple[str, np.ndarray]], height: int = 256) -> np.ndarray:
    """Panels (caption, RGB image) in one row at a common height, captions above (prompt | query | map)."""
    cap_h, gap = 18, 6
    fitted = [(c, _fit_height(np.asarray(p if p.ndim == 3 else np.stack([p] * 3, -1), dtype=np.uint8), height))
              for c, p in panels]
    width = sum(p.shape[1] for _, p in fitted) + gap * (len(fitted) - 1)
    canvas = Image.new("RGB", (width, height + cap_h), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    font = _font(12)
    x = 0
    for caption, p in fitted:
        canvas.paste(Image.fromarray(p), (x, cap_h))
        draw.text((x + 2, 2), caption, fill=(0, 0, 0), font=font)
        x += p.shape[1] + gap
    return np.asarray(canvas)
