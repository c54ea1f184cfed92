"""How well the classical default depth orders depth, on scenes with ground truth (issue 19).

Scenes:
1. scikit-image's Middlebury-2014 motorcycle stereo pair: ground truth = 1/disparity.
2. Two rendered scenes with exact depth (`render_scene`): a pinhole camera 1.5 units above a
   textured ground plane, pitched so the horizon sits at 35 % of the height (the app's default),
   a textured back wall, and textured upright boxes standing on the ground — "centred" (one box
   in the middle) and "off-centre" (two boxes, neither central, where the central-box object
   proposal should help less). Textures are scikit-image's gravel, brick and grass photos.

Each depth source is scored by Spearman ρ against the ground truth over valid pixels, with no
selection and with the object selected (GrabCut box on the motorcycle; the true object mask on
the rendered scenes). Rows are an ablation: plane only → + automatic object → + edge snapping.

    python bench/edit3d_depth.py            # writes static/edit3d/eval/depth.json, updates docs
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import skimage  # noqa: E402
from scipy import ndimage  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402

from backend.edit3d.depth import ProxyDepth  # noqa: E402
from backend.edit3d.geometry import Camera  # noqa: E402
from backend.edit3d.params import SceneSettings  # noqa: E402
from backend.edit3d.select import GrabCutSegmenter  # noqa: E402
from bench.docs_tables import update_docs  # noqa: E402

DATA = Path(skimage.__file__).parent / "data"
OUT = ROOT / "static" / "edit3d" / "eval" / "depth.json"
VARIANTS = {  # label → ProxyDepth switches
    "ground plane only (before issue 19)": dict(auto=False, snap=False),
    "+ automatic main object (default)": dict(auto=True, snap=False),
    "+ automatic main object + guided-filter edge snapping (not default)": dict(auto=True, snap=True),
}


def _texture(name: str) -> np.ndarray:
    a = np.asarray(Image.open(DATA / name).convert("RGB"), np.float32)
    return a


def _sample(tex: np.ndarray, u: np.ndarray, v: np.ndarray, scale: float) -> np.ndarray:
    """Tile a texture over world coordinates (u, v) at `scale` texels per unit."""
    h, w = tex.shape[:2]
    iu = np.mod(np.floor(u * scale).astype(np.int64), w)
    iv = np.mod(np.floor(v * scale).astype(np.int64), h)
    return tex[iv, iu]


def render_scene(boxes: list[tuple[float, float, float, float, str]], W: int = 540, H: int = 360,
                 fov: float = 55.0, cam_h: float = 1.5, wall_z: float = 14.0, horizon: float = 0.35):
    """Ray-cast an RGB image, its exact depth (camera z) and the boxes' mask.

    boxes: (x_centre, z_front, width, height, texture) — upright boxes standing on the ground,
    1.0 unit deep. Camera at (0, −cam_h, 0) looking along +z (y down), pitched so that the
    horizon is at row `horizon`·H."""
    cam = Camera.from_fov(W, H, fov)
    pitch = np.arctan((cam.cy - horizon * H) / cam.f)  # looking down by this angle
    u, v = np.meshgrid(np.arange(W, dtype=np.float64), np.arange(H, dtype=np.float64))
    d_cam = np.stack([(u - cam.cx) / cam.f, (v - cam.cy) / cam.f, np.ones_like(u)], -1)
    c, s = np.cos(pitch), np.sin(pitch)
    R = np.array([[1, 0, 0], [0, c, s], [0, -s, c]])  # camera → world (rotation about x)
    d = d_cam @ R.T
    o = np.array([0.0, -cam_h, 0.0])
    t_best = np.full((H, W), np.inf)
    rgb = np.zeros((H, W, 3), np.float32)
    obj = np.zeros((H, W), bool)
    gravel, brick = _texture("gravel.png"), _texture("brick.png")

    def hit(t, colour, is_obj=False):
        nonlocal t_best
        better = (t > 1e-6) & (t < t_best)
        rgb[better] = colour[better]
        obj[better] = is_obj
        t_best = np.where(better, t, t_best)

    with np.errstate(divide="ignore", invalid="ignore"):
        t = (0.0 - o[1]) / d[..., 1]  # ground y = 0
        p = o + t[..., None] * d
        hit(np.where(d[..., 1] > 0, t, np.inf), np.dstack([_sample(gravel, p[..., 0], p[..., 2], 40.0)[..., :1]] * 3)
            * 0.9 + np.array([12, 8, 0], np.float32))
        t = (wall_z - o[2]) / d[..., 2]  # back wall z = wall_z
        p = o + t[..., None] * d
        hit(np.where(d[..., 2] > 0, t, np.inf), _sample(brick, p[..., 0], p[..., 1], 60.0)[..., :1].repeat(3, -1)
            * np.array([1.0, 0.75, 0.6], np.float32))
        for xc, zf, bw, bh, texname in boxes:
            tex = _texture(texname)
            side_x = xc - bw / 2 if xc > 0 else xc + bw / 2  # the side face the camera sees
            faces = [("z", zf, (xc - bw / 2, xc + bw / 2)), ("x", side_x, (zf, zf + 1.0))]
            for axis, val, (a0, a1) in faces:
                k = 2 if axis == "z" else 0
                t = (val - o[k]) / d[..., k]
                p = o + t[..., None] * d
                along = p[..., 0] if axis == "z" else p[..., 2]
                inside = (along >= a0) & (along <= a1) & (p[..., 1] <= 0) & (p[..., 1] >= -bh)
                shade = 1.0 if axis == "z" else 0.7
                hit(np.where(inside, t, np.inf), _sample(tex, along, p[..., 1], 150.0) * shade, True)
    depth = t_best  # d_cam has unit z, so the ray parameter is the camera-frame depth
    light = np.clip(1.2 - 0.04 * depth, 0.5, 1.0)[..., None]  # a little aerial perspective
    return np.clip(rgb * light, 0, 255).astype(np.uint8), depth.astype(np.float64), obj


SCENES = {
    "rendered: centred box": [(0.0, 5.0, 1.6, 1.2, "coffee.png")],
    "rendered: two off-centre boxes": [(-1.6, 4.0, 1.0, 0.9, "chelsea.png"), (1.8, 7.0, 1.4, 1.8, "astronaut.png")],
}


def spearman(pred: np.ndarray, gt_depth: np.ndarray, valid: np.ndarray, step: int = 2) -> float:
    sub = valid[::step, ::step]
    return float(spearmanr(pred[::step, ::step][sub], gt_depth[::step, ::step][sub]).statistic)


def evaluate() -> dict:
    settings = SceneSettings()
    scenes = []
    rgb = np.asarray(Image.open(DATA / "motorcycle_left.png").convert("RGB"))
    disp = np.load(DATA / "motorcycle_disp.npz")["arr_0"].astype(np.float64)
    valid = np.isfinite(disp) & (disp > 0)
    gt = 1.0 / np.where(valid, disp, 1.0)
    seg = GrabCutSegmenter()
    seg.set_image(rgb)
    scenes.append(("Middlebury motorcycle (stereo ground truth)", rgb, gt, valid,
                   seg.predict((), box=(150, 90, 720, 480)), "GrabCut box around the motorcycle"))
    for name, boxes in SCENES.items():
        img, depth, obj = render_scene(boxes)
        if name.endswith("two off-centre boxes"):  # select the nearer box, as a user would
            lab, _ = ndimage.label(obj)
            near = lab[np.unravel_index(np.argmin(np.where(obj, depth, np.inf)), obj.shape)]
            obj = lab == near
        scenes.append((name, img, depth, np.isfinite(depth), obj, "true mask of the (nearer) box"))
    out = {"metric": "Spearman rho(depth, ground-truth depth) over valid pixels (every 2nd pixel)",
           "horizon": settings.horizon, "fov_deg": settings.fov_deg, "scenes": []}
    for name, img, gt_depth, ok, sel, sel_how in scenes:
        H, W = gt_depth.shape
        cam = Camera.from_fov(W, H, settings.fov_deg)
        rows = []
        for label, kw in VARIANTS.items():
            t0 = time.perf_counter()
            d = ProxyDepth(**kw).estimate(img, None, cam, settings)
            rows.append({"source": label, "selection": "none", "rho": round(spearman(d.depth, gt_depth, ok), 4),
                         "seconds": round(time.perf_counter() - t0, 3), "how": d.source})
        d = ProxyDepth().estimate(img, sel, cam, settings)
        rows.append({"source": "object selected (ground plane + billboard; unchanged by issue 19)",
                     "selection": sel_how, "rho": round(spearman(d.depth, gt_depth, ok), 4), "how": d.source})
        out["scenes"].append({"scene": name, "size": [W, H], "valid_fraction": round(float(ok.mean()), 4),
                              "rows": rows})
        Image.fromarray(img).save(OUT.parent / f"{name.split(':')[-1].strip().replace(' ', '_')}.png") \
            if name.startswith("rendered") else None
    out["load_average"] = round(os.getloadavg()[0], 1)
    return out


def table(res: dict) -> str:
    lines = ["| scene | depth source | selection | Spearman ρ |", "|---|---|---|---|"]
    for sc in res["scenes"]:
        for r in sc["rows"]:
            lines.append(f"| {sc['scene']} | {r['source']} | {r['selection']} | {r['rho']:.3f} |")
    return "\n".join(lines)


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    res = evaluate()
    OUT.write_text(json.dumps(res, indent=1) + "\n")
    print(table(res))
    update_docs()


if __name__ == "__main__":
    main()
