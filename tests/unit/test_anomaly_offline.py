"""Build-time pieces of the anomaly feature: the committed photo split, natural changes, the held-out benchmark."""
from __future__ import annotations

import json

import numpy as np

from backend.anomaly import dataset
from backend.anomaly.offline import changes, heldout, pairs, split


def test_committed_split_matches_the_code_and_keeps_evaluation_photos_out():
    assert json.loads(split.SPLIT_FILE.read_text()) == json.loads(json.dumps(split.split_dict()))
    train = split.train_photos()
    assert train and not any(split.is_eval_only(p) for p in train)
    assert not any(p.name == "cell.png" or "gradio" in p.parts or "matplotlib" in p.parts for p in train)
    for name in split.EVAL_CLASSES:
        assert split.is_eval_only(split.eval_photo(name)), name


def test_validation_photos_are_their_own_role_and_training_refuses_them():
    import pytest

    classes, donors = split.validation_photos()
    val = list(classes.values()) + donors
    train = {p.resolve() for p in split.train_photos()}
    assert len(classes) == 3 and len(donors) == 2
    assert not any(p.resolve() in train or split.is_eval_only(p) for p in val)
    assert all(split.is_validation(p) for p in val) and not any(split.is_validation(p) for p in train)
    assert sum(n in {p.name for p in train} for n in ("astronaut.png", "rocket.jpg", "camera.png", "china.jpg")) == 4
    for bad in (classes["chelsea"], donors[0], split.eval_photo("lion")):
        with pytest.raises(RuntimeError, match="cannot train"):
            split.check_trainable([*sorted(train)[:2], bad])


def test_changes_are_local_and_masks_mark_only_visible_change():
    rng = np.random.default_rng(0)
    img = changes.crop_square(np.random.default_rng(1).random((300, 300, 3)).astype(np.float32), 128, rng)
    for kind in changes.TRAIN_CHANGES + changes.EVAL_CHANGES:
        after, alpha = changes.apply(kind, img, np.random.default_rng(2), donor=img[::-1])
        m = changes.visible_mask(img, after, alpha)
        assert after.shape == img.shape and m.dtype == bool, kind
        assert np.abs(after - img).max(axis=2)[alpha < 0.01].max() < 0.011, kind  # (almost) nothing changes outside
        assert 0 < m.mean() < 0.3, kind
    assert not set(changes.EVAL_CHANGES) - {"patch", "recolour", "smudge", "scratch", "removal"}


def test_groups_share_the_prompt_and_clean_queries_have_empty_masks():
    for i in range(6):
        prompt, items = pairs.make_group(np.random.default_rng([4, i]), 64, None, n_queries=4)
        assert prompt.shape == (64, 64, 3) and prompt.dtype == np.uint8
        for item in items:
            q, m = item[0], item[1]
            assert q.shape == (64, 64, 3) and m.shape == (64, 64) and set(np.unique(m)) <= {0, 1}
    a = pairs.make_group(np.random.default_rng([9, 9]), 64, None)
    b = pairs.make_group(np.random.default_rng([9, 9]), 64, None)
    assert np.array_equal(a[0], b[0]) and all(np.array_equal(x[0], y[0]) for x, y in zip(a[1], b[1], strict=False))


def test_heldout_benchmark_layout(tmp_path):
    meta = heldout.generate(tmp_path, seed=3, n_prompts=1, n_good=1, n_per_kind=1, size=64, classes=["lion", "cell"])
    assert dataset.list_classes(tmp_path) == ["cell", "lion"]
    train, test = dataset.load_class(tmp_path, "lion")
    assert len(train) == 1 and {s.defect for s in test} == {"good", *changes.EVAL_CHANGES}
    for s in test:
        assert dataset.read_mask(s, (64, 64)).any() == bool(s.label), s.path
    assert meta["never_in_training"] == ["smudge", "scratch"]


def test_docs_tables_are_generated_from_the_committed_report():
    from backend.anomaly import engines
    from backend.anomaly.offline import report

    rep = json.loads(report.REPORT.read_text())
    block = f"{report.BEGIN}\n{report.tables(rep)}\n{report.END}"
    for f in (report.REPO / "README.md", report.REPO / "docs" / "anomaly.md"):
        assert block in f.read_text(), f
    assert engines.default_role() == report.winner(rep)  # the inspector's default follows the evidence
    speed = f"{report.SPEED_BEGIN}\n{report.speed_text(json.loads(report.SPEED.read_text()))}\n{report.SPEED_END}"
    for f in (report.REPO / "README.md", report.REPO / "docs" / "anomaly.md"):
        assert speed in f.read_text(), f
    assert not split.is_eval_only(split.train_photos()[0]) and "gradio" in json.dumps(rep["benchmark"]["classes"])


