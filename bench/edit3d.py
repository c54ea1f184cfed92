"""Photo 3D edit benchmark: per-stage timings and how good the depth sources are on real data.

1. Timings on scikit-image's coffee photo (CC0): the expensive per-image stages (selection, depth,
   fill, lift) and the cheap per-edit render (re-projection, cracks/occlusion, composite) at the
   512 px preview and at full resolution (the photo upscaled ×3 to 1800×1200, a stand-in for a
   2-megapixel phone photo). Baseline in the same process: the same render without supersampling
   (ss=1), so the ratio shows what the 2× supersampling costs.
2. Depth agreement on scikit-image's Middlebury-2014 motorcycle stereo pair: Spearman ρ between
   each depth source and 1/disparity (ground truth) over valid pixels. Sources: the classical
   proxy without and with the motorcycle selected, every available model backend from
   models.toml, and the proxy aligned to k user depth hints (taken from the ground truth at k
   random pixels, seed 0) with the kNN distance-weighted least squares of Prior-Depth-Anything.

    python bench/edit3d.py [--repeats 3]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import skimage  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402

from backend.edit3d.depth import ProxyDepth, align_to_hints  # noqa: E402
from backend.edit3d.fill import ClassicalFiller  # noqa: E402
from backend.edit3d.geometry import Camera  # noqa: E402
from backend.edit3d.params import DepthHint, EditParams, SceneSettings, Selection  # noqa: E402
from backend.edit3d.pipeline import Edit3DPipeline  # noqa: E402
from backend.edit3d.select import GrabCutSegmenter  # noqa: E402

DATA = Path(skimage.__file__).parent / "data"
EDIT = EditParams(yaw=20, tx=0.3)


def timings(repeats: int) -> None:
    pipe = Edit3DPipeline(GrabCutSegmenter(), ProxyDepth(), ClassicalFiller())
    photo = Image.open(DATA / "coffee.png").convert("RGB")
    rows = []
    for label, img, side in [("preview 512 px", photo, 512),
                             ("full 1800×1200 (coffee ×3)", photo.resize((1800, 1200), Image.Resampling.LANCZOS), None)]:
        s = 3.0 if img.width == 1800 else 1.0
        prep = []
        for _ in range(repeats):
            sel = Selection(points=((300 * s, 240 * s, 1),))
            if side is None:  # as the app exports: the preview's mask, upsampled (GrabCut is not rerun)
                t0 = time.perf_counter()
                prev = pipe.prepare(img, sel, max_side=512)
                t_prev = time.perf_counter() - t0
                sc = pipe.prepare(img, sel, max_side=None, mask=prev.mask)
                sc.log.timings["selection"] = t_prev  # the preview prepare that produced the mask
            else:
                sc = pipe.prepare(img, sel, max_side=side)
            prep.append(sc.log.timings)
        rend, rend1 = [], []
        cpu = []
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            r = pipe.render(sc, EDIT)
            rend.append((time.perf_counter() - t0, r.log.timings))
            cpu.append(time.process_time() - c0)
            t0 = time.perf_counter()
            pipe.render(sc, EDIT, ss=1)
            rend1.append(time.perf_counter() - t0)
        med = {k: statistics.median(t[k] for t in prep) for k in prep[0]}
        rmed = {k: statistics.median(t[1][k] for t in rend) for k in rend[0][1]}
        total = statistics.median(t[0] for t in rend)
        rows.append((label, sc.cam.width, sc.cam.height, med, rmed, total, statistics.median(rend1),
                     r.invented_fraction, statistics.median(cpu)))
    print(f"## Timings (median of {repeats}; edit = yaw 20°, tx 0.3; selection = one click, GrabCut)\n")
    print("| resolution | size | selection | depth | fill | lift | reproject | cracks+occl. | composite | "
          "render total | render CPU s | render ss=1 (baseline) | ratio ss2/ss1 | invented |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for label, w, h, med, rmed, total, base, inv, cpu_s in rows:
        print(f"| {label} | {w}×{h} | {med['selection']:.3f} | {med['depth']:.3f} | {med['fill']:.3f} | "
              f"{med['lift']:.3f} | {rmed['reproject']:.3f} | {rmed['cracks+occlusion']:.3f} | "
              f"{rmed['composite']:.3f} | {total:.3f} | {cpu_s:.3f} | {base:.3f} | {total / base:.2f} | {inv:.2%} |")
    print(f"\n(wall-clock seconds; load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)\n")


def spearman(depth: np.ndarray, disp: np.ndarray, valid: np.ndarray, step: int = 2) -> float:
    sub = valid[::step, ::step]
    rho = spearmanr(depth[::step, ::step][sub], 1.0 / disp[::step, ::step][sub]).statistic
    return float(rho)


def depth_agreement() -> None:
    from backend.registry import get_registry

    rgb = np.asarray(Image.open(DATA / "motorcycle_left.png").convert("RGB"))
    disp = np.load(DATA / "motorcycle_disp.npz")["arr_0"].astype(np.float64)
    valid = np.isfinite(disp) & (disp > 0)
    H, W = disp.shape
    cam = Camera.from_fov(W, H, 55)
    settings = SceneSettings()
    rows = []
    proxy = ProxyDepth()
    d0 = ProxyDepth(auto=False, snap=False).estimate(rgb, None, cam, settings).depth
    rows.append(("classical proxy, no selection (ground plane only)", spearman(d0, disp, valid)))
    rows.append(("classical proxy, no selection (default: automatic main object; edge snapping off)",
                 spearman(proxy.estimate(rgb, None, cam, settings).depth, disp, valid)))
    seg = GrabCutSegmenter()
    seg.set_image(rgb)
    mask = seg.predict((), box=(150, 90, 720, 480))  # around the motorcycle
    d1 = proxy.estimate(rgb, mask, cam, settings).depth
    rows.append((f"classical proxy, motorcycle selected by GrabCut box ({mask.mean():.0%} of pixels)",
                 spearman(d1, disp, valid)))
    reg = get_registry()
    for name in reg.entries("depth"):
        if name.name == "depth-proxy":
            continue
        ok, why = reg.availability(name.name)
        if not ok:
            why = why.replace(str(Path(__file__).resolve().parent.parent) + "/", "./")  # no machine paths in docs
            rows.append((f"{name.name}: not measured ({why})", float("nan")))
            continue
        est = reg.get(name.name)
        rows.append((f"{name.name} (model)", spearman(est.estimate(rgb, None, cam, settings).depth, disp, valid)))
    rng = np.random.default_rng(0)
    vy, vx = np.nonzero(valid)
    gt_depth = 1.0 / np.where(valid, disp, np.nan)
    for k in (5, 20, 100):
        idx = rng.choice(len(vy), k, replace=False)
        hints = [DepthHint(float(vx[i]), float(vy[i]), float(gt_depth[vy[i], vx[i]])) for i in idx]
        aligned = align_to_hints(d1, hints)
        flat = align_to_hints(np.ones_like(d1), hints)
        rows.append((f"proxy + {k} user hints (kNN-WLS, hints from ground truth)", spearman(aligned, disp, valid)))
        rows.append((f"{k} user hints alone (kNN-WLS on a flat prior)", spearman(flat, disp, valid)))
    print("## Depth agreement: Spearman ρ(depth, 1/disparity) on the Middlebury motorcycle pair "
          f"({valid.mean():.0%} of {W}×{H} pixels valid)\n")
    print("| depth source | Spearman ρ |")
    print("|---|---|")
    for label, rho in rows:
        print(f"| {label} | {'n/a' if np.isnan(rho) else f'{rho:.3f}'} |")
    print()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    try:
        import torch

        torch.set_num_threads(1)
    except Exception:
        pass
    timings(args.repeats)
    depth_agreement()


if __name__ == "__main__":
    main()
