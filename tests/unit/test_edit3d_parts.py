"""Stage-level tests: depth proxy and hint alignment, GrabCut, fills, exports, history replay, CLI."""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import skimage
from PIL import Image

from backend.edit3d import exports
from backend.edit3d.depth import ProxyDepth, align_to_hints, fit_scale_shift, ground_plane
from backend.edit3d.fill import ClassicalFiller
from backend.edit3d.geometry import Camera
from backend.edit3d.history import replay
from backend.edit3d.params import DepthHint, EditParams, SceneSettings, Selection
from backend.edit3d.select import GrabCutSegmenter, check_mask, refine_mask

COFFEE = Path(skimage.__file__).parent / "data" / "coffee.png"


def test_ground_plane_gets_farther_towards_the_horizon():
    cam = Camera.from_fov(64, 48, 55)
    z = ground_plane(cam, 0.3, 1.5)
    col = z[:, 10]
    assert np.all(np.diff(col[20:]) < 0)  # below the horizon: lower rows are nearer
    assert np.isfinite(z).all() and (z > 0).all()


def test_proxy_object_stands_at_its_contact_row_and_bulges():
    cam = Camera.from_fov(80, 60, 55)
    mask = np.zeros((60, 80), bool)
    mask[20:50, 30:50] = True
    d = ProxyDepth().estimate(np.zeros((60, 80, 3), np.uint8), mask, cam, SceneSettings(thickness=0.5))
    assert d.depth[mask].max() == pytest.approx(d.background[49, 40], rel=0.02)
    assert d.depth[35, 40] < d.depth[21, 31]  # centre nearer than the rim
    assert np.array_equal(d.depth[~mask], d.background[~mask])


def test_hint_alignment_recovers_scale_and_shift():
    rng = np.random.default_rng(0)
    rel = rng.uniform(0.5, 2.0, (30, 40))  # relative disparity from "a model"
    true_depth = 1.0 / (0.4 * rel + 0.1)
    hints = [DepthHint(x, y, float(true_depth[y, x])) for x, y in [(3, 3), (35, 4), (20, 15), (5, 26), (36, 27)]]
    aligned = align_to_hints(1.0 / rel, hints)
    assert np.allclose(aligned, true_depth, rtol=1e-6)
    one = align_to_hints(1.0 / rel, hints[:1])  # one hint: scale only, exact at the hint
    assert one[3, 3] == pytest.approx(true_depth[3, 3])
    with pytest.raises(ValueError, match="positive"):
        align_to_hints(1.0 / rel, [DepthHint(1, 1, -2.0)])
    s, t = fit_scale_shift(rel.ravel(), (0.4 * rel + 0.1).ravel())
    assert s == pytest.approx(0.4) and t == pytest.approx(0.1)


def test_hint_alignment_is_local():
    """Two regions with different scales: kNN weighting keeps each region's own fit."""
    rel = np.ones((20, 60))
    hints = [DepthHint(2, 2, 1.0), DepthHint(2, 17, 1.0), DepthHint(57, 2, 4.0), DepthHint(57, 17, 4.0)]
    out = align_to_hints(1.0 / rel, hints, k=2)
    assert out[10, 3] == pytest.approx(1.0, rel=1e-3) and out[10, 56] == pytest.approx(4.0, rel=1e-3)


def test_grabcut_finds_a_disc_on_a_real_texture():
    bg = np.asarray(Image.open(Path(skimage.__file__).parent / "data" / "grass.png").convert("RGB").resize((160, 120)))
    yy, xx = np.mgrid[0:120, 0:160]
    disc = (yy - 60) ** 2 + (xx - 80) ** 2 < 30 ** 2
    img = bg.copy()
    img[disc] = [200, 40, 40]
    g = GrabCutSegmenter()
    g.set_image(img)
    m = g.predict([(80, 60, 1)])
    iou = (m & disc).sum() / (m | disc).sum()
    assert iou > 0.9, iou
    mb = g.predict((), box=(45, 25, 115, 95))
    assert (mb & disc).sum() / (mb | disc).sum() > 0.9
    with pytest.raises(ValueError, match="Click on the object"):
        g.predict([(5, 5, 0)])


