"""Background fill on held-out holes: smooth (Telea, Navier-Stokes), the old default (Telea +
transplanted texture), exemplar (Criminisi) and the size-chosen default (issue 19).

Holes are cut into real photos that no fill was tuned on (scikit-image astronaut, chelsea,
rocket, grass and scikit-learn china; CC0 / public domain / CC-BY, see their packages), scaled
to 384 px. Three hole kinds, 2 per photo, placed at random (seed 0):
  thin — 3 px wide strokes (cracks like the ones re-projection leaves),
  medium — an ellipse of ≈ 1 % of the photo,
  large — an ellipse of ≈ 4 % of the photo (an uncovered object footprint).
The removed pixels are the ground truth. Metrics need no learned weights: PSNR and SSIM over the
hole pixels only, and gradient error (mean |∇ out − ∇ truth| of the grey image's Sobel magnitude
inside the hole — a blur scores badly on it, however good its PSNR).

    python bench/edit3d_fill.py           # writes static/edit3d/eval/fill.json, updates docs
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import skimage  # noqa: E402
from skimage.metrics import structural_similarity  # noqa: E402
from sklearn.datasets import load_sample_image  # noqa: E402

from backend.edit3d.fill import ClassicalFiller  # noqa: E402
from bench.docs_tables import update_docs  # noqa: E402

OUT = ROOT / "static" / "edit3d" / "eval" / "fill.json"
METHODS = ("telea", "ns", "texture", "exemplar", "sized")
LABELS = {"telea": "OpenCV Telea", "ns": "OpenCV Navier-Stokes",
          "texture": "Telea + transplanted texture (old default)", "exemplar": "exemplar (Criminisi)",
          "sized": "sized: Telea thin / exemplar ≤ 2 % / Navier-Stokes larger (new default)"}


def photos() -> dict[str, np.ndarray]:
    d = Path(skimage.__file__).parent / "data"
    out = {n: np.asarray(Image.open(d / f).convert("RGB")) for n, f in
           (("astronaut", "astronaut.png"), ("chelsea", "chelsea.png"), ("rocket", "rocket.jpg"),
            ("grass", "grass.png"))}
    out["china"] = load_sample_image("china.jpg")
    res = {}
    for n, a in out.items():
        h, w = a.shape[:2]
        s = 384 / max(h, w)
        res[n] = cv2.resize(a, (int(round(w * s)), int(round(h * s))), interpolation=cv2.INTER_AREA)
    return res


def make_hole(kind: str, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    H, W = shape
    m = np.zeros((H, W), np.uint8)
    if kind == "thin":
        for _ in range(4):
            p0 = (int(rng.integers(20, W - 20)), int(rng.integers(20, H - 20)))
            p1 = (int(np.clip(p0[0] + rng.integers(-80, 80), 5, W - 5)),
                  int(np.clip(p0[1] + rng.integers(-60, 60), 5, H - 5)))
            cv2.line(m, p0, p1, 1, 3)
    else:
        frac = 0.01 if kind == "medium" else 0.04
        area = frac * H * W
        ratio = rng.uniform(0.6, 1.6)
        a = np.sqrt(area / np.pi * ratio)
        b = area / (np.pi * a)
        c = (int(rng.integers(int(a) + 4, W - int(a) - 4)), int(rng.integers(int(b) + 4, H - int(b) - 4)))
        cv2.ellipse(m, c, (int(a), int(b)), float(rng.uniform(0, 180)), 0, 360, 1, -1)
    return m.astype(bool)


def metrics(out: np.ndarray, gt: np.ndarray, hole: np.ndarray) -> tuple[float, float, float]:
    diff = out[hole].astype(np.float64) - gt[hole].astype(np.float64)
    mse = float((diff ** 2).mean())
    psnr = 10 * np.log10(255.0 ** 2 / max(mse, 1e-10))
    _, smap = structural_similarity(gt, out, channel_axis=2, full=True, data_range=255)
    ssim = float(smap.mean(-1)[hole].mean())

    def gmag(a):
        g = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY).astype(np.float32)
        return np.hypot(cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1))

    gerr = float(np.abs(gmag(out) - gmag(gt))[hole].mean())
    return psnr, ssim, gerr


def evaluate() -> dict:
    rng = np.random.default_rng(0)
    imgs = photos()
    cases = [(n, kind, make_hole(kind, a.shape[:2], rng)) for n, a in imgs.items()
             for kind in ("thin", "medium", "large") for _ in range(2)]
    rows = []
    for kind in ("thin", "medium", "large"):
        for meth in METHODS:
            f = ClassicalFiller(method=meth)
            ps, ss, gs, ts = [], [], [], []
            for n, k, hole in cases:
                if k != kind:
                    continue
                gt = imgs[n]
                t0 = time.perf_counter()
                out = f.fill(gt, hole)
                ts.append(time.perf_counter() - t0)
                assert (out[~hole] == gt[~hole]).all(), "a fill changed pixels outside its hole"
                p, s, g = metrics(out, gt, hole)
                ps.append(p)
                ss.append(s)
                gs.append(g)
            rows.append({"hole": f"{kind} ({len(ps)} holes)", "method": LABELS[meth], "key": meth,
                         "psnr": round(float(np.mean(ps)), 2), "ssim": round(float(np.mean(ss)), 4),
                         "grad_err": round(float(np.mean(gs)), 2), "seconds": round(float(np.median(ts)), 3)})
            print(rows[-1], flush=True)
    return {"photos": sorted(imgs), "side_px": 384, "seed": 0, "rows": rows,
            "load_average": round(os.getloadavg()[0], 1),
            "note": "seconds are medians on a shared, loaded 2-core machine"}


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    res = evaluate()
    OUT.write_text(json.dumps(res, indent=1) + "\n")
    update_docs()


if __name__ == "__main__":
    main()
