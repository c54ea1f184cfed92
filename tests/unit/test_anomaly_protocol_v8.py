"""Protocol v8 (pair recipes, device-trained): the committed candidates are the registered runs, the committed result
follows the pre-registered rule, the shipped checkpoint is what the rule says, and the docs/README blocks are
generated from the committed JSON."""
from __future__ import annotations

import json

import numpy as np
import torch

from backend.anomaly.offline import candidates_common as cc
from backend.anomaly.offline import candidates_v6 as c6
from backend.anomaly.offline import candidates_v8 as c8
from tests.unit.protocol_runs import device_runs

RES = json.loads(c8.OUT.read_text())


def test_every_registered_candidate_was_trained_by_the_device_run_with_its_recipe():
    seen = []
    for name, recipe, meta, row in device_runs(c8, RES, c8.CANDIDATES):
        assert meta["recipe"] == c8.RECIPES[recipe].describe() == row["recipe"]
        assert "--device cuda" in meta["command"] and "--minutes 6.5" in meta["command"]
        assert "chelsea.png" not in meta["photos"] and len(meta["photos"]) == 26
        seen.append(name)
    assert tuple(seen) == c8.CANDIDATES
    for name in c8.CONTROLS:
        assert RES["controls"][name]["recipe"] == c8.pairs.DEFAULT_RECIPE.describe()
        assert RES["controls"][name]["training"]["step"] == cc.checkpoint_meta(c6.FOLDER / name / "metauas_lite0.pt")["step"]


def test_the_same_run_reproduces_protocol_v6s_figures_for_S_and_the_controls():
    rep = RES["reproduction"]
    assert rep == c8.reproduction(RES["shipped_S"], RES["controls"])
    assert rep["within_0.01"] and rep["max_abs_diff"] <= 0.01


def test_means_and_selection_follow_the_preregistered_rule():
    sel = RES["selection"]
    assert sel == c8.select(RES["candidates"], RES["controls"], RES["shipped_S"])
    ctrl = sel["controls"]["ensemble_i_auroc"]
    assert abs(ctrl - np.mean([RES["controls"][n]["ensemble"]["i_auroc"] for n in c8.CONTROLS])) < 0.006
    for r, v in sel["recipes"].items():
        vals = [RES["candidates"][f"{r}_s{s}"]["ensemble"]["i_auroc"] for s in c8.SEEDS]
        assert abs(v["ensemble_i_auroc"] - np.mean(vals)) < 0.006
        assert v["checks"]["1_recipe_gain"]["pass"] == (v["ensemble_i_auroc"] - ctrl >= c8.RECIPE_GAIN - 1e-9)
        if v["pass"]:
            pick = RES["candidates"][v["checks"]["3_recipe_pick"]["pick"]]
            assert pick["ensemble"]["i_auroc"] >= RES["shipped_S"]["ensemble"]["i_auroc"] + 1.0 - 1e-9
    assert RES["rule"] == {"recipe_gain": 1.0, "recipe_pap_slack": 2.0, "pick_gain": 1.0, "pap_slack": 2.0,
                           "metauas_i_auroc_slack": 1.0}


def test_the_shipped_checkpoint_follows_the_outcome():
    shipped = torch.load(c6.SHIPPED, map_location="cpu", weights_only=False)
    s = RES["shipped_S"]["training"]
    if RES["selection"]["chosen"] is None:
        assert shipped["meta"]["seed"] == s["seed"] and shipped["meta"]["step"] == s["step"]
        assert not (c8.FOLDER / "heldout_v3_report.json").exists()  # no look without a passing recipe


def test_descriptive_breakdown_counts_every_defect_once():
    for r in [RES["shipped_S"], *RES["controls"].values(), *RES["candidates"].values()]:
        for e in ("metauas", "ensemble"):
            assert set(r[e]["per_kind"]) == set(c8.KINDS)
            assert sum(r[e]["by_area"]["n"]) == 6 * 8 * len(c8.KINDS)


def test_docs_blocks_are_generated_from_the_committed_json():
    docs = (c8.REPO / "docs" / "anomaly.md").read_text()
    readme = (c8.REPO / "README.md").read_text()
    assert f"{c8.BEGIN}\n{c8.table(RES)}\n{c8.END}" in docs
    assert f"{c8.SUM_BEGIN}\n{c8.summary_line(RES)}\n{c8.SUM_END}" in readme


def test_breakdown_scores_each_kind_against_the_goods_and_bins_defects_by_visible_area():
    kinds = np.array(["good"] * 4 + list(c8.KINDS))
    maps = np.zeros((len(kinds), 16, 16), np.float32)
    masks = np.zeros_like(maps, dtype=bool)
    for i, v in enumerate([0.1, 0.2, 0.3, 0.4]):  # goods
        maps[i] += v
    for j, (v, area) in enumerate(zip([0.9, 0.25, 0.05, 0.35, 0.4], [1, 2, 4, 10, 40], strict=True)):
        maps[4 + j] += v
        masks[4 + j].flat[:area] = True  # area fractions 0.4 %, 0.8 %, 1.6 %, 3.9 %, 15.6 %
    res = c8.breakdown({"x": maps}, {"x": {"kinds": kinds, "masks": masks}}, "max")
    assert res["per_kind"] == {"patch": 100.0, "recolour": 50.0, "smudge": 0.0, "scratch": 75.0, "removal": 87.5}
    assert res["by_area"]["n"] == [1, 1, 1, 1, 1]
    assert res["by_area"]["i_auroc"] == [100.0, 50.0, 0.0, 75.0, 87.5]
