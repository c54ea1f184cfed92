"""Square model inputs that keep the aspect ratio, and the way back to the user's pixels.

Both MetaUAS checkpoints and the kNN engine work on square inputs. The official demo squashes
images (aspect lost) and only resizes when the height differs; here prompt and query are resized
*identically* (longest side → `size`) and padded with a neutral grey, and maps are cropped and
resized back to the query's original size, so a map pixel always lies over the pixel it scores.
Pure numpy/PIL; no torch, so the training script and the tests can use it cheaply.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from PIL import Image

from backend.errors import UserError
from backend.imageio import to_rgb

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
PAD_VALUE = 124  # ≈ ImageNet mean grey, so padding normalises to ~0
MIN_SIDE = 16


@dataclass(frozen=True)
class Letterbox:
    """Where the image content sits inside the square input."""
    size: int
    left: int
    top: int
    width: int
    height: int
    orig_w: int
    orig_h: int


def as_rgb(img: Image.Image) -> Image.Image:
    """Any mode (RGBA, L, I;16, P) → 8-bit RGB, via the project's one image normaliser."""
    if img.mode == "RGB":
        return img

    return to_rgb(img)


def letterbox(img: Image.Image, size: int) -> tuple[np.ndarray, Letterbox]:
    """RGB uint8 (size, size, 3) with the image centred, longest side = size."""
    img = as_rgb(img)
    w, h = img.size
    if min(w, h) < 1:
        raise UserError("The image is empty.")
    scale = size / max(w, h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    canvas = np.full((size, size, 3), PAD_VALUE, dtype=np.uint8)
    left, top = (size - nw) // 2, (size - nh) // 2
    resample = Image.Resampling.BILINEAR if scale >= 1 else Image.Resampling.LANCZOS
    canvas[top:top + nh, left:left + nw] = np.asarray(img.resize((nw, nh), resample))
    return canvas, Letterbox(size, left, top, nw, nh, w, h)


def unletterbox(amap: np.ndarray, box: Letterbox) -> np.ndarray:
    """(size, size) float map → (orig_h, orig_w) float32 map over the original pixels."""
    crop = np.ascontiguousarray(amap[box.top:box.top + box.height, box.left:box.left + box.width], dtype=np.float32)
    if crop.shape == (box.orig_h, box.orig_w):
        return crop
    out = Image.fromarray(crop, mode="F").resize((box.orig_w, box.orig_h), Image.Resampling.BILINEAR)
    return np.asarray(out, dtype=np.float32)


def normalise(arr_uint8: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 → (3, H, W) float32, ImageNet mean/std (what both encoders were trained with)."""
    x = arr_uint8.astype(np.float32) / 255.0
    return ((x - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1).copy()


def image_key(img: Image.Image) -> str:
    """Content hash of an image (mode + size + pixels), the cache key for prompt features."""
    h = hashlib.sha1()
    h.update(f"{img.mode}{img.size}".encode())
    h.update(img.tobytes())
    return h.hexdigest()


def check_image(img, what: str) -> Image.Image:
    """Clear messages for inputs that cannot be inspected."""
    if not isinstance(img, Image.Image):
        raise UserError(f"The {what} is not an image.")
    if min(img.size) < MIN_SIDE:
        raise UserError(f"The {what} is only {img.size[0]}×{img.size[1]} pixels; at least {MIN_SIDE} pixels per "
                         "side are needed for anomaly inspection.")
    return as_rgb(img)
