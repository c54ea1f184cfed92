"""Change-segmentation training pairs from real photos: (prompt, query, mask in query coordinates).

A *group* shares one prompt: a crop of a training photo (backend.anomaly.offline.split) is the
canonical scene; the prompt is one nuisance view of it; each query is another nuisance view of the
scene, with (most of the time) one natural-looking change (offline/changes.py: a colour-matched
pasted region, a recolour, a removal filled from the background, a duplicated part). With
probability P_SWAP the roles are swapped: the CHANGED scene is the prompt and the original is the
query, so the query's perfectly natural region is positive only because the prompt differs there —
a model that ignores the prompt cannot fit both. P_CLEAN of the queries have no change: nuisance
differences alone must give an empty mask. Groups are a pure function of (seed, index, recipe).

A `Recipe` can shift which changes are drawn (protocol v8, static/anomaly/protocol_v8.json): per-kind weights
over changes.TRAIN_CHANGES and a probability of drawing the change's region from the SMALL_AREA band. The default
recipe (uniform kinds, no small-area bias) makes every random draw the original code made, in the same order, so
the same seed gives bit-identical pairs (tests/unit/test_anomaly_recipe.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

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


SMALL_AREA = (0.0025, 0.01)  # area fraction band of a "small" change region (log-uniform), Recipe.p_small


@dataclass(frozen=True)
class Recipe:
    """Which changes the training pairs draw. `kind_weights`: one weight per changes.TRAIN_CHANGES kind (None or all
    equal = uniform, drawn exactly as before); `p_small`: probability that a change's region is drawn log-uniformly
    from SMALL_AREA instead of the kind's own area range (0 = never; no extra draw is made)."""

    kind_weights: tuple[float, ...] | None = None
    p_small: float = 0.0

    def __post_init__(self):
        w = self.kind_weights
        if w is not None:
            w = tuple(float(x) for x in w)
            if len(w) != len(changes.TRAIN_CHANGES):
                raise ValueError(f"kind weights need one value per kind {changes.TRAIN_CHANGES}, got {len(w)}")
            if not all(math.isfinite(x) and x >= 0 for x in w) or sum(w) <= 0:
                raise ValueError(f"kind weights must be finite, >= 0 and not all 0: {w}")
            w = None if len(set(w)) == 1 else tuple(x / sum(w) for x in w)
            object.__setattr__(self, "kind_weights", w)
        p = float(self.p_small)
        if not (math.isfinite(p) and 0.0 <= p <= 1.0):
            raise ValueError(f"p_small must lie in [0, 1]: {self.p_small}")
        object.__setattr__(self, "p_small", p)

    @property
    def is_default(self) -> bool:
        return self.kind_weights is None and self.p_small == 0.0

    def describe(self) -> dict:
        w = self.kind_weights or (1 / len(changes.TRAIN_CHANGES),) * len(changes.TRAIN_CHANGES)
        return {"kind_weights": {k: round(x, 6) for k, x in zip(changes.TRAIN_CHANGES, w, strict=True)},
                "p_small": self.p_small, "small_area": list(SMALL_AREA) if self.p_small else None}

    def draw_kind(self, rng) -> str:
        if self.kind_weights is None:
            return changes.TRAIN_CHANGES[int(rng.integers(len(changes.TRAIN_CHANGES)))]
        return changes.TRAIN_CHANGES[int(rng.choice(len(changes.TRAIN_CHANGES), p=self.kind_weights))]

    def draw_region(self, size: int, rng):
        """A small region (SMALL_AREA) with probability p_small, else None (the kind draws its own)."""
        if self.p_small > 0 and rng.random() < self.p_small:
            return changes.blob(size, rng, SMALL_AREA)
        return None


DEFAULT_RECIPE = Recipe()


def parse_kind_weights(text: str) -> tuple[float, ...]:
    """'recolour=0.35,remove=0.35,paste=0.15,duplicate=0.15' -> weights in changes.TRAIN_CHANGES order (every kind
    named once)."""
    got: dict[str, float] = {}
    for part in text.split(","):
        name, sep, val = part.partition("=")
        name = name.strip()
        if not sep or name not in changes.TRAIN_CHANGES or name in got:
            raise ValueError(f"expected kind=weight for each of {changes.TRAIN_CHANGES} once, got {text!r}")
        got[name] = float(val)
    if set(got) != set(changes.TRAIN_CHANGES):
        raise ValueError(f"missing kinds {sorted(set(changes.TRAIN_CHANGES) - set(got))} in {text!r}")
    return tuple(got[k] for k in changes.TRAIN_CHANGES)


def draw_change(scene, rng, photos, recipe: Recipe = DEFAULT_RECIPE):
    """(changed scene, visible mask, kind, attempts); kind None when 5 draws stayed invisible (no change)."""
    for attempt in range(1, 6):  # retry until the change is visible
        kind = recipe.draw_kind(rng)
        donor = _scene(rng, scene.shape[0], photos) if kind == "paste" else None
        after, alpha = changes.apply(kind, scene, rng, donor, recipe.draw_region(scene.shape[0], rng))
        m = changes.visible_mask(scene, after, alpha)
        if m.sum() > 0.002 * m.size:
            return after, m, kind, attempt
    return scene, np.zeros(scene.shape[:2], bool), None, 5


def _change(scene, rng, photos, recipe: Recipe = DEFAULT_RECIPE):
    after, m, _, _ = draw_change(scene, rng, photos, recipe)
    return after, m


def make_group(rng: np.random.Generator, size: int = 192, photos=None, n_queries: int = 4,
               recipe: Recipe = DEFAULT_RECIPE):
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
        changed, m = _change(scene, rng, photos, recipe)
        if rng.random() < P_SWAP:  # changed scene as the prompt: the query's original region is the change
            p, _ = changes.view(changed, size, rng)
            q, mq = changes.view(scene, size, rng, mask=m)
            out.append((changes.to_uint8(changes.photometric(q, rng)), mq.astype(np.uint8), changes.to_uint8(
                changes.photometric(p, rng))))
        else:
            q, mq = changes.view(changed, size, rng, mask=m)
            out.append((changes.to_uint8(changes.photometric(q, rng)), mq.astype(np.uint8)))
    return changes.to_uint8(prompt_img), out


def make_pair(rng: np.random.Generator, size: int = 192, photos=None, recipe: Recipe = DEFAULT_RECIPE):
    """One (prompt, query, mask) example (a group of one)."""
    prompt, items = make_group(rng, size, photos, n_queries=1, recipe=recipe)
    item = items[0]
    return (item[2] if len(item) == 3 else prompt), item[0], item[1]


class PairStream(torch.utils.data.IterableDataset):
    """Infinite, seeded stream of (prompt, query, mask) tensors; consecutive items share prompts."""

    def __init__(self, seed: int, size: int = 192, photo_paths=None, start: int = 0, n_queries: int = 4,
                 recipe: Recipe = DEFAULT_RECIPE):
        self.seed, self.size, self.photo_paths, self.start, self.n = seed, size, photo_paths or [], start, n_queries
        self.recipe = recipe

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        wid, nw = (info.id, info.num_workers) if info else (0, 1)
        photos = load_photos(self.photo_paths)
        i = self.start + wid
        while True:
            prompt, items = make_group(np.random.default_rng([self.seed, i]), self.size, photos, self.n, self.recipe)
            for item in items:
                p = item[2] if len(item) == 3 else prompt
                yield (torch.from_numpy(normalise(p)), torch.from_numpy(normalise(item[0])),
                       torch.from_numpy(item[1].astype(np.float32))[None])
            i += nw
