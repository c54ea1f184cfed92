"""Feature blocks of the evaluation's style judge (legibility_eval.StyleClassifier) and the candidates registered in
bench/results/svg_judge_protocol.json (issue 18, svg12). Every block is computed from the SVG text alone, the same
way for the judge's training icons and for the icons it judges.

- "M": `features` (the judge before svg12: style measurements, mode/cap/join one-hots, geometry statistics, 16-px render).
- "I": style.identity_features of the parsed paths (the family identifier's per-icon conventions, incl. the filled
  paths' even-odd fill-rule share).
- "H": HOG of the 64-px alpha render (9 orientations, 8×8-px cells, 1×1-cell blocks, L2-Hys): 576 values.
- "L": frozen EfficientNet-Lite0 (ImageNet, shipped weights) on the 128-px render, blocks 10 and 15 mean-pooled
  (112 + 320), reduced to `PCA_DIMS` by a PCA fitted on the judge's training icons only.
"""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image
from skimage.feature import hog
from sklearn.decomposition import PCA

from backend.embedded import IMAGENET_MEAN, IMAGENET_STD, Lite0Encoder
from backend.svg.family_match import geometry_stats
from backend.svg.paths import CAPS, JOINS, parse_svg_paths
from backend.svg.render import render_alpha
from backend.svg.style import MODES, extract_style, identity_features, visual_weight

BLOCKS = ("M", "I", "H", "L")
LITE0_BLOCKS = (10, 15)
PCA_DIMS = 48
_ENCODER: list = []  # the Lite0 encoder, loaded once per process (never pickled with a judge)


def _encoder():
    if not _ENCODER:
        _ENCODER.append(Lite0Encoder())
    return _ENCODER[0]


def features(svg: str) -> np.ndarray:
    paths, _ = parse_svg_paths(svg)
    c = extract_style([paths], grid=24.0)
    weight, solidity = visual_weight(svg)
    a64 = render_alpha(svg, 64)
    a16 = np.asarray(Image.fromarray((a64 * 255).astype(np.uint8)).resize((16, 16), Image.Resampling.BILINEAR)) / 255.0
    stroked = [p for p in paths if p["stroke"]]
    meas = [c.stroke_width / 24, weight, solidity, c.fill_ratio, c.padding / 24, c.smooth_joints,
            min(c.detail / 100, 3), float(c.duotone), float(a64.mean()), len(paths) / 10,
            float(np.mean([p.get("opacity", 1.0) for p in paths]))]
    meas += [float(c.mode == m) for m in MODES] + [float(bool(stroked) and c.linecap == k) for k in CAPS]
    meas += [float(bool(stroked) and c.linejoin == k) for k in JOINS]
    meas += geometry_stats(paths, a64)
    return np.concatenate([np.asarray(meas, np.float32), a16.ravel().astype(np.float32)])


block_m = features


def block_i(svg: str) -> np.ndarray:
    paths, _ = parse_svg_paths(svg)
    return np.asarray(identity_features(paths), np.float32)


def block_h(svg: str) -> np.ndarray:
    return hog(render_alpha(svg, 64), orientations=9, pixels_per_cell=(8, 8), cells_per_block=(1, 1),
               block_norm="L2-Hys", feature_vector=True).astype(np.float32)


def block_l(svgs: list[str], batch: int = 64) -> np.ndarray:
    """Raw Lite0 embedding (432 values per icon, before the PCA)."""
    enc, out = _encoder(), []
    for i in range(0, len(svgs), batch):
        ink = np.stack([render_alpha(s, 128) for s in svgs[i:i + batch]]).astype(np.float32)
        rgb = (np.repeat((1.0 - ink)[..., None], 3, -1) - IMAGENET_MEAN) / IMAGENET_STD
        x = torch.from_numpy(rgb.astype(np.float32)).permute(0, 3, 1, 2)
        f = enc.features(x, blocks=LITE0_BLOCKS)
        out.append(torch.cat([f[b].mean((2, 3)) for b in LITE0_BLOCKS], 1).numpy())
    return np.concatenate(out) if out else np.zeros((0, 432), np.float32)


def raw_blocks(svgs: list[str], blocks: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The raw feature blocks of `svgs` (L before its PCA)."""
    per = {"M": block_m, "I": block_i, "H": block_h}
    out = {b: np.stack([per[b](s) for s in svgs]).astype(np.float32) for b in blocks if b in per}
    if "L" in blocks:
        out["L"] = block_l(svgs)
    return out


class Featurizer:
    """Concatenates the chosen blocks; the L block's PCA is fitted on training icons (`fit`) and reused after."""

    def __init__(self, blocks: tuple[str, ...] = ("M",), pca_dims: int = PCA_DIMS):
        unknown = set(blocks) - set(BLOCKS)
        if unknown or not blocks:
            raise ValueError(f"unknown feature blocks {sorted(unknown)}")
        self.blocks, self.pca_dims, self.pca = tuple(blocks), pca_dims, None

    def fit(self, raw: dict[str, np.ndarray]) -> Featurizer:
        if "L" in self.blocks:
            self.pca = PCA(self.pca_dims, random_state=0).fit(raw["L"])
        return self

    def transform(self, raw: dict[str, np.ndarray]) -> np.ndarray:
        parts = [self.pca.transform(raw[b]) if b == "L" and self.pca is not None else raw[b] for b in self.blocks]
        return np.concatenate([np.asarray(p, np.float32) for p in parts], 1)

    def __call__(self, svgs: list[str]) -> np.ndarray:
        return self.transform(raw_blocks(svgs, self.blocks))
