"""Protocol v5's normal-variation normalisation: the maths, and on a real photo a nuisance-only query is not
flagged at the prompt-calibrated thresholds while a real defect still is."""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from backend.anomaly import engines, inspector, service
from backend.anomaly import normal_variation as nvar
from backend.anomaly.engine_base import NVMemory
from backend.anomaly.nuisance import nuisance_view

torch.set_num_threads(1)
REPO = Path(__file__).resolve().parents[2]
DATA = Path(__import__("skimage").__file__).parent / "data"  # scikit-image data


def test_normalise_modes_and_the_shift_tolerance_of_the_nv_map():
    nv = nvar.nv_map([np.zeros((32, 32), np.float32)] * 2 + [np.pad(np.ones((1, 1), np.float32), ((10, 21), (10, 21)))],
                     radius=2)
    assert nv[12, 12] == 1 and nv[8, 8] == 1 and nv[13, 13] == 0  # max over views, then a 5×5 max filter
    m = np.full((32, 32), 0.6, np.float32)
    assert np.array_equal(nvar.normalise(m, nv, "none"), m) and np.array_equal(nvar.normalise(m, None, "sub"), m)
    sub = nvar.normalise(m, nv * 0.5, "sub")
    assert sub[12, 12] == pytest.approx(0.1) and sub[0, 0] == pytest.approx(0.6)
    rel = nvar.normalise(m, nv * 0.5, "rel")
    assert rel[12, 12] == pytest.approx(0.2) and rel[0, 0] == pytest.approx(0.6)
    assert nvar.normalise(m, nv, "sub").min() == 0.0  # clipped at 0
    with pytest.raises(ValueError):
        nvar.normalise(m, nv, "divide")
    a, b = nvar.nv_views(np.zeros((16, 16, 3), np.uint8), 2), nvar.nv_views(np.zeros((16, 16, 3), np.uint8), 2)
    assert len(a) == 2 and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))  # seeded


def _scene():
    photo = Image.open(DATA / "astronaut.png").convert("RGB").resize((256, 256))
    return photo


def _defect(img: Image.Image) -> Image.Image:
    arr = np.asarray(img).copy()
    donor = np.asarray(Image.open(DATA / "coins.png").convert("RGB").resize((256, 256)))
    arr[150:190, 40:80] = donor[100:140, 100:140]  # a foreign patch, 40×40 px
    return Image.fromarray(arr)


@pytest.mark.parametrize("role", ["knn", "metauas", "ensemble"])
def test_a_nuisance_only_query_is_ok_and_a_real_defect_is_ng_at_the_calibrated_defaults(role):
    prompt = _scene()
    nuisance = nuisance_view(prompt, np.random.default_rng(123))  # seed used by neither NV nor calibration
    bad = _defect(nuisance_view(prompt, np.random.default_rng(124)))
    th = inspector.calibrate_from_prompts([prompt], engine=role)
    (s_ok, s_bad), maps = inspector.score_images([prompt], [nuisance, bad], engine=role)
    assert s_ok < th.image <= s_bad, (s_ok, th.image, s_bad)
    assert maps[1][150:190, 40:80].mean() > 3 * maps[1][:100].mean()  # the map is hot where the defect is


def test_nv_discounts_the_prompts_own_variation_and_is_cached_with_the_memory():
    eng = engines.get("knn", 256)
    assert eng.nv_norm in nvar.MODES and eng.nv_norm != "none"
    prompt = _scene()
    mem = eng.memory(prompt, 256, "nv-test-prompt")
    assert isinstance(mem, NVMemory) and mem.nv.shape == (256, 256) and mem.nv.max() > 0
    assert eng.memory(prompt, 256, "nv-test-prompt") is mem  # computed once per prompt
    q = np.asarray(nuisance_view(prompt, np.random.default_rng(7)))
    raw, done = eng.raw_map(q, [mem.mem]), eng.map_square(q, [mem])
    assert np.allclose(done, nvar.normalise(raw, mem.nv, eng.nv_norm))
    assert done.max() < raw.max()  # the nuisance-only query is discounted


def test_shipped_map_settings_are_the_ones_protocol_v5_chose_on_validation_v2():
    res = json.loads((REPO / "static" / "anomaly" / "protocol_v5" / "validation.json").read_text())
    rows = {m["name"]: m for m in tomllib.loads((REPO / "models.toml").read_text())["models"]}
    sel = res["selection"]
    for role, name in (("metauas", "metauas-lite0"), ("knn", "knn-lite0")):
        c = sel[role]["chosen"]["config"]
        assert (rows[name].get("nv_norm", "none"), rows[name].get("nv_radius", 0), rows[name].get("score", "max")) \
            == (c["norm"], c["radius"], c["agg"]), role
        assert c.get("sigma", 0.0) == 0.0  # a σ > 0 was a candidate, but no engine option exists for it: not chosen
    e = sel["ensemble"]["chosen"]["config"]
    ens = rows["anomaly-ensemble"]
    assert ens["weights"]["metauas"] == e["w_metauas"] and ens.get("score", "max") == e["agg"]
    assert engines.KNN_CALIBRATION == e["knn_calibration"]
    assert service.inspect  # the settings reach the engines through the registry (engines.get)
    assert engines.get("metauas", 256).score_mode == sel["metauas"]["chosen"]["config"]["agg"]


def test_committed_selection_follows_the_preregistered_rule():
    """validation.json's choices are what protocol v5's rule gives on its own recorded figures, validation v2 is
    the pre-registered set (no training, no evaluation-only photo) and the docs table is generated from it."""
    from backend.anomaly.offline import levers, levers_tables, split

    res = json.loads(levers.OUT.read_text())
    proto = json.loads((REPO / "static" / "anomaly" / "protocol_v5.json").read_text())
    assert res["protocol"] == "static/anomaly/protocol_v5.json" and proto["selection_rule"]
    assert res["validation_v2"]["parts"] == {"v1": list(split.VALIDATION_CLASSES), "new": list(split.VALIDATION_V2_NEW)}
    for name in split.VALIDATION_WHEEL_PHOTOS:
        assert split.is_validation(split.wheel_photos.local_path(name))
        with pytest.raises(RuntimeError, match="cannot train"):
            split.check_trainable([split.wheel_photos.local_path(name)])
    assert not set(split.VALIDATION_WHEEL_PHOTOS) & (set(split.TRAIN_WHEEL_PHOTOS) | set(split.EVAL_WHEEL_PHOTOS))
    for e, sel in res["selection"].items():
        d, c = sel["default"], sel["chosen"]
        best = max(r["i_auroc"] for r in res["all_configs"][e])
        assert c["i_auroc"] == best or not sel["changed"]
        if sel["changed"]:
            assert c["i_auroc"] >= d["i_auroc"] + levers.MIN_GAIN and c["p_ap"] >= d["p_ap"] - levers.PAP_SLACK
        else:
            assert best < d["i_auroc"] + levers.MIN_GAIN
    sp = [t["speed"] for t in res["selection"]["metauas"]["tried"] if "speed" in t]
    assert not res["selection"]["metauas"]["changed"] or sp[-1]["map_score_ratio"] <= levers.SPEED_BAR
    assert levers_tables.table(res) in (REPO / "docs" / "anomaly.md").read_text()
