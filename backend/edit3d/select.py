"""Stage 1 — object selection behind one interface, SamPredictor-style.

`set_image` does the per-image work once; `predict(points, box)` is cheap and can be called for
every click. The default is OpenCV GrabCut (no weights); `SamSegmenter` wraps segment-anything's
`SamPredictor` when a checkpoint exists under MODELS_DIR. Mask post-processing (keep the clicked
component, fill holes, brush edits, grow/shrink, sanity limits) is shared by both.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import cv2
import numpy as np
import torch
from scipy import ndimage as ndi

from backend.errors import UserError

MIN_AREA_FRACTION = 0.002
MAX_AREA_FRACTION = 0.90


class Segmenter(Protocol):
    name: str
    label: str

    def set_image(self, rgb: np.ndarray) -> None: ...

    def predict(self, points: Sequence[tuple[float, float, int]] = (),
                box: tuple[float, float, float, float] | None = None) -> np.ndarray: ...


class GrabCutSegmenter:
    """Colour-model graph cut (Rother et al. 2004) seeded by clicks or a box."""

    kind = "classical"
    name = "grabcut"
    label = "OpenCV GrabCut (classical, no weights)"

    def __init__(self, entry=None, device: str = "cpu", iterations: int = 5, seed: int = 0, work_side: int = 320):
        opts = getattr(entry, "options", {}) or {}
        self.iterations = int(opts.get("iterations", iterations))
        self.seed = int(opts.get("seed", seed))
        self.work_side = int(opts.get("work_side", work_side))
        self._rgb: np.ndarray | None = None
        self._full: tuple[int, int] = (0, 0)

    def set_image(self, rgb: np.ndarray) -> None:
        """Keep a ≤ work_side copy: GrabCut's cost grows with pixels, its answer barely does."""
        rgb = np.ascontiguousarray(rgb[..., :3].astype(np.uint8))
        H, W = rgb.shape[:2]
        self._full = (H, W)
        s = min(1.0, self.work_side / max(H, W))
        self._s = s
        self._rgb = rgb if s == 1.0 else cv2.resize(rgb, (max(1, round(W * s)), max(1, round(H * s))),
                                                    interpolation=cv2.INTER_AREA)

    def predict(self, points=(), box=None) -> np.ndarray:
        if self._rgb is None:
            raise RuntimeError("call set_image first")
        s = self._s
        small = self._predict_small([(x * s, y * s, lab) for x, y, lab in points],
                                    None if box is None else tuple(c * s for c in box))
        if s == 1.0:
            return small
        H, W = self._full
        up = cv2.resize(small.astype(np.float32), (W, H), interpolation=cv2.INTER_LINEAR) > 0.5
        return keep_clicked(up, [(x, y) for x, y, lab in points if lab], box)

    def _predict_small(self, points, box) -> np.ndarray:
        img = self._rgb
        assert img is not None  # predict() checked set_image was called
        H, W = img.shape[:2]
        pos = [(x, y) for x, y, lab in points if lab]
        neg = [(x, y) for x, y, lab in points if not lab]
        if not pos and box is None:
            raise UserError("Click on the object (or draw a box) to select it.")
        cv2.setRNGSeed(self.seed)  # GrabCut's GMM initialisation uses OpenCV's RNG
        mask = np.full((H, W), cv2.GC_PR_BGD, np.uint8)
        r = max(2, int(round(0.015 * max(H, W))))
        if box is not None:
            x0, y0, x1, y1 = _clip_box(box, W, H)
            mask[:] = cv2.GC_BGD
            mask[y0:y1 + 1, x0:x1 + 1] = cv2.GC_PR_FGD
        else:
            seed_region = _flood_region(img, pos)
            mask[seed_region] = cv2.GC_PR_FGD
            b = max(1, int(round(0.01 * max(H, W))))
            border = np.zeros((H, W), bool)
            border[:b], border[-b:], border[:, :b], border[:, -b:] = True, True, True, True
            mask[border & ~seed_region] = cv2.GC_BGD
        for x, y in pos:
            cv2.circle(mask, (int(round(x)), int(round(y))), r, int(cv2.GC_FGD), -1)
        for x, y in neg:
            cv2.circle(mask, (int(round(x)), int(round(y))), r, int(cv2.GC_BGD), -1)
        bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
        try:
            cv2.grabCut(img, mask, None, bgd, fgd, self.iterations,  # type: ignore[call-overload]  # rect=None is valid in mask mode; the stubs say no
                        cv2.GC_INIT_WITH_MASK)
        except cv2.error:  # degenerate colour model (e.g. a flat image): fall back to the seeds
            pass
        out = (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)
        return keep_clicked(out, pos, box)


def _clip_box(box, W, H) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    x0, x1 = sorted((max(0, min(W - 1, x0)), max(0, min(W - 1, x1))))
    y0, y1 = sorted((max(0, min(H - 1, y0)), max(0, min(H - 1, y1))))
    if x1 - x0 < 2 or y1 - y0 < 2:
        raise UserError("The box is too small; drag a box around the whole object.")
    return x0, y0, x1, y1


