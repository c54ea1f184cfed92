"""The 3D edit pipeline on a real photo (scikit-image's coffee, CC0): identity, translation,
untouched pixels, round trip, honest hole reporting and bad-input messages."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage
from PIL import Image

from backend.edit3d.depth import ProxyDepth
from backend.edit3d.fill import ClassicalFiller
from backend.edit3d.geometry import apply, lift, transform_matrix
from backend.edit3d.params import EditParams, SceneSettings, Selection
from backend.edit3d.pipeline import HALO_PX, Edit3DPipeline
from backend.edit3d.select import GrabCutSegmenter

COFFEE = Path(skimage.__file__).parent / "data" / "coffee.png"


def psnr(a, b) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


@pytest.fixture(scope="module")
def pipe():
    return Edit3DPipeline(GrabCutSegmenter(), ProxyDepth(), ClassicalFiller())


@pytest.fixture(scope="module")
def scene(pipe):
    img = Image.open(COFFEE).convert("RGB")
    return pipe.prepare(img, Selection(points=((300, 240, 1),)), SceneSettings(), max_side=320)


def test_selection_is_a_plausible_object(scene):
    frac = scene.mask.mean()
    assert 0.1 < frac < 0.7, frac  # the cup (and saucer), not nothing and not the whole table
    ys, xs = np.nonzero(scene.mask)
    s = scene.scale
    assert scene.mask[int(240 * s), int(300 * s)]


def test_identity_reproduces_the_photo(pipe, scene):
    r = pipe.render(scene, EditParams())
    assert psnr(r.image, scene.rgb) >= 40
    assert r.invented_fraction < 0.001
    assert set(np.unique(r.guide_mask)) <= {0.5, 1.0}


def _shift(mask, dx, dy):
    out = np.zeros_like(mask)
    H, W = mask.shape
    out[max(0, dy):H + min(0, dy), max(0, dx):W + min(0, dx)] = \
        mask[max(0, -dy):H - max(0, dy), max(0, -dx):W - max(0, dx)]
    return out


def test_translation_moves_the_silhouette(pipe, scene):
    ys, xs = np.nonzero(scene.mask)
    z_edge = float(np.median(scene.depth.depth[scene.mask & ~cv2.erode(scene.mask.astype(np.uint8),
                                                                        np.ones((3, 3))).astype(bool)]))
    dx, dy = 24, -10
    r = pipe.render(scene, EditParams(tx=dx * z_edge / scene.cam.f, ty=dy * z_edge / scene.cam.f, harmonize=0))
    new = r.guide_mask == 0.5
    want = _shift(scene.mask, dx, dy)
    iou = (new & want).sum() / (new | want).sum()
    assert iou >= 0.9, iou
    assert r.invented_fraction > 0.005  # the uncovered strip is reported, not hidden


def test_pixels_outside_old_and_new_masks_are_untouched(pipe, scene):
    r = pipe.render(scene, EditParams(yaw=20, tx=0.25, roll=5))
    new = r.guide_mask == 0.5
    k = 2 * (HALO_PX + 3) + 1
    se = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    union = cv2.dilate((scene.mask | new).astype(np.uint8), se) > 0
    assert (~union).sum() > 0.2 * union.size
    assert np.array_equal(r.image[~union], scene.rgb[~union])
    assert np.array_equal(r.guide_mask[~union], np.ones((~union).sum(), np.float32))


def test_round_trip_on_lifted_points(scene):
    p = EditParams(yaw=33, pitch=-12, roll=7, tx=0.4, ty=-0.2, tz=0.9, scale=1.3, mirror=True)
    T = transform_matrix(p, scene.centroid)
    P = lift(scene.u, scene.v, scene.z, scene.cam)
    back = apply(np.linalg.inv(T), apply(T, P))
    assert np.allclose(back, P, atol=1e-9)
    rigid = transform_matrix(EditParams(yaw=33, tx=0.4), scene.centroid)
    assert np.allclose(np.linalg.det(rigid[:3, :3]), 1.0)


def test_turning_reports_invented_pixels_and_warns(pipe, scene):
    r = pipe.render(scene, EditParams(yaw=45))
    assert r.invented_fraction > 0
    assert any("out-of-plane" in w for w in r.warnings)
    assert set(np.unique(r.guide_mask)) == {0.0, 0.5, 1.0}
    assert (r.rgba[..., 3] == 0).sum() == r.invented.sum()


def test_leaving_the_frame_is_refused(pipe, scene):
    with pytest.raises(ValueError, match="leaves the frame"):
        pipe.render(scene, EditParams(tx=100.0))
    with pytest.raises(ValueError, match="leaves the frame"):
        pipe.render(scene, EditParams(tz=-50.0))


def test_bad_selections_have_clear_messages(pipe):
    img = Image.open(COFFEE).convert("RGB")
    with pytest.raises(ValueError, match="No object is selected"):
        pipe.prepare(img, Selection(), max_side=128)
    with pytest.raises(ValueError, match="covers"):
        pipe.prepare(img, Selection(), max_side=128, uploaded_mask=np.full((400, 600), 255, np.uint8))
    with pytest.raises(ValueError, match="No object"):
        pipe.prepare(img, Selection(), max_side=128, uploaded_mask=np.zeros((400, 600), np.uint8))
    with pytest.raises(ValueError, match="at least 32"):
        pipe.prepare(img.resize((20, 14)), Selection(points=((5, 5, 1),)))


def test_grey_and_rgba_inputs_work(pipe):
    img = Image.open(COFFEE).convert("L").convert("RGBA")
    from backend.imageio import open_image

    rgb = open_image(img)
    sc = pipe.prepare(rgb, Selection(box=(70, 8, 485, 392)), max_side=160)
    assert pipe.render(sc, EditParams(roll=10)).image.shape == (107, 160, 3)


def test_full_resolution_uses_preview_mask(pipe, scene):
    img = Image.open(COFFEE).convert("RGB")
    full = pipe.prepare(img, Selection(), max_side=None, mask=scene.mask, mask_label="preview mask")
    assert full.rgb.shape == (400, 600, 3) and full.log.stages["selection"] == "preview mask"
    small = cv2.resize(full.mask.astype(np.uint8), scene.mask.shape[::-1], interpolation=cv2.INTER_NEAREST) > 0
    assert (small == scene.mask).mean() > 0.98
