"""Exact geometry for the sample bench: shapes as polygons, drawn identically on the image and the mask.

Every shape is reduced to polygons/ellipses so the mask is the very set of pixels the scene painted
(no anti-aliasing on either side), which is what makes the procedural items' masks exact.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

COLOURS = {
    "red": (214, 39, 40), "blue": (31, 119, 180), "green": (44, 160, 44), "yellow": (240, 200, 20),
    "purple": (148, 103, 189), "orange": (255, 127, 14),
}
KINDS = ("circle", "square", "triangle", "star", "diamond", "hexagon")
CORNERS = {"triangle": 3, "square": 4, "pentagon": 5, "hexagon": 6, "octagon": 8}


def regular_polygon(cx: float, cy: float, r: float, n: int, rot: float = -math.pi / 2) -> list[tuple]:
    return [(cx + r * math.cos(rot + 2 * math.pi * i / n), cy + r * math.sin(rot + 2 * math.pi * i / n))
            for i in range(n)]


def star(cx: float, cy: float, r: float, n: int = 5) -> list[tuple]:
    pts = []
    for i in range(2 * n):
        rr = r if i % 2 == 0 else r * 0.45
        a = -math.pi / 2 + math.pi * i / n
        pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
    return pts


def kind_shape(kind: str, cx: float, cy: float, r: float) -> tuple:
    """One geometric primitive ("ellipse"/"poly") for a named kind, centred at (cx, cy) with radius r."""
    if kind == "circle":
        return ("ellipse", cx, cy, r, r)
    if kind == "square":
        return ("poly", regular_polygon(cx, cy, r * 1.15, 4, rot=math.pi / 4))
    if kind == "diamond":
        return ("poly", regular_polygon(cx, cy, r * 1.1, 4, rot=0.0))
    if kind == "star":
        return ("poly", star(cx, cy, r * 1.2))
    if kind in CORNERS:
        return ("poly", regular_polygon(cx, cy, r * 1.1, CORNERS[kind]))
    raise ValueError(f"unknown shape kind {kind!r}")


def draw_shape(draw: ImageDraw.ImageDraw, shape: tuple, fill, outline=None) -> None:
    kind = shape[0]
    if kind == "ellipse":
        _, cx, cy, rx, ry = shape
        draw.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], fill=fill, outline=outline)
    elif kind == "rect":
        _, x0, y0, x1, y1 = shape
        draw.rectangle([x0, y0, x1, y1], fill=fill, outline=outline)
    elif kind == "poly":
        draw.polygon([tuple(p) for p in shape[1]], fill=fill, outline=outline)
    else:
        raise ValueError(f"unknown primitive {kind!r}")


def scale_shape(shape: tuple, s: float) -> tuple:
    if shape[0] == "poly":
        return ("poly", [(x * s, y * s) for x, y in shape[1]])
    return (shape[0],) + tuple(v * s for v in shape[1:])


def render_mask(size: tuple[int, int], shapes: list[tuple], minus: Sequence[tuple] = ()) -> Image.Image:
    """Binary L-mode mask (0/255): union of `shapes` minus `minus`."""
    mask = Image.new("L", size, 0)
    d = ImageDraw.Draw(mask)
    for s in shapes:
        draw_shape(d, s, 255)
    for s in minus:
        draw_shape(d, s, 0)
    return mask


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled font: the same glyphs on every machine, so renders are reproducible."""
    return ImageFont.load_default(size=size)


def centred_text(draw: ImageDraw.ImageDraw, cx: float, cy: float, text: str, size: int, fill) -> None:
    f = font(size)
    x0, y0, x1, y1 = draw.textbbox((0, 0), text, font=f)
    draw.text((cx - (x1 - x0) / 2 - x0, cy - (y1 - y0) / 2 - y0), text, font=f, fill=fill)


def place_centres(rng: np.random.Generator, n: int, size: tuple[int, int], r: float, margin: float = 8,
                  tries: int = 4000) -> list[tuple[float, float]]:
    """n non-overlapping centres for shapes of radius r (rejection sampling, seeded)."""
    w, h = size
    out: list[tuple[float, float]] = []
    for _ in range(tries):
        if len(out) == n:
            break
        x = float(rng.uniform(r + margin, w - r - margin))
        y = float(rng.uniform(r + margin, h - r - margin))
        if all(math.hypot(x - a, y - b) > 2 * r * 1.35 + margin for a, b in out):
            out.append((round(x, 1), round(y, 1)))
    if len(out) < n:
        raise RuntimeError(f"could not place {n} shapes of radius {r} in {size}")
    return out


def background(rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    base = np.array([236, 232, 222]) + rng.integers(-12, 12, size=3)
    return Image.new("RGB", size, tuple(int(v) for v in np.clip(base, 0, 255)))
