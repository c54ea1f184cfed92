"""The style judge's selection (svg12): the registered rule on hand-made numbers and on the committed measurement,
the feature blocks on hand-made icons, the side-by-side table on hand-made rows, and the shipped judge pinned to its
committed genuine held-out accuracy."""
from __future__ import annotations

import json

import numpy as np
import pytest

from backend.config import REPO_ROOT
from backend.svg.offline import judge_features as jf
from backend.svg.offline import judge_switch as js
from backend.svg.offline import legibility_eval as ev
from bench import svg_judge_select as sel

SVG = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path fill="currentColor" fill-rule="evenodd" '
       'd="M4 4h16v16H4z M8 8v8h8V8z"/><path d="M2 12h20" stroke="currentColor" stroke-width="2" fill="none"/></svg>')


def cand(mix, overall, by):
    return {"mix": mix, "overall": overall, "by_target": by, "s_per_icon": 0.01}


def test_rule_on_hand_made_numbers():
    base = cand(0.80, 0.84, {"a": 0.50, "b": 0.90})
    r = sel.adoption({"C0 current": base, "gain": cand(0.83, 0.84, {"a": 0.56, "b": 0.90})})
    assert r["adopted"] == "gain" and r["changed"]
    r = sel.adoption({"C0 current": base, "small": cand(0.829, 0.9, {"a": 0.6, "b": 0.9})})
    assert r["adopted"] == "C0 current" and not r["changed"] and r["failed"]["small"]  # gain under 3 points
    r = sel.adoption({"C0 current": base, "drop": cand(0.90, 0.9, {"a": 0.95, "b": 0.86})})
    assert not r["changed"] and "b 0.860 vs 0.900" in r["failed"]["drop"][0]  # a target style loses 4 points
    r = sel.adoption({"C0 current": base, "wide": cand(0.90, 0.82, {"a": 0.9, "b": 0.9})})
    assert not r["changed"]  # 23-style accuracy down 2 points
    slow = {**cand(0.95, 0.9, {"a": 0.9, "b": 0.95}), "s_per_icon": 0.6}
    assert not sel.adoption({"C0 current": base, "slow": slow})["changed"]
    r = sel.adoption({"C0 current": base, "x": cand(0.86, 0.84, {"a": 0.7, "b": 0.9}),
                      "y": cand(0.86, 0.85, {"a": 0.7, "b": 0.9}), "z": cand(0.85, 0.9, {"a": 0.7, "b": 0.9})})
    assert r["adopted"] == "x" and r["eligible"] == ["x", "y", "z"]  # tie at the mix: the earlier candidate


def test_feature_blocks_on_a_hand_made_icon():
    raw = jf.raw_blocks([SVG], ("M", "I", "H"))
    assert np.array_equal(raw["M"][0], ev.features(SVG))
    assert raw["I"].shape == (1, 29) and raw["I"][0, -1] == 1.0  # the filled path's even-odd share
    assert raw["H"].shape == (1, 576) and raw["H"].max() > 0
    with pytest.raises(ValueError):
        jf.Featurizer(("M", "X"))
    assert jf.Featurizer(("M", "I")).fit(raw).transform(raw).shape == (1, raw["M"].shape[1] + 29)


def test_side_by_side_counts_on_hand_made_rows():
    def row(st, new, old):
        return {"condition": "retrieval + restyle", "target_style": st, "style": new, "style_prev_judge": old}

    r0 = {"rows": [row("a/x", True, False), row("a/x", True, True), row("b/y", False, True)]}
    r1 = {"rows": [row("b/y", True, True), {"condition": "retrieved, unmodified", "target_style": "a/x"}]}
    s = js.judge_switch([r0, r1])
    assert (s["n"], s["new"], s["prev"]) == (4, 3, 3)
    assert s["by_style"]["a/x"] == {"n": 2, "new": 2, "prev": 1} and s["by_style"]["b/y"] == {"n": 2, "new": 1, "prev": 2}
    assert js.judge_switch([{"rows": [{"condition": "retrieval + restyle", "target_style": "a/x", "style": True}]}]) is None


def test_committed_selection_follows_its_rule_and_protocol():
    res = json.loads(sel.OUT.read_text())
    proto = json.loads(sel.PROTOCOL.read_text())
    assert list(res["candidates"]) == list(sel.CANDIDATES) == list(proto["candidates"])
    assert res["decision"] == sel.adoption(res["candidates"])
    for name, c in res["candidates"].items():
        assert c["test_icons"] == 2825 and c["train_icons"] == 11611
        blocks, params = sel.CANDIDATES[name]
        assert c["blocks"] == list(blocks) and c["params"] == params
        assert c["mix"] == pytest.approx(np.mean(list(c["by_target"].values())), abs=1e-3)
    # the baseline reproduces the judge the reports used before svg12
    rep = json.loads(ev.REPORT.read_text())
    before = rep.get("style_classifier_prev", rep["style_classifier"])
    c0 = res["candidates"]["C0 current"]
    assert c0["overall"] == before["real_heldout_acc"] and c0["by_target"] == before["real_heldout_acc_by_style"]


def test_shipped_judge_is_the_adopted_candidate_and_its_genuine_accuracy_is_pinned():
    res = json.loads(sel.OUT.read_text())
    name = res["decision"]["adopted"]
    blocks, params = sel.CANDIDATES[name]
    assert (ev.JUDGE_BLOCKS, ev.JUDGE_PARAMS) == (blocks, params)
    c = res["candidates"][name]
    rep = json.loads(ev.REPORT.read_text())
    sc = rep["style_classifier"]
    assert sc["real_heldout_acc"] == pytest.approx(c["overall"], abs=0.002)
    for st, acc in c["by_target"].items():
        assert sc["real_heldout_acc_by_style"][st] == pytest.approx(acc, abs=0.002)
    lines = "\n".join(js.selection_lines(res))
    assert name in lines and ("adopted" in lines) == res["decision"]["changed"]
    assert (REPO_ROOT / "README.md").read_text().count("Choosing the style judge") >= 1