def test_shipped_checkpoint_and_score_mode_are_the_ones_chosen_on_validation_photos():
    """The checkpoint and its image-score aggregation ship as chosen by score_validation.json, whose photos are
    the validation photos of the committed split (never trained on; the held-out benchmark never picks them)."""
    import pytest

    from backend.anomaly.knn import image_score
    from backend.anomaly.metauas_engine import MetaUASEngine
    from backend.anomaly.offline import score_validation, split

    rep = json.loads(score_validation.OUT.read_text())
    assert MetaUASEngine.score_mode == rep["chosen"] == max(rep["mean"], key=rep["mean"].get)
    names = set(rep["classes"].values()) | set(rep["donors"])
    assert not any(n.startswith(("gradio:", "matplotlib:")) or n.endswith("cell.png") for n in names)
    val = {f"{p}:{r}" for p, r in [*split.VALIDATION_CLASSES.values(), *split.VALIDATION_DONORS]}
    assert rep["rule_version"] == 2 and names == val  # the validation split, none of them a training photo
    assert not names & {f"skimage:{p}" for p in split.TRAIN_PHOTOS["skimage"]}
    ship = rep["candidates"][rep["chosen_checkpoint"]]
    assert ship["eligible"] and not ship["trained_on_validation_photos"] and ship["speed"]["map_ratio"] <= 1.0
    assert ship["best_mean"] == max(c["best_mean"] for c in rep["candidates"].values() if c["eligible"])
    import hashlib

    from backend.anomaly.offline.score_validation import REPO
    digest = [hashlib.sha256((REPO / f).read_bytes()).hexdigest()
              for f in (rep["chosen_checkpoint"], "static/anomaly/metauas_lite0.pt")]
    assert digest[0] == digest[1]  # what ships is what the rule chose
    m = np.zeros((100, 100), np.float32)
    m[0, :10] = 1.0  # 10 hot pixels: max 1, top 0.1% (10 px) mean 1, top 1% (100 px) mean 0.1
    assert image_score(m, "max") == 1.0 and image_score(m, "top0.1p") == 1.0
    assert image_score(m, "top1p") == pytest.approx(0.1)
    with pytest.raises(ValueError):
        image_score(m, "median")


def test_report_class_groups_are_class_means_of_their_own_classes():
    from backend.anomaly.offline import report

    pc = {"a": {"i_auroc": 90.0, "p_ap": 40.0}, "b": {"i_auroc": 70.0, "p_ap": 20.0}, "c": {"i_auroc": 50.0, "p_ap": 0.0}}
    rep = {"benchmark": {"parts": {"fresh": {"classes": ["c"]}, "old": {"classes": ["a", "b"]}}},
           "results": {"metauas": {"correct": {"per_class": pc}}}}
    g = report.subsets(rep)["metauas"]["correct"]
    assert g["fresh"] == {"i_auroc": 50.0, "p_ap": 0.0} and g["old"] == {"i_auroc": 80.0, "p_ap": 30.0}
    assert g["all"] == {"i_auroc": 70.0, "p_ap": 20.0}
    assert report.subsets({"benchmark": {}, "results": {}}) == {}  # a v1 benchmark has no groups


def test_committed_v2_report_follows_protocol_v3_and_the_docs_tables_come_from_json():
    """The reported held-out benchmark is v2 (5 old + 3 fresh classes, as pre-registered), its class-group means are
    the class means of its own per-class figures, and the validation table in the docs is generated from the
    committed score_validation.json."""
    from backend.anomaly.offline import report, score_validation

    rep = json.loads(report.REPORT.read_text())
    proto = json.loads((report.REPO / "static" / "anomaly" / "protocol_v3.json").read_text())
    b = rep["benchmark"]
    assert b["version"] == 2 and rep["benchmark_protocol"] == "static/anomaly/protocol_v3.json"
    assert rep["protocol"] == "static/anomaly/protocol_v5.json"  # the current report is protocol v5's one run
    v4 = json.loads((report.REPO / "static" / "anomaly" / "previous" / "heldout_report_v4.json").read_text())
    assert v4["protocol"] == "static/anomaly/protocol_v4.json" and v4["benchmark"]["parts"] == b["parts"]
    v3 = json.loads((report.REPO / "static" / "anomaly" / "previous" / "heldout_report_v3.json").read_text())
    assert v3["protocol"] == "static/anomaly/protocol_v3.json" and v3["benchmark"]["parts"] == b["parts"]
    assert b["parts"]["old"]["classes"] == split.HELDOUT_V2["old"]["classes"]
    assert b["parts"]["fresh"]["classes"] == list(split.FRESH_CLASSES) and b["parts"]["fresh"]["seed"] == 18
    assert sorted(rep["results"]["metauas"]["correct"]["classes"]) == sorted(b["classes"])
    assert rep["subsets"] == report.subsets(rep)
    sv = json.loads(score_validation.OUT.read_text())
    assert list(sv["candidates"]) == [c["path"] for c in proto["candidates_in_order"]]
    docs = (report.REPO / "docs" / "anomaly.md").read_text()
    assert score_validation.table(sv) in docs and report.subset_table(rep) in docs
    assert report.posthoc_table(rep) in docs  # post-hoc rows come from committed candidates/*/heldout_v2_*.json