def _flood_region(img: np.ndarray, pos: list[tuple[float, float]]) -> np.ndarray:
    """A generous 'probably object' prior around the clicks: colour-similar connected pixels plus a
    window of a quarter of the image around each click (objects are rarely one flat colour)."""
    H, W = img.shape[:2]
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB)
    region = np.zeros((H, W), bool)
    half = int(0.22 * max(H, W))
    for x, y in pos:
        xi, yi = int(np.clip(round(x), 0, W - 1)), int(np.clip(round(y), 0, H - 1))
        ff = np.zeros((H + 2, W + 2), np.uint8)
        cv2.floodFill(lab.copy(), ff, (xi, yi), (0, 0, 0), (12, 10, 10), (12, 10, 10),
                      4 | cv2.FLOODFILL_MASK_ONLY | (1 << 8))
        flood = ff[1:-1, 1:-1] > 0
        if flood.mean() < 0.5:
            region |= flood
        region[max(0, yi - half):yi + half + 1, max(0, xi - half):xi + half + 1] = True
    return region


def keep_clicked(mask: np.ndarray, pos: Sequence[tuple[float, float]] = (), box=None) -> np.ndarray:
    """Keep the connected components under positive clicks (or the largest), fill holes."""
    mask = mask.astype(bool)
    if not mask.any():
        return mask
    lab, n = ndi.label(mask)
    keep = set()
    H, W = mask.shape
    for x, y in pos:
        xi, yi = int(np.clip(round(x), 0, W - 1)), int(np.clip(round(y), 0, H - 1))
        if lab[yi, xi]:
            keep.add(int(lab[yi, xi]))
    if not keep:
        sizes = ndi.sum(mask, lab, index=np.arange(1, n + 1))
        keep = {int(np.argmax(sizes)) + 1}
    out = np.isin(lab, list(keep))
    return ndi.binary_fill_holes(out)


def refine_mask(mask: np.ndarray, *, brush_add=(), brush_remove=(), dilate_px: int = 0,
                scale: float = 1.0) -> np.ndarray:
    """Apply brush strokes (original-pixel coordinates × scale) and grow/shrink."""
    m = mask.astype(np.uint8).copy()
    for x, y, r in brush_add:
        cv2.circle(m, (int(round(x * scale)), int(round(y * scale))), max(1, int(round(r * scale))), 1, -1)
    for x, y, r in brush_remove:
        cv2.circle(m, (int(round(x * scale)), int(round(y * scale))), max(1, int(round(r * scale))), 0, -1)
    if dilate_px:
        k = 2 * abs(int(dilate_px)) + 1
        se = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
        grown = cv2.dilate(m, se) if dilate_px > 0 else cv2.erode(m, se)
        return np.asarray(grown) > 0
    return m > 0


def check_mask(mask: np.ndarray) -> None:
    """Refuse selections the pipeline cannot honestly edit, with a sentence that says why."""
    frac = float(mask.mean()) if mask.size else 0.0
    if frac < MIN_AREA_FRACTION:
        raise UserError("No object is selected (the mask is empty or only a few pixels). "
                         "Click on the object, or add positive points / a box.")
    if frac > MAX_AREA_FRACTION:
        raise UserError(f"The selection covers {frac:.0%} of the image; there would be almost no background "
                         "left to keep. Add a negative click on the background or draw a tighter box.")


def mask_from_upload(arr: np.ndarray, width: int, height: int) -> np.ndarray:
    """An uploaded mask image (any mode) → bool mask at (height, width); white/opaque = object."""
    a = np.asarray(arr)
    if a.ndim == 3:
        a = a[..., 3] if a.shape[2] == 4 and a[..., 3].min() < 255 else a[..., :3].max(axis=2)
    a = a.astype(np.float32)
    if a.max() > 1.0:
        a = a / 255.0
    if a.shape != (height, width):
        a = cv2.resize(a, (width, height), interpolation=cv2.INTER_LINEAR)
    return a > 0.5


class SamSegmenter:
    """segment-anything's SamPredictor on a local checkpoint (never downloaded)."""

    kind = "model"
    name = "sam"
    label = "Segment Anything (local checkpoint)"

    def __init__(self, entry=None, device: str = "cpu", sam_model=None):
        if sam_model is None:
            from segment_anything import sam_model_registry  # noqa: PLC0415 - optional heavy package, loaded with a user's checkpoint

            model_type = (getattr(entry, "options", {}) or {}).get("model_type", "vit_b")
            path = entry.resolved_path
            sam_model = sam_model_registry[model_type](checkpoint=str(path))
            self.label = f"Segment Anything {model_type} ({path.name})"
        from segment_anything import SamPredictor  # noqa: PLC0415 - optional heavy package, loaded with a user's checkpoint

        self.device = device
        self.predictor = SamPredictor(sam_model.to(device).eval())

    @classmethod
    def check_available(cls, entry) -> tuple[bool, str]:
        p = entry.resolved_path
        if p is None or not p.is_file():
            return False, f"SAM checkpoint not found at {p}"
        return True, "checkpoint found"

    def set_image(self, rgb: np.ndarray) -> None:
        with torch.inference_mode():
            self.predictor.set_image(np.ascontiguousarray(rgb[..., :3].astype(np.uint8)))

    def predict(self, points=(), box=None) -> np.ndarray:
        if not points and box is None:
            raise UserError("Click on the object (or draw a box) to select it.")
        pc = np.array([[x, y] for x, y, _ in points], np.float32) if points else None
        pl = np.array([int(lab) for *_, lab in points], np.int64) if points else None
        with torch.inference_mode():
            masks, scores, _ = self.predictor.predict(point_coords=pc, point_labels=pl,
                                                      box=None if box is None else np.array(box, np.float32),
                                                      multimask_output=True)
        best = masks[int(np.argmax(scores))]
        return keep_clicked(best, [(x, y) for x, y, lab in points if lab], box)
