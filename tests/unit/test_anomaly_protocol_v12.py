"""Protocol v12 (static/anomaly/protocol_v12.json): a Lite2 encoder for the ensemble's kNN member, one configuration."""
from __future__ import annotations

import hashlib
import json
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from backend import embedded
from backend.anomaly import engines
from backend.anomaly.knn import KnnEngine

REPO = Path(__file__).resolve().parents[2]
PROTOCOL = json.loads((REPO / "static" / "anomaly" / "protocol_v12.json").read_text())
RESULT = REPO / "static" / "anomaly" / "protocol_v12" / "validation.json"


def test_the_protocol_registers_one_configuration_and_the_rule():
    cfg = PROTOCOL["configuration"]
    assert cfg["name"] == "knn_lite2" and cfg["blocks"]["lite2"] == [6, 14] and cfg["strides"] == [8, 16]
    assert "round(0.30 * P_X / P_lite0, 3)" in cfg["calibration"] and "TRAINING photo" in cfg["calibration"]
    rule = PROTOCOL["rule"]["pass_if"]
    assert "+ 1.0" in rule and "- 2.0" in rule and "validation v2 AND on validation v3" in rule
    gate = PROTOCOL["if_it_passes"]["becomes_default_only_if"]
    assert "86.39" in gate and "50.10" in gate and "NOT default" in PROTOCOL["if_it_passes"]["models_toml"]
    for variant, (_, _, sha) in embedded.LITE_WEIGHTS.items():  # the registered weights are the loader's
        assert PROTOCOL["encoders"][variant.split("-")[1]]["sha256"] == sha


@pytest.mark.parametrize("cls, channels", [(embedded.Lite2Encoder, (48, 120)), (embedded.Lite1Encoder, (40, 112))])
def test_the_packaged_weights_load_strictly_with_the_registered_strides(cls, channels):
    path = embedded.lite_weights_path(cls.variant)
    assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == embedded.LITE_WEIGHTS[cls.variant][2]
    enc = cls()
    file_sd = torch.load(path, map_location="cpu", weights_only=True)
    assert set(enc.model.state_dict()) == set(file_sd)
    assert torch.equal(enc.model.state_dict()["_conv_stem.weight"], file_sd["_conv_stem.weight"])
    assert list(cls.knn_blocks) == PROTOCOL["configuration"]["blocks"][cls.variant.split("-")[1]]
    feats = enc.features(torch.zeros(1, 3, 256, 256), blocks=cls.knn_blocks)
    assert [tuple(feats[b].shape) for b in cls.knn_blocks] == [(1, channels[0], 32, 32), (1, channels[1], 16, 16)]
    # the next block after each level changes the stride (the LAST block of the stride-8 / stride-16 stage)
    nxt = enc.features(torch.zeros(1, 3, 256, 256), blocks=tuple(b + 1 for b in cls.knn_blocks))
    assert [nxt[b + 1].shape[-1] for b in cls.knn_blocks] == [16, 8]
    knn = KnnEngine(types.SimpleNamespace(options={}), encoder=enc)
    f, hw = knn.patch_features(np.zeros((256, 256, 3), np.uint8))
    assert hw == (32, 32) and f.shape == (1024, sum(channels))


def test_a_wrong_weights_file_or_a_missing_key_is_refused(monkeypatch):
    mod, cls, sha = embedded.LITE_WEIGHTS["efficientnet-lite2"]
    monkeypatch.setitem(embedded.LITE_WEIGHTS, "efficientnet-lite2", (mod, cls, "0" * 64))
    with pytest.raises(ValueError, match="sha256"):
        embedded.Lite2Encoder()
    monkeypatch.setitem(embedded.LITE_WEIGHTS, "efficientnet-lite2", (mod, cls, sha))
    real = torch.load

    def short(*a, **k):
        sd = real(*a, **k)
        sd.pop("_bn0.weight")
        return sd

    monkeypatch.setattr(embedded.torch, "load", short)
    with pytest.raises(RuntimeError, match="Missing key"):
        embedded.Lite2Encoder()


def test_the_lite0_knn_is_unchanged_and_a_member_calibration_is_used_by_fuse():
    assert embedded.Lite0Encoder.knn_blocks == (4, 10)
    meta = types.SimpleNamespace()
    own = types.SimpleNamespace(calibration=0.5)
    maps = {"metauas": np.full((2, 2), 0.2, np.float32), "knn": np.full((2, 2), 0.15, np.float32)}
    plain = engines.EnsembleEngine.of({"metauas": meta, "knn": types.SimpleNamespace()})
    assert np.allclose(plain.fuse(maps), 0.5 * 0.2 + 0.5 * 0.15 / engines.KNN_CALIBRATION)
    assert np.allclose(engines.EnsembleEngine.of({"metauas": meta, "knn": own}).fuse(maps), 0.5 * 0.2 + 0.5 * 0.3)
    assert engines.get("knn").calibration is None  # the shipped row names none: KNN_CALIBRATION


