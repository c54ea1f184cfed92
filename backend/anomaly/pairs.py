"""Synthetic change pairs for training MetaUAS: (prompt, query, mask in query coordinates).

Recipe (MetaUAS trains on COCO-Inpainted object changes + DRAEM local changes, neither reachable
here): a normal image is drawn (package photo crop, procedural texture or object); a change from
TRAIN_KINDS is applied in that canonical frame; prompt and query are two independent random
affine views (misalignment teaches the soft alignment), with independent colour jitter, blur and
noise; roles are swapped at random (then the "change" is something that vanished); the mask is
warped with the query's transform. For procedural classes, half of the pairs use two different
instances of the class as prompt and query (the benchmark's prompts are other good parts, not
warped copies). A share of pairs has no change at all, so the model learns to
output ~0 on defect-free queries. Pairs are a pure function of (seed, index).
"""
from __future__ import annotations

import cv2
import numpy as np
import torch

from backend.anomaly.defects import TRAIN_KINDS
from backend.anomaly.textures import random_normal, render

P_NO_CHANGE = 0.15
P_SWAP = 0.25
P_INSTANCE = 0.5


def _affine(size: int, canvas: int, rng, strength: float) -> np.ndarray:
    """2×3 matrix mapping the canvas to a size×size view (rotation, scale, shift)."""
    ang = rng.uniform(-25, 25) * strength if rng.random() < 0.7 else rng.uniform(-180, 180) * strength
    scale = rng.uniform(1 - 0.12 * strength, 1 + 0.12 * strength)
    shift = rng.uniform(-0.06, 0.06, 2) * size * strength
    m = cv2.getRotationMatrix2D((canvas / 2, canvas / 2), ang, scale)
    m[:, 2] += shift - (canvas - size) / 2
    return m


def _photometric(img, rng):
    out = img * rng.uniform(0.85, 1.15) + rng.uniform(-0.06, 0.06)
    grey = out.mean(axis=2, keepdims=True)
    out = grey + (out - grey) * rng.uniform(0.85, 1.15)
    if rng.random() < 0.3:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.3, 1.0))
    if rng.random() < 0.3:
        out = out + rng.normal(0, rng.uniform(0.005, 0.02), out.shape)
    return np.clip(out, 0, 1).astype(np.float32)


def make_pair(rng: np.random.Generator, size: int = 256, photos=None, kinds=None, strength: float | None = None):
    """One training example: uint8 prompt (H,W,3), uint8 query (H,W,3), uint8 mask (H,W) in {0,1}."""
    kinds = kinds or TRAIN_KINDS
    canvas = int(size * 1.3)
    base, params = random_normal(canvas, rng, photos, return_params=True)
    # procedural classes: half the time prompt and query are two *instances* of the class (normal
    # variation must not be flagged); otherwise two views of the same image (CYWS/MetaUAS style)
    other = render(params, canvas, rng) if params is not None and rng.random() < P_INSTANCE else None
    changed, m = base, np.zeros(base.shape[:2], np.uint8)
    if rng.random() > P_NO_CHANGE:
        for _ in range(4):  # retry until the change is visible
            kind = list(kinds)[int(rng.integers(len(kinds)))]
            source = random_normal(canvas, rng, photos) if rng.random() < 0.6 else None
            changed, m = kinds[kind](base, rng, source)
            if m.sum() > 0.0005 * m.size:
                break
    if other is not None:
        a, b = other, changed
    else:
        a, b = (changed, base) if rng.random() < P_SWAP else (base, changed)  # a = prompt, b = query
    s = strength if strength is not None else (1.0 if rng.random() < 0.8 else 0.0)
    mp, mq = _affine(size, canvas, rng, s), _affine(size, canvas, rng, s)
    flags = dict(flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    prompt = cv2.warpAffine(a, mp, (size, size), **flags)
    query = cv2.warpAffine(b, mq, (size, size), **flags)
    mask = cv2.warpAffine(m.astype(np.float32), mq, (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT) > 0.5
    # regions reflected in from outside the canvas only exist in one view; they are not "changes"
    prompt, query = _photometric(prompt, rng), _photometric(query, rng)
    to8 = lambda x: (np.clip(x, 0, 1) * 255 + 0.5).astype(np.uint8)  # noqa: E731
    return to8(prompt), to8(query), mask.astype(np.uint8)


class PairStream(torch.utils.data.IterableDataset):
    """Infinite, seeded stream of pairs for a torch DataLoader (each worker gets its own seed)."""

    def __init__(self, seed: int, size: int = 256, photo_paths=None, start: int = 0):
        self.seed, self.size, self.photo_paths, self.start = seed, size, photo_paths or [], start

    def __iter__(self):
        from backend.anomaly.preprocess import normalise
        from backend.anomaly.textures import load_photos

        info = torch.utils.data.get_worker_info()
        wid, nw = (info.id, info.num_workers) if info else (0, 1)
        photos = load_photos(self.photo_paths)
        i = self.start + wid
        while True:
            rng = np.random.default_rng([self.seed, i])
            p, q, m = make_pair(rng, self.size, photos)
            yield (torch.from_numpy(normalise(p)), torch.from_numpy(normalise(q)),
                   torch.from_numpy(m.astype(np.float32))[None])
            i += nw