def test_mask_refinement_and_limits():
    m = np.zeros((50, 50), bool)
    m[20:30, 20:30] = True
    grown = refine_mask(m, dilate_px=2)
    assert grown.sum() > m.sum()
    painted = refine_mask(m, brush_add=[(5, 5, 3)], brush_remove=[(25, 25, 2)])
    assert painted[5, 5] and not painted[25, 25]
    with pytest.raises(ValueError, match="No object"):
        check_mask(np.zeros((50, 50), bool))
    with pytest.raises(ValueError, match="covers"):
        check_mask(np.ones((50, 50), bool))


@pytest.mark.parametrize("method", ["telea", "ns", "biharmonic", "texture", "exemplar", "sized"])
def test_fills_only_touch_the_hole(method):
    img = np.asarray(Image.open(COFFEE).convert("RGB").resize((150, 100)))
    hole = np.zeros((100, 150), bool)
    hole[30:60, 40:90] = True
    out = ClassicalFiller(method=method).fill(img, hole)
    assert np.array_equal(out[~hole], img[~hole])
    assert not np.array_equal(out[hole], img[hole])
    with pytest.raises(ValueError, match="Unknown fill"):
        ClassicalFiller(method="magic")


def test_exemplar_fill_copies_texture_into_a_wide_hole():
    """On a periodic texture the exemplar fill restores the hole far better than a smooth fill
    (held-out figures: docs/edit3d.md, bench/edit3d_fill.py)."""
    yy, xx = np.mgrid[0:90, 0:120]
    stripes = ((np.sin(xx / 2.0) > 0) * 200 + 30).astype(np.uint8)
    img = np.dstack([stripes] * 3)
    hole = np.zeros((90, 120), bool)
    hole[30:60, 45:75] = True
    err = {m: np.abs(ClassicalFiller(method=m).fill(img, hole)[hole].astype(float) - img[hole]).mean()
           for m in ("telea", "exemplar")}
    assert err["exemplar"] < 0.3 * err["telea"]
    # "sized": a medium hole (14×14 ≤ 2 % of the image) gets exemplar patches, this large one Navier-Stokes
    sized = ClassicalFiller(method="sized")
    assert np.array_equal(sized.fill(img, hole), ClassicalFiller(method="ns").fill(img, hole))
    mid = np.zeros((90, 120), bool)
    mid[40:54, 50:64] = True
    assert np.array_equal(sized.fill(img, mid), ClassicalFiller(method="exemplar").fill(img, mid))


def test_history_replay_undo_redo_and_branching():
    def e(yaw):
        return {"action": "edit", "params": EditParams(yaw=yaw).to_dict()}

    st = replay([e(10), e(20), {"action": "undo", "params": {}}])
    assert st.current["params"]["yaw"] == 10 and st.can_redo
    st = replay([e(10), e(20), {"action": "undo", "params": {}}, {"action": "redo", "params": {}}])
    assert st.current["params"]["yaw"] == 20 and not st.can_redo
    st = replay([e(10), e(20), {"action": "undo", "params": {}}, e(30)])  # a new edit drops the redo tail
    assert [s["params"]["yaw"] for s in st.states] == [0, 10, 30] and not st.can_redo
    st = replay([{"action": "undo", "params": {}}])
    assert st.cursor == 0 and not st.can_undo


def test_params_round_trip_through_dicts():
    s = Selection(points=((1.0, 2.0, 1), (3.0, 4.0, 0)), box=(1, 2, 3, 4), dilate_px=2)
    assert Selection.from_dict(json.loads(json.dumps(s.to_dict()))) == s
    ss = SceneSettings(hints=(DepthHint(1, 2, 3),), fov_deg=40)
    assert SceneSettings.from_dict(ss.to_dict()) == ss
    assert EditParams.from_dict({"yaw": 3, "unknown": 1}) == EditParams(yaw=3)


