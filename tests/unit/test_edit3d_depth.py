"""The image-aware default depth pins its quality on scenes with ground truth (issue 19)."""
from __future__ import annotations

import numpy as np
from PIL import Image

from backend.edit3d.depth import ProxyDepth
from backend.edit3d.geometry import Camera
from backend.edit3d.params import SceneSettings
from bench.edit3d_depth import DATA, SCENES, render_scene, spearman


def _motorcycle():
    rgb = np.asarray(Image.open(DATA / "motorcycle_left.png").convert("RGB"))
    disp = np.load(DATA / "motorcycle_disp.npz")["arr_0"].astype(np.float64)
    valid = np.isfinite(disp) & (disp > 0)
    return rgb, 1.0 / np.where(valid, disp, 1.0), valid


def test_motorcycle_without_selection_meets_target():
    rgb, gt, valid = _motorcycle()
    cam = Camera.from_fov(rgb.shape[1], rgb.shape[0], 55)
    st = SceneSettings()
    plane = ProxyDepth(auto=False).estimate(rgb, None, cam, st)
    auto = ProxyDepth().estimate(rgb, None, cam, st)
    assert "automatic main object" in auto.source
    assert spearman(plane.depth, gt, valid, step=4) < 0.66
    assert spearman(auto.depth, gt, valid, step=4) >= 0.75


def test_rendered_scene_depth_is_exact_and_popup_helps():
    img, depth, obj = render_scene(SCENES["rendered: centred box"], W=270, H=180)
    assert obj.mean() > 0.02 and np.isfinite(depth).all()
    # the box's front face is at z = 5 exactly
    assert abs(np.median(depth[obj]) - 5.0) < 0.6
    cam = Camera.from_fov(270, 180, 55)
    st = SceneSettings()
    ok = np.ones_like(obj)
    plane = spearman(ProxyDepth(auto=False).estimate(img, None, cam, st).depth, depth, ok)
    auto = spearman(ProxyDepth().estimate(img, None, cam, st).depth, depth, ok)
    assert auto > plane


def test_selection_keeps_object_depth_unfiltered():
    rgb, _, _ = _motorcycle()
    cam = Camera.from_fov(rgb.shape[1], rgb.shape[0], 55)
    mask = np.zeros(rgb.shape[:2], bool)
    mask[200:450, 150:700] = True
    d = ProxyDepth(snap=True).estimate(rgb, mask, cam, SceneSettings())
    assert d.source.endswith("selected object as billboard")
    assert np.allclose(d.depth[~mask], d.background[~mask])