def test_a_knn_row_names_its_encoder_by_registry_entry():
    shipped = engines.get("knn")
    named = KnnEngine(types.SimpleNamespace(options={"encoder": "lite0-imagenet", "calibration": 0.25}))
    assert named.encoder is shipped.encoder and named.blocks == (4, 10) and named.calibration == 0.25
    ok, why = KnnEngine.check_available(types.SimpleNamespace(options={"encoder": "no-such-encoder"}))
    assert not ok and "no-such-encoder" in why


def test_the_rule_on_hand_made_numbers():
    from backend.anomaly.offline.levers_v12 import decide, pooled

    d = {"pooled": {"i_auroc": 90.0, "p_ap": 60.0}, "v2": {"i_auroc": 90.5, "p_ap": 61.0},
         "v3": {"i_auroc": 89.0, "p_ap": 58.0}}
    ok = {"pooled": {"i_auroc": 91.0, "p_ap": 58.0}, "v2": {"i_auroc": 90.5, "p_ap": 0}, "v3": {"i_auroc": 89.0, "p_ap": 0}}
    assert decide(d, ok)["passes"]  # every tie passes
    assert not decide(d, {**ok, "pooled": {"i_auroc": 90.99, "p_ap": 70.0}})["passes"]
    out = decide(d, {**ok, "pooled": {"i_auroc": 95.0, "p_ap": 57.99}})
    assert not out["passes"] and "P-AP" in out["why_not"] and out["gain_i_auroc"] == 5.0
    low = decide(d, {**ok, "v3": {"i_auroc": 88.99, "p_ap": 0}})
    assert not low["passes"] and "validation v3" in low["why_not"] and low["gain_v3"] == -0.01
    assert not decide(d, {**ok, "v2": {"i_auroc": 90.49, "p_ap": 0}})["passes"]
    two = {"per_class": {"a": {"i_auroc": 80.0, "p_ap": 10.0}, "b": {"i_auroc": 90.0, "p_ap": 20.0}}}
    one = {"per_class": {"c": {"i_auroc": 100.0, "p_ap": 60.0}}}
    assert pooled(two, one) == {"i_auroc": 90.0, "p_ap": 30.0}  # class mean over both sets, not a mean of set means


@pytest.mark.skipif(not RESULT.is_file(), reason="protocol v12 has not been run")
def test_the_committed_result_re_applies_the_rule_and_the_docs_come_from_it():
    from backend.anomaly.offline import levers_v12, levers_v12_tables
    from backend.docs_blocks import replace_block

    res = json.loads(RESULT.read_text())
    assert res["primary"] == "knn_lite2" and set(res["descriptive"]) == {"knn_lite1", "knn_lite2_c0.30"}
    cal = res["calibration"]
    assert cal["c"]["lite0"] == engines.KNN_CALIBRATION and cal["n_photos"] == 16
    for k, p in cal["P"].items():  # the ratio rule recomputes from the committed statistics
        assert abs(cal["c"][k] - round(0.30 * p / cal["P"]["lite0"], 3)) <= 0.0015
    for s, n_classes, queries in (("v2", 6, 360), ("v3", 4, 240)):
        st = res["sets"][s]
        assert len(st["classes"]) == n_classes and st["queries"] == queries
        c = st["configs"]["knn_lite2"]
        assert c["encoder"] == "lite2" and c["blocks"] == [6, 14] and c["calibration"] == cal["c"]["lite2"]
        assert c["knn_settings"] == st["D"]["settings"]["knn"]  # every map setting the shipped kNN's
    assert res["reproduction"]["all_within_0.01"]
    for n in ("D", "knn_lite2", "knn_lite1", "knn_lite2_c0.30"):
        assert res["pooled"][n] == levers_v12.figures(res, n)
    assert res["decision"] == levers_v12.decide(res["pooled"]["D"], res["pooled"]["knn_lite2"])
    look = REPO / "static" / "anomaly" / "protocol_v12" / "heldout_v3_report.json"
    assert look.is_file() == res["decision"]["passes"]  # no held-out look without the validation pass
    for path, b, e, body in ((REPO / "docs" / "anomaly.md", levers_v12_tables.BEGIN, levers_v12_tables.END,
                              levers_v12_tables.table),
                             (REPO / "README.md", levers_v12_tables.SUM_BEGIN, levers_v12_tables.SUM_END,
                              levers_v12_tables.summary_line)):
        text = path.read_text()
        assert replace_block(text, b, e, body(res), required=True, where=str(path)) == text