@pytest.fixture(scope="module")
def small_edit():
    from backend.edit3d.depth import ProxyDepth
    from backend.edit3d.pipeline import Edit3DPipeline

    pipe = Edit3DPipeline(GrabCutSegmenter(), ProxyDepth(), ClassicalFiller())
    sc = pipe.prepare(Image.open(COFFEE).convert("RGB"), Selection(box=(70, 8, 485, 392)), max_side=200)
    return pipe, sc, pipe.render(sc, EditParams(yaw=20, tx=0.2))


def test_exports_are_valid_files(small_edit, tmp_path):
    import trimesh

    pipe, sc, r = small_edit
    paths = exports.write_all(sc, r, tmp_path, full_size=(600, 400))
    assert set(exports.OUTPUT_FILES) <= set(paths)
    gm = np.asarray(Image.open(paths["guide_mask.png"]))
    assert set(np.unique(gm)) == {0, 128, 255}
    d = Image.open(paths["depth.png"])
    assert d.mode.startswith("I") and d.size == (200, 133)
    meta = json.loads(Path(paths["transform.json"]).read_text())
    assert meta["invented_fraction"] == pytest.approx(r.invented_fraction, abs=1e-5)
    assert np.array(meta["T"]).shape == (4, 4) and meta["intrinsics"]["width"] == 200
    assert Image.open(paths["coarse_rgba.png"]).mode == "RGBA"
    mesh = trimesh.load(paths["object.glb"], force="mesh")
    assert len(mesh.faces) > 100
    gif = Image.open(io.BytesIO(exports.turntable_gif(pipe, sc, r.params, frames=3, max_side=64)))
    assert gif.n_frames == 4


def test_cli_writes_every_output(tmp_path, capsys):
    from backend.edit3d.edit import main

    rc = main(["--image", str(COFFEE), "--point", "300,240", "--yaw", "20", "--tx", "0.2", "--preview",
               "--out", str(tmp_path)])
    assert rc == 0
    for f in ("edited.png", "guide.png", "guide_mask.png", "depth.png", "transform.json", "object.glb"):
        assert (tmp_path / f).is_file(), f
    assert "invented_fraction" in json.loads((tmp_path / "transform.json").read_text())
    with pytest.raises(SystemExit, match="4 comma-separated"):
        main(["--image", str(COFFEE), "--box", "1,2", "--out", str(tmp_path)])
    rc = main(["--image", str(tmp_path / "missing.png"), "--point", "1,1", "--out", str(tmp_path)])
    assert rc == 2 and "not found" in capsys.readouterr().err


def test_brush_only_selection_and_eraser():
    from backend.edit3d.depth import ProxyDepth
    from backend.edit3d.pipeline import Edit3DPipeline

    pipe = Edit3DPipeline(GrabCutSegmenter(), ProxyDepth(), ClassicalFiller())
    img = Image.open(COFFEE).convert("RGB")
    sc = pipe.prepare(img, Selection(brush_add=((300, 200, 60),), brush_remove=((300, 200, 10),)), max_side=300)
    s = sc.scale
    assert sc.mask[int(200 * s), int(340 * s)] and not sc.mask[int(200 * s), int(300 * s)]


def test_cli_auto_fill_is_the_apps_default(tmp_path, monkeypatch):
    """`--fill auto` (the CLI default) uses the same background fill as the app (`sized`), not the old `texture`."""
    import backend.edit3d.edit as cli
    from backend.edit3d.params import SceneSettings

    seen: dict = {}

    def spy(**kw):
        seen.update(kw)
        return SceneSettings(**kw)

    monkeypatch.setattr(cli, "SceneSettings", spy)
    assert cli.main(["--image", str(COFFEE), "--point", "300,240", "--preview", "--out", str(tmp_path)]) == 0
    assert seen["fill"] == SceneSettings().fill == "sized"
