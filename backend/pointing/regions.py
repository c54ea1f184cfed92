"""Colour and foreground regions as pointing candidates, for instructions that name a colour or a simple shape.

ImageNet's classifier knows no "orange circle" or "the shape above the marked one"; plain image statistics
do. The background is the commonest border colour; foreground = pixels far from it; a colour word narrows
the mask to that hue (HSV). Each connected component becomes a candidate placed at its most interior pixel
(max of the distance transform), which stays inside stars, rings and other non-convex shapes.
"""
from __future__ import annotations

import re

import numpy as np
from PIL import Image
from scipy import ndimage

from backend.pointing.spatial import Candidate

WORK_SIDE = 320
HUES = {  # degrees on the HSV wheel
    "red": [(345, 360), (0, 12)], "orange": [(12, 40)], "yellow": [(40, 70)], "green": [(70, 165)],
    "cyan": [(165, 200)], "blue": [(200, 255)], "purple": [(255, 300)], "violet": [(255, 300)],
    "pink": [(300, 345)], "magenta": [(290, 330)],
}
NEUTRALS = ("black", "white", "gray", "grey")
SHAPE_WORDS = {"shape", "shapes", "circle", "circles", "square", "squares", "diamond", "diamonds", "star", "stars",
               "triangle", "triangles", "rectangle", "rectangles", "card", "cards", "dot", "dots", "disc", "discs",
               "ball", "balls", "hexagon", "hexagons", "pentagon", "pentagons"}


EXTENT = {  # component area / bounding-box area, per shape word (circle π/4, diamond ½, 5-point star ≈ 0.38)
    "circle": (0.68, 0.88), "disc": (0.68, 0.88), "dot": (0.68, 0.88), "ball": (0.68, 0.88),
    "square": (0.88, 1.01), "rectangle": (0.88, 1.01), "card": (0.85, 1.01),
    "diamond": (0.42, 0.64), "triangle": (0.42, 0.64), "star": (0.15, 0.45),
}


def shape_word(instruction: str) -> str | None:
    for w in re.findall(r"[a-z]+", instruction.lower()):
        w = w[:-1] if w.endswith("s") and w[:-1] in EXTENT else w
        if w in EXTENT:
            return w
    return None


def colour_word(instruction: str) -> str | None:
    words = re.findall(r"[a-z]+", instruction.lower())
    for w in words:
        if w in HUES or w in NEUTRALS:
            return w
    return None


def wants_regions(instruction: str) -> bool:
    words = set(re.findall(r"[a-z]+", instruction.lower()))
    return bool(words & SHAPE_WORDS) or colour_word(instruction) is not None


def _hsv(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    hsv = np.asarray(Image.fromarray(arr).convert("HSV"), dtype=np.float32)
    return hsv[..., 0] * 360 / 255, hsv[..., 1] / 255, hsv[..., 2] / 255


def region_candidates(img: Image.Image, instruction: str, min_frac: float = 0.001) -> list[Candidate]:
    s = min(1.0, WORK_SIDE / max(img.size))
    work_size = (max(1, round(img.width * s)), max(1, round(img.height * s)))
    small = img if s >= 1 else img.resize(work_size, Image.Resampling.BILINEAR)
    arr = np.asarray(small.convert("RGB"))
    h, w = arr.shape[:2]
    border = np.concatenate([arr[0], arr[-1], arr[:, 0], arr[:, -1]]).astype(np.int32)
    q = border // 16
    keys, counts = np.unique(q[:, 0] * 256 + q[:, 1] * 16 + q[:, 2], return_counts=True)
    top = keys[np.argmax(counts)]
    bg = border[(q[:, 0] * 256 + q[:, 1] * 16 + q[:, 2]) == top].mean(axis=0)
    fg = np.abs(arr.astype(np.float32) - bg).sum(axis=2) > 60
    col = colour_word(instruction)
    if col:
        hue, sat, val = _hsv(arr)
        if col in HUES:
            m = np.zeros((h, w), bool)
            for lo, hi in HUES[col]:
                m |= (hue >= lo) & (hue < hi)
            fg &= m & (sat > 0.35) & (val > 0.25)
        elif col == "black":
            fg &= val < 0.2
        elif col == "white":
            fg &= (val > 0.85) & (sat < 0.15)
        else:
            fg &= (sat < 0.15) & (val >= 0.2) & (val <= 0.85)
    fg = ndimage.binary_opening(fg, iterations=1)
    lab, n = ndimage.label(fg)
    if n == 0 or n > 200:  # nothing, or texture rather than objects
        return []
    sizes = ndimage.sum_labels(fg, lab, index=np.arange(1, n + 1))
    dist = ndimage.distance_transform_edt(fg)
    shape = shape_word(instruction)
    out = []
    for i, size in enumerate(sizes, 1):
        if size < min_frac * h * w or size > 0.6 * h * w:
            continue
        if shape is not None:
            sl = ndimage.find_objects((lab == i).astype(np.int32))[0]
            extent = float(size) / ((sl[0].stop - sl[0].start) * (sl[1].stop - sl[1].start))
            e_lo, e_hi = EXTENT[shape]
            if not e_lo <= extent <= e_hi:
                continue
        d = np.where(lab == i, dist, -1)
        yy, xx = np.unravel_index(np.argmax(d), d.shape)
        out.append(Candidate(x=(xx + 0.5) / s, y=(yy + 0.5) / s, score=float(size) / (h * w),
                             area=float(size) / (s * s), label=col or "region"))
    # Equal standing: any listed component is a real object, so scores should not drop small ones.
    for c in out:
        c.score = 1.0
    return out
