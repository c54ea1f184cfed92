"""Change-segmentation training pairs from real photos: (prompt, query, mask in query coordinates).

A *group* shares one prompt: a crop of a training photo (backend.anomaly.offline.split) is the
canonical scene; the prompt is one nuisance view of it; each query is another nuisance view of the
scene, with (most of the time) one natural-looking change (offline/changes.py: a colour-matched
pasted region, a recolour, a removal filled from the background, a duplicated part). With
probability P_SWAP the roles are swapped: the CHANGED scene is the prompt and the original is the
query, so the query's perfectly natural region is positive only because the prompt differs there —
a model that ignores the prompt cannot fit both. P_CLEAN of the queries have no change: nuisance
differences alone must give an empty mask. Groups are a pure function of (seed, index).
"""
from __future__ import annotations

import numpy as np
import torch

from backend.anomaly.offline import changes
from backend.anomaly.offline.textures import load_photos, random_normal
from backend.anomaly.preprocess import normalise

P_CLEAN = 0.25
P_SWAP = 0.3
P_PROCEDURAL = 0.15  # share of scenes drawn from the procedural textures/objects instead of photos


def _scene(rng, canvas: int, photos):
    if not photos or rng.random() < P_PROCEDURAL:
        return random_normal(canvas, rng, None)
    return changes.crop_square(photos[int(rng.integers(len(photos)))], canvas, rng)


def _change(scene, rng, photos):
    for _ in range(5):  # retry until the change is visible
        kind = changes.TRAIN_CHANGES[int(rng.integers(len(changes.TRAIN_CHANGES)))]
        donor = _scene(rng, scene.shape[0], photos) if kind == "paste" else None
        after, alpha = changes.apply(kind, scene, rng, donor)
        m = changes.visible_mask(scene, after, alpha)
        if m.sum() > 0.002 * m.size:
            return after, m
    return scene, np.zeros(scene.shape[:2], bool)


def make_group(rng: np.random.Generator, size: int = 192, photos=None, n_queries: int = 4):
    """One prompt (uint8 H×W×3) and `n_queries` (query uint8, mask uint8 {0,1}) pairs."""
    canvas = size + 16
    scene = _scene(rng, canvas, photos)
    prompt, _ = changes.view(scene, size, rng)
    prompt_img = changes.photometric(prompt, rng)
    out: list[tuple] = []
    for _ in range(n_queries):
        if rng.random() < P_CLEAN:
            q, _ = changes.view(scene, size, rng)
            out.append((changes.to_uint8(changes.photometric(q, rng)), np.zeros((size, size), np.uint8)))
            continue
        changed, m = _change(scene, rng, photos)
        if rng.random() < P_SWAP:  # changed scene as the prompt: the query's original region is the change
            p, _ = changes.view(changed, size, rng)
            q, mq = changes.view(scene, size, rng, mask=m)
            out.append((changes.to_uint8(changes.photometric(q, rng)), mq.astype(np.uint8), changes.to_uint8(
                changes.photometric(p, rng))))
        else:
            q, mq = changes.view(changed, size, rng, mask=m)
            out.append((changes.to_uint8(changes.photometric(q, rng)), mq.astype(np.uint8)))
    return changes.to_uint8(prompt_img), out


def make_pair(rng: np.random.Generator, size: int = 192, photos=None):
    """One (prompt, query, mask) example (a group of one)."""
    prompt, items = make_group(rng, size, photos, n_queries=1)
    item = items[0]
    return (item[2] if len(item) == 3 else prompt), item[0], item[1]


class PairStream(torch.utils.data.IterableDataset):
    """Infinite, seeded stream of (prompt, query, mask) tensors; consecutive items share prompts."""

    def __init__(self, seed: int, size: int = 192, photo_paths=None, start: int = 0, n_queries: int = 4):
        self.seed, self.size, self.photo_paths, self.start, self.n = seed, size, photo_paths or [], start, n_queries

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        wid, nw = (info.id, info.num_workers) if info else (0, 1)
        photos = load_photos(self.photo_paths)
        i = self.start + wid
        while True:
            prompt, items = make_group(np.random.default_rng([self.seed, i]), self.size, photos, self.n)
            for item in items:
                p = item[2] if len(item) == 3 else prompt
                yield (torch.from_numpy(normalise(p)), torch.from_numpy(normalise(item[0])),
                       torch.from_numpy(item[1].astype(np.float32))[None])
            i += nw
