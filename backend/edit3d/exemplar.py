"""Exemplar-based inpainting for large holes (Criminisi, Pérez, Toyama 2004).

Smooth fills (Telea, Navier-Stokes) are right for thin cracks but turn a large hole into a blur.
Exemplar fill copies whole patches from the known image instead, in an order that propagates
structure first: the fill front pixel with the highest priority P = C·D (C: how much of its
patch is already known/confident, D: how strongly an image edge (isophote) flows into the hole
there) is filled next, from the known patch with the least masked SSD (OpenCV's
masked SSD computed with two `matchTemplate(TM_CCORR)` calls, searched in a window around the hole).

Why not a library: OpenCV's exemplar/shift-map inpainting lives in opencv-contrib (`xphoto`),
which cannot be installed beside `opencv-python` (needed by rapidocr) without one build silently
replacing the other. The search itself is OpenCV's; the ordering loop is ~60 lines here.
Large images are filled at ≤ `work_side` px and the fill is upsampled into the hole.
"""
from __future__ import annotations

import cv2
import numpy as np


def exemplar_fill(rgb: np.ndarray, hole: np.ndarray, patch: int = 9, work_side: int = 384,
                  max_iters: int = 20000) -> np.ndarray:
    """Fill `hole` (H×W bool) of `rgb` (H×W×3 uint8); pixels outside the hole are returned unchanged."""
    hole = hole.astype(bool)
    if not hole.any():
        return rgb.copy()
    H, W = hole.shape
    s = min(1.0, work_side / max(H, W))
    if s < 1.0:
        w, h = max(8, int(round(W * s))), max(8, int(round(H * s)))
        small = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)
        sh = cv2.resize(hole.astype(np.uint8), (w, h), interpolation=cv2.INTER_AREA) > 0
        filled = _fill(small, sh, patch, max_iters)
        up = cv2.resize(filled, (W, H), interpolation=cv2.INTER_CUBIC)
        out = rgb.copy()
        out[hole] = up[hole]
        return out
    return _fill(rgb, hole, patch, max_iters)


def _fill(rgb: np.ndarray, hole: np.ndarray, patch: int, max_iters: int) -> np.ndarray:
    H, W = hole.shape
    r = patch // 2
    known = ~hole
    if not known.any():
        return rgb[..., :3].copy()
    square = np.ones((patch, patch), np.uint8)
    src_full = cv2.erode(known.astype(np.uint8), square, borderType=cv2.BORDER_CONSTANT, borderValue=0).astype(bool)
    if not src_full.any():  # no fully known patch anywhere: smooth fill is all we can do
        return cv2.inpaint(np.ascontiguousarray(rgb[..., :3]), hole.astype(np.uint8), 5, cv2.INPAINT_TELEA)
    # work inside a window: the hole's box grown by a margin (far patches rarely match better)
    ys, xs = np.nonzero(hole)
    m = max(3 * patch, int(0.75 * max(ys.max() - ys.min(), xs.max() - xs.min())))
    y0, y1, x0, x1 = max(0, ys.min() - m), min(H, ys.max() + m + 1), max(0, xs.min() - m), min(W, xs.max() + m + 1)
    if not src_full[y0:y1, x0:x1].any():
        y0, y1, x0, x1 = 0, H, 0, W
    img = rgb[y0:y1, x0:x1, :3].astype(np.float32)
    todo = hole[y0:y1, x0:x1].copy()
    src_ok = src_full[y0:y1, x0:x1]
    conf = (~todo).astype(np.float32)
    img_sq = img ** 2
    h, w = todo.shape
    kernel = np.ones((3, 3), np.uint8)
    for _ in range(max_iters):
        if not todo.any():
            break
        front = todo & cv2.dilate((~todo).astype(np.uint8), kernel).astype(bool)
        fy, fx = np.nonzero(front)
        c = cv2.boxFilter(conf, -1, (patch, patch), normalize=True, borderType=cv2.BORDER_CONSTANT)[fy, fx]
        gray = cv2.cvtColor(np.clip(img, 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY).astype(np.float32)
        near_hole = cv2.dilate(todo.astype(np.uint8), kernel).astype(bool)
        gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
        gx[near_hole], gy[near_hole] = 0, 0  # gradients across the hole's edge are not image edges
        # isophote at the front: the strongest known gradient in the 3×3 neighbourhood
        mag = np.hypot(gx, gy)
        nb = cv2.dilate(mag, kernel)
        pick = (mag == nb)
        gxs = cv2.dilate(np.where(pick, gx, -1e9).astype(np.float32), kernel)
        gys = cv2.dilate(np.where(pick, gy, -1e9).astype(np.float32), kernel)
        gxs = np.where(gxs < -1e8, 0, gxs)[fy, fx]
        gys = np.where(gys < -1e8, 0, gys)[fy, fx]
        nm = cv2.GaussianBlur(todo.astype(np.float32), (5, 5), 1.0)
        nx = cv2.Sobel(nm, cv2.CV_32F, 1, 0, ksize=3)[fy, fx]
        ny = cv2.Sobel(nm, cv2.CV_32F, 0, 1, ksize=3)[fy, fx]
        nn = np.hypot(nx, ny) + 1e-6
        d = np.abs(-gys * nx / nn + gxs * ny / nn) / 255.0 + 1e-3  # |isophote · normal|
        k = int(np.argmax(c * d))
        py, px = int(fy[k]), int(fx[k])
        ty0, ty1, tx0, tx1 = max(0, py - r), min(h, py + r + 1), max(0, px - r), min(w, px + r + 1)
        tmpl = np.ascontiguousarray(img[ty0:ty1, tx0:tx1])
        tmask = np.repeat((~todo[ty0:ty1, tx0:tx1]).astype(np.float32)[..., None], 3, 2)
        # masked SSD Σm(I−T)² = Σm·I² − 2Σm·T·I + Σm·T², as two unmasked correlations (much faster
        # than matchTemplate's masked mode)
        res = cv2.matchTemplate(img_sq, tmask, cv2.TM_CCORR) - 2 * cv2.matchTemplate(img, tmpl * tmask, cv2.TM_CCORR)
        # result (by, bx) = template top-left; its centre pixel sits at (by + oy, bx + ox)
        oy, ox = py - ty0, px - tx0
        grid = src_ok[oy:oy + res.shape[0], ox:ox + res.shape[1]]
        res = np.where(grid & np.isfinite(res), res, np.inf)
        sub = todo[ty0:ty1, tx0:tx1].copy()
        if np.isfinite(res).any():
            by, bx = np.unravel_index(int(np.argmin(res)), res.shape)
            src = img[by:by + ty1 - ty0, bx:bx + tx1 - tx0]
            img[ty0:ty1, tx0:tx1][sub] = src[sub]
            img_sq[ty0:ty1, tx0:tx1] = img[ty0:ty1, tx0:tx1] ** 2
        else:  # no full patch fits this clipped template: mean colour of the known pixels
            img[ty0:ty1, tx0:tx1][sub] = img[~todo].mean(0)
        conf[ty0:ty1, tx0:tx1][sub] = c[k]
        todo[ty0:ty1, tx0:tx1] = False
    out = rgb[..., :3].copy()
    win = out[y0:y1, x0:x1]
    hh = hole[y0:y1, x0:x1]
    win[hh] = np.clip(np.round(img[hh]), 0, 255).astype(np.uint8)
    return out
