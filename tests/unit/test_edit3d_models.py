"""Model adapters with tiny random weights built in a temp dir (no hub, no real checkpoints):
SAM via SamPredictor, transformers depth-estimation, diffusers inpainting fill and refine."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from backend.edit3d.depth import TransformersDepth
from backend.edit3d.geometry import Camera
from backend.edit3d.params import EditParams, SceneSettings, Selection
from backend.registry import ModelEntry, Registry
from tests.unit.edit3d_tiny import tiny_depth_anything, tiny_sam, tiny_sd_inpaint


def _rgb(h=48, w=64, seed=0):
    return (np.random.default_rng(seed).random((h, w, 3)) * 255).astype(np.uint8)


def test_sam_adapter_runs_sampredictor_on_a_tiny_model():
    from backend.edit3d.select import SamSegmenter

    seg = SamSegmenter(sam_model=tiny_sam())
    seg.set_image(_rgb())
    m = seg.predict([(30, 20, 1), (5, 5, 0)])
    assert m.shape == (48, 64) and m.dtype == bool
    with pytest.raises(ValueError, match="Click on the object"):
        seg.predict(())


def test_sam_checkpoint_missing_is_reported(tmp_path):
    reg = Registry([ModelEntry("sam-vit-b", "segmentation", "checkpoint", "backend.edit3d.select:SamSegmenter",
                               path=str(tmp_path / "sam_vit_b_01ec64.pth"))])
    ok, why = reg.availability("sam-vit-b")
    assert not ok and "not found" in why


@pytest.fixture(scope="module")
def depth_dir(tmp_path_factory):
    return tiny_depth_anything(tmp_path_factory.mktemp("da"))


def test_transformers_depth_loads_local_weights_and_is_scaled(depth_dir):
    entry = ModelEntry("depth-anything-v2-small", "depth", "checkpoint", "backend.edit3d.depth:TransformersDepth",
                       path=str(depth_dir))
    ok, _ = TransformersDepth.check_available(entry)
    assert ok
    est = TransformersDepth(entry, "cpu")
    rgb = _rgb(60, 80)
    mask = np.zeros((60, 80), bool)
    mask[20:40, 30:50] = True
    res = est.estimate(rgb, mask, Camera.from_fov(80, 60, 55), SceneSettings())
    assert res.depth.shape == (60, 80) and np.isfinite(res.depth).all() and (res.depth > 0).all()
    assert res.source == "model:depth-anything-v2-small"


def test_transformers_depth_in_the_pipeline(depth_dir):
    from backend.edit3d.fill import ClassicalFiller
    from backend.edit3d.pipeline import Edit3DPipeline
    from backend.edit3d.select import GrabCutSegmenter

    pipe = Edit3DPipeline(GrabCutSegmenter(), TransformersDepth(path=str(depth_dir)), ClassicalFiller())
    img = Image.fromarray(_rgb(60, 80))
    mask = np.zeros((60, 80), bool)
    mask[15:45, 25:55] = True
    sc = pipe.prepare(img, Selection(), mask=mask, max_side=80)
    assert sc.log.stages["depth"].startswith("model:")
    assert pipe.render(sc, EditParams(yaw=10)).image.shape == (60, 80, 3)


@pytest.fixture(scope="module")
def sd_dir(tmp_path_factory):
    return tiny_sd_inpaint(tmp_path_factory.mktemp("sd"))


def test_diffusers_refine_one_step_keeps_untouched_pixels(sd_dir):
    from backend.edit3d.fill import DiffusersRefiner

    entry = ModelEntry("sd-refine", "refine", "checkpoint", "backend.edit3d.fill:DiffusersRefiner", path=str(sd_dir))
    ok, _ = DiffusersRefiner.check_available(entry)
    assert ok
    ref = DiffusersRefiner(entry, "cpu")
    rgb = _rgb(40, 56)
    gm = np.ones((40, 56), np.float32)
    gm[10:20, 10:30] = 0.0
    gm[20:30, 10:30] = 0.5
    out = ref.refine(rgb, gm, steps=1, seed=0, strength=1.0)
    assert out.shape == rgb.shape
    assert np.array_equal(out[gm == 1], rgb[gm == 1])
    assert not np.array_equal(out[gm < 1], rgb[gm < 1])
    with pytest.raises(ValueError, match="steps"):
        ref.refine(rgb, gm, steps=0)


def test_diffusers_inpaint_as_filler(sd_dir):
    from backend.edit3d.fill import DiffusersInpaint

    fill = DiffusersInpaint(path=str(sd_dir), steps=1)
    rgb = _rgb(40, 56, seed=1)
    hole = np.zeros((40, 56), bool)
    hole[12:24, 20:36] = True
    out = fill.fill(rgb, hole, seed=3)
    grown = np.zeros_like(hole)
    grown[9:27, 17:39] = True  # the filler grows the hole by 3 px (7×7 dilation)
    assert np.array_equal(out[~grown], rgb[~grown])


def test_missing_diffusers_weights_say_what_is_missing(tmp_path):
    from backend.edit3d.fill import DiffusersRefiner

    ok, why = DiffusersRefiner.check_available(ModelEntry("x", "refine", "checkpoint", "m:f", path=str(tmp_path)))
    assert not ok and "model_index.json" in why
