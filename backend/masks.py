"""Editor layers → one boolean mask: the single definition every tab uses (bench annotation,
anomaly corrections, the 3D tab's brush/upload).

Gradio's ImageEditor hands back a list of layers (PIL images, arrays or file dicts) that may be
at canvas size rather than the image's. What to do then is the caller's policy, stated at the
call: `on_mismatch="resize"` scales the layer to the image (nearest neighbour, so a stroke stays
a stroke), `"error"` refuses with a sentence the user can act on.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import numpy as np
from PIL import Image

from backend.errors import UserError


def _painted(layer) -> np.ndarray:
    if isinstance(layer, dict):  # a Gradio file value
        layer = Image.open(layer["path"])
    elif isinstance(layer, str):
        layer = Image.open(layer)
    arr = np.asarray(layer.convert("RGBA") if isinstance(layer, Image.Image) and layer.mode not in ("L", "1", "RGB",
                                                                                                     "RGBA")
                     else layer)
    if arr.ndim == 3 and arr.shape[2] == 4:
        return arr[..., 3] > 0
    if arr.ndim == 3:
        return arr[..., :3].max(axis=2) > 0
    return arr > 0


def mask_from_layers(layers: Iterable | None, size: tuple[int, int],
                     on_mismatch: Literal["resize", "error"] = "resize") -> np.ndarray:
    """Union of painted pixels (RGBA: alpha > 0; RGB/L: any channel > 0) over `layers`, as an
    H×W bool mask for an image of `size` = (width, height)."""
    if on_mismatch not in ("resize", "error"):
        raise ValueError("on_mismatch must be 'resize' or 'error'")
    w, h = size
    mask = np.zeros((h, w), dtype=bool)
    for layer in layers or []:
        if layer is None:
            continue
        painted = _painted(layer)
        if painted.shape != mask.shape:
            if on_mismatch == "error":
                raise UserError(f"The drawing is {painted.shape[1]}x{painted.shape[0]} but the image is {w}x{h}; "
                                 "draw on the image itself.")
            resized = Image.fromarray(painted.astype(np.uint8) * 255).resize((w, h), Image.Resampling.NEAREST)
            painted = np.asarray(resized) > 0
        mask |= painted
    return mask
