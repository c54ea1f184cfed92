"""The protocol v13 DRAFT's scorer (backend/anomaly/offline/candidates_v13.py): the draft rule on hand-made figures
(ties pass), run names as the device script writes them, and the scoring glue on stubbed scores (no maps computed)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from backend.anomaly.offline import candidates_v13 as c13

REPO = Path(__file__).resolve().parents[2]


def row(v2: float, v3: float, pap: float = 60.0, meta: float = 87.0, meta_pap: float = 48.0) -> dict:
    """A checkpoint's score rows on both sets: every class of a set at the given I-AUROC."""
    def one(i_auroc, classes, ens=True):
        per = {c: {"i_auroc": i_auroc if ens else meta, "p_ap": pap if ens else meta_pap} for c in classes}
        return {"per_class": per, "i_auroc": i_auroc if ens else meta, "p_ap": pap if ens else meta_pap}
    v2c, v3c = [f"a{i}" for i in range(6)], [f"b{i}" for i in range(4)]
    return {"v2": {"ensemble": one(v2, v2c), "metauas": one(v2, v2c, False)},
            "v3": {"ensemble": one(v3, v3c), "metauas": one(v3, v3c, False)}}


def test_pooled_is_the_ten_class_mean():
    f = c13.figures(row(90.0, 80.0))
    assert f["ensemble"]["pooled"] == {"i_auroc": 86.0, "p_ap": 60.0}
    assert f["ensemble"]["v2"]["i_auroc"] == 90.0 and f["ensemble"]["v3"]["i_auroc"] == 80.0


def test_the_draft_rule_on_hand_made_figures():
    s = c13.figures(row(90.39, 89.38))
    controls = {n: c13.figures(row(90.5, 89.5)) for n in c13.names("lite1")[1]}
    # +1.0 exactly over the controls (ties pass), the best seed >= S + 1.0
    cands = {"lite1_s21": c13.figures(row(91.5, 90.5)), "lite1_s22": c13.figures(row(91.4, 90.4)),
             "lite1_s23": c13.figures(row(91.6, 90.6))}
    sel = c13.select(cands, controls, s)
    assert sel["passes"] and sel["chosen"] == "lite1_s23"
    assert sel["checks"]["1_group_gain"]["gain"] == 1.0
    # a P-AP loss beyond 2.0 fails the group
    worse = {n: c13.figures(row(91.5, 90.5, pap=57.9)) for n in cands}
    assert not c13.select(worse, controls, s)["passes"]
    # one set below the controls fails clause 3 even with the pooled gain
    lopsided = {n: c13.figures(row(93.5, 89.4)) for n in cands}
    sel = c13.select(lopsided, controls, s)
    assert sel["checks"]["1_group_gain"]["pass"] and not sel["checks"]["3_both_sets"]["pass"] and not sel["passes"]
    # the pick's guard: MetaUAS alone may not lose more than 2.0 P-AP against S
    guarded = {n: c13.figures(row(91.5, 90.5, meta_pap=45.9)) for n in cands}
    sel = c13.select(guarded, controls, s)
    assert sel["checks"]["4_pick"]["pick"] is None and "MetaUAS pooled P-AP" in sel["checks"]["4_pick"]["tried"][0]["why_not"]


def test_run_names_match_the_device_script():
    sh = (REPO / "backend" / "anomaly" / "offline" / "gpu_candidates_v13.sh").read_text()
    assert 'name="${enc}_s$2"' in sh and "enc=lite0" in sh
    cands, ctrls = c13.names("lite1")
    assert cands == ("lite1_s21", "lite1_s22", "lite1_s23") and ctrls == ("lite0_s21", "lite0_s22", "lite0_s23")
    assert tuple(int(s) for s in re.findall(r'"E (\d+)"', sh)) == c13.SEEDS


def test_run_glue_on_stubbed_scores(tmp_path, monkeypatch):
    folder = tmp_path / "runs"
    cands, ctrls = c13.names("lite2")
    for n in (*cands, *ctrls):
        (folder / n).mkdir(parents=True)
        (folder / n / f"metauas_{n.split('_')[0]}.pt").write_bytes(b"x")
    monkeypatch.setattr(c13.cc, "validation_v2", lambda d: ({"v2": ["a"]}, ["a"]))
    monkeypatch.setattr(c13.v11, "classes_of", lambda d: ["b"])
    monkeypatch.setattr(c13.c6, "training_meta", lambda ck: {"step": 1})
    seen = []

    def fake_score_set(data, classes, parts, checkpoints, progress=print):
        seen.append((classes, list(checkpoints)))
        st = "v2" if classes == ["a"] else "v3"
        base = {"v2": (90.39, 60.87), "v3": (89.38, 57.18)}[st]
        out = {}
        for n in checkpoints:
            bump = 2.0 if n.startswith("lite2") else (0.0 if n == "S" else 0.2)
            e = {"i_auroc": round(base[0] + bump, 2), "p_ap": base[1]}
            out[n] = {"ensemble": {**e, "per_class": {classes[0]: e}},
                      "metauas": {**e, "per_class": {classes[0]: e}}}
        return out

    monkeypatch.setattr(c13, "score_set", fake_score_set)
    res = c13.run("lite2", tmp_path / "v2", tmp_path / "v3", folder, tmp_path / "out.json", progress=lambda *_: None)
    assert [s[0] for s in seen] == [["a"], ["b"]] and seen[0][1] == ["S", *cands, *ctrls]
    assert res["reproduction"]["all_within_0.01"] and res["selection"]["passes"]
    assert res["selection"]["chosen"] == "lite2_s21"  # all tie: the seed order decides
    assert json.loads((tmp_path / "out.json").read_text())["candidate_encoder"] == "lite2"
    (folder / cands[0] / "metauas_lite2.pt").unlink()
    with pytest.raises(SystemExit, match="missing checkpoints"):
        c13.run("lite2", tmp_path / "v2", tmp_path / "v3", folder, tmp_path / "out.json")
