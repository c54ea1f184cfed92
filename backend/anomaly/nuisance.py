"""Nuisance: how a second photo of the same good part differs from the first (never a defect).

One generator, two users: the inspector's default-threshold calibration (`inspector.calibrate_from_prompts`
scores nuisance views of the prompts) and prompt augmentation (`prompt_views`: each prompt plus K seeded
nuisance views, used as extra prompts by the engines; protocol v4, static/anomaly/protocol_v4.json).
"""
from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image

PROMPT_AUG_SEED = 404          # view i of every prompt is drawn with default_rng([PROMPT_AUG_SEED, i])
PROMPT_AUG_RECIPE = "nuisance_view-v1"  # part of the prompt-feature cache key: change it when the generator changes
MAX_PROMPT_AUG = 16


def nuisance_view(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The prompt as a second photo of the same good part would differ: a few pixels of shift, ≤2°
    rotation, brightness/contrast, slight blur, sensor noise or JPEG. None of it is a defect."""
    arr = np.asarray(img.convert("RGB"), np.float32) / 255.0
    h, w = arr.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-2, 2), 1 + rng.uniform(-0.02, 0.02))
    m[:, 2] = m[:, 2] + rng.uniform(-3, 3, 2)
    arr = cv2.warpAffine(arr, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    arr = np.clip(arr * rng.uniform(0.93, 1.07) + rng.uniform(-0.03, 0.03), 0, 1)
    if rng.random() < 0.5:
        arr = cv2.GaussianBlur(arr, (0, 0), rng.uniform(0.3, 1.0))
    if rng.random() < 0.3:
        arr = np.clip(arr + rng.normal(0, 0.01, arr.shape), 0, 1)
    out = Image.fromarray((arr * 255 + 0.5).astype(np.uint8))
    if rng.random() < 0.5:
        buf = io.BytesIO()
        out.save(buf, format="JPEG", quality=int(rng.integers(50, 95)))
        out = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return out


def check_prompt_aug(k) -> int:
    k = int(k)
    if not 0 <= k <= MAX_PROMPT_AUG:
        raise ValueError(f"prompt augmentation K must be 0..{MAX_PROMPT_AUG}, got {k}")
    return k


def prompt_views(arr: np.ndarray, k: int, seed: int = PROMPT_AUG_SEED) -> list[np.ndarray]:
    """The letterboxed uint8 prompt followed by its K nuisance views (view i drawn with default_rng([seed, i]),
    so the same K views for every prompt and every run)."""
    k = check_prompt_aug(k)
    img = Image.fromarray(np.asarray(arr, np.uint8))
    return [np.asarray(arr, np.uint8)] + [np.asarray(nuisance_view(img, np.random.default_rng([seed, i])), np.uint8)
                                          for i in range(k)]
