"""Held-out benchmark v3 (protocol v7): the pre-registration names evaluation-only photos only, the split and the
generator follow it, the committed report covers every engine × prompt mode, the bootstrap reproduces it, and the
docs/README blocks are exactly what the generator makes from the committed JSON."""
from __future__ import annotations

import json

import pytest

from backend.anomaly.offline import heldout_v3 as h3
from backend.anomaly.offline import photos, split

PROTOCOL = json.loads(h3.PROTOCOL.read_text())
SPLIT = json.loads(split.SPLIT_FILE.read_text())


def _v3_photo_names() -> list[str]:
    return [n for _, n in split.V3_CLASSES.values()]


def test_protocol_v7_photos_are_all_evaluation_only_and_in_no_training_or_validation_list():
    classes = PROTOCOL["photos"]["classes"]
    assert list(classes) == list(split.V3_CLASSES) == split.HELDOUT_V3["classes"]
    for cls, name in zip(classes, _v3_photo_names(), strict=True):
        p = photos.WHEEL_PHOTOS[name]
        assert p.role == "eval" and p.member in classes[cls] and p.sha256 in classes[cls]
        assert name in SPLIT["eval_wheel_photos"] and SPLIT["eval_wheel_photos"][name]["sha256"] == p.sha256
        for role in ("train_wheel_photos", "validation_wheel_photos"):
            assert name not in SPLIT[role] and p.sha256 not in json.dumps(SPLIT[role])
        assert p.package not in SPLIT["train"] and p.member.rsplit("/", 1)[-1] not in json.dumps(SPLIT["train"])
        assert p.member.rsplit("/", 1)[-1] not in json.dumps(SPLIT["validation"])
    # donors: evaluation-only too, never a training or validation photo
    for pkg, rel in split.V3_DONORS:
        assert (pkg == "wheel" and photos.WHEEL_PHOTOS[rel].role == "eval") or pkg in split.EVAL_ONLY_PACKAGES
    assert len(PROTOCOL["photos"]["donors"]) == len(split.V3_DONORS)
    # the generator's settings are the registered ones
    b, v3 = PROTOCOL["benchmark"], split.HELDOUT_V3
    assert (b["seed"], b["per_class"]["prompts"], b["per_class"]["good"], b["per_class"]["per_defect_kind"]) == (
        v3["seed"], v3["prompts"], v3["good"], v3["per_defect_kind"]) == (31, 3, 12, 6)
    assert SPLIT["heldout_v3"] == split.split_dict()["heldout_v3"]


def test_committed_v3_report_covers_every_engine_and_mode_and_the_bootstrap_reproduces_it():
    rep, ci, v2 = h3.load()
    assert rep["benchmark"]["version"] == 3 and rep["benchmark"]["seed"] == 31 and rep["protocol"].endswith("v7.json")
    assert sorted(rep["benchmark"]["classes"]) == sorted(split.V3_CLASSES)
    assert rep["benchmark"]["per_class"] == {"prompts": 3, "good": 12, "per_defect_kind": 6}
    assert len(rep["benchmark"]["defect_kinds"]) == 5
    for e in ("metauas", "knn", "ensemble"):
        assert set(rep["results"][e]) == {"correct", "swapped", "none"}
        for r in rep["results"][e].values():
            assert sorted(r["per_class"]) == sorted(split.V3_CLASSES)
    assert set(rep["results"]["metauas-untrained"]) == {"correct"}
    assert ci["report"] == "static/anomaly/heldout_v3/report.json" and ci["resamples"] == 10000
    for e in ("metauas", "knn", "ensemble"):
        for m in ("i_auroc", "p_ap"):
            r = ci["engines"][e][m]
            assert r["point"] == pytest.approx(rep["results"][e]["correct"]["mean"][m], abs=0.1)
            assert r["ci"][0] <= r["point"] <= r["ci"][1]
    assert v2["benchmark"]["version"] == 2  # the v2 report is a different file, never overwritten by v3


def test_docs_and_readme_blocks_equal_what_the_generator_makes_from_the_committed_json():
    rep, ci, v2 = h3.load()
    docs = (h3.REPO / "docs" / "anomaly.md").read_text()
    readme = (h3.REPO / "README.md").read_text()
    assert f"{h3.BEGIN}\n{h3.table(rep, ci, v2)}\n{h3.END}" in docs
    assert f"{h3.SUM_BEGIN}\n{h3.summary(rep, ci, v2)}\n{h3.SUM_END}" in readme
    v = h3.verdicts(rep, ci, v2)
    assert v["default"] == "ensemble"  # the inspector's default (engines.default_role's rule on the v2 report)
    assert v["bar_i_auroc_holds"] == (rep["results"]["ensemble"]["correct"]["mean"]["i_auroc"] >= 90.0)
    word = "holds" if v["bar_i_auroc_holds"] else "does not hold"
    assert f"I-AUROC ≥ 90 bar {word} on v3" in docs and f"**{word}** on v3" in readme


def test_verdicts_follow_the_issue_bars_on_a_made_up_report():
    def res(i, p):
        return {"mean": {"i_auroc": i, "p_ap": p}}

    rep = {"results": {"metauas": {"correct": res(91, 40), "swapped": res(60, 15)},
                       "knn": {"correct": res(80, 36), "swapped": res(50, 2)},
                       "ensemble": {"correct": res(89.99, 45), "swapped": res(55, 5)}}}
    eng = {e: {"i_auroc": {"ci": [80, 95]}} for e in ("metauas", "knn", "ensemble")}
    ci = {"engines": eng, "paired_differences": {"metauas-knn:p_ap": {"ci": [1, 7]}}, "p_ensemble_i_auroc_ge_90": 0.4}
    v2 = {"results": {"ensemble": {"correct": res(87.2, 46.1)}, "metauas": {"correct": res(86, 42)},
                      "knn": {"correct": res(76, 24)}}}
    v = h3.verdicts(rep, ci, v2)
    assert v["default"] == "ensemble" and not v["bar_i_auroc_holds"]  # 89.99 < 90
    assert v["metauas_knn_p_ap_gap"] == 4 and not v["gap_bar_met"]
    assert v["swap_drop"]["metauas"] == 25 and v["swap_bar_met"] and v["v2_default"] == (87.2, 46.1)
