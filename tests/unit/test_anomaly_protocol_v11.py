"""Protocol v11 (static/anomaly/protocol_v11.json): one pre-specified configuration tested on validation v3."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from backend.anomaly.offline import photos, split

REPO = Path(__file__).resolve().parents[2]
PROTOCOL = json.loads((REPO / "static" / "anomaly" / "protocol_v11.json").read_text())
V11 = photos.names("validation", group="v11")


def test_the_protocol_registers_one_configuration_fresh_photos_and_the_rule():
    assert PROTOCOL["configuration"]["name"] == "replace_wglobal_c0.5"
    assert set(PROTOCOL["photos"]) == set(V11) == set(split.VALIDATION_V3_CLASSES) and len(V11) == 4
    assert "+ 1.0" in PROTOCOL["rule"]["pass_if"] and "- 2.0" in PROTOCOL["rule"]["pass_if"]
    gate = PROTOCOL["if_it_passes"]["becomes_default_only_if"]
    assert "86.39" in gate and "50.10" in gate and "never run" in PROTOCOL["if_it_passes"]["heldout_v3_look"]
    assert split.VALIDATION_V3["seed"] == 35 and (split.VALIDATION_V3["good"], split.VALIDATION_V3["per_defect_kind"]) == (20, 8)
    for n, entry in PROTOCOL["photos"].items():
        p = photos.WHEEL_PHOTOS[n]
        assert (entry["package"], entry["version"], entry["member"], entry["sha256"]) == \
            (p.package, p.version, p.member, p.sha256)
        assert (p.role, p.group, p.archive) == ("validation", "v11", "sdist") and re.fullmatch(r"[0-9a-f]{64}", p.sha256)


def test_validation_v3_photos_are_new_to_the_project():
    others = [n for n in photos.WHEEL_PHOTOS if n not in V11]
    assert not {photos.WHEEL_PHOTOS[n].sha256 for n in V11} & {photos.WHEEL_PHOTOS[n].sha256 for n in others}
    assert not {photos.WHEEL_PHOTOS[n].package for n in V11} & {photos.WHEEL_PHOTOS[n].package for n in others}
    members = [photos.WHEEL_PHOTOS[n].member.rsplit("/", 1)[-1] for n in V11]
    assert not any(m.startswith("hopper") for m in members)  # Pillow's hopper* files are matplotlib's grace_hopper
    d = split.split_dict()["validation_v3"]
    assert d["seed"] == 35 and set(d["classes"]) == set(V11)
    assert json.loads(split.SPLIT_FILE.read_text())["validation_v3"] == d  # split.json is current


def test_the_trainer_refuses_validation_v3_photos(tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    for n in V11:
        lp = photos.local_path(n)
        assert split.is_validation(lp) and not split.is_eval_only(lp)
        with pytest.raises(RuntimeError, match="cannot train"):
            split.check_trainable([lp])


def test_the_rule_on_hand_made_numbers():
    from backend.anomaly.offline.levers_v11 import decide

    d = {"i_auroc": 90.00, "p_ap": 60.00}
    assert decide(d, {"i_auroc": 91.00, "p_ap": 58.00})["passes"]  # both ties pass
    assert not decide(d, {"i_auroc": 90.99, "p_ap": 70.00})["passes"]
    out = decide(d, {"i_auroc": 95.00, "p_ap": 57.99})
    assert not out["passes"] and "P-AP" in out["why_not"] and out["gain_i_auroc"] == 5.0
    both = decide(d, {"i_auroc": 89.0, "p_ap": 50.0})
    assert not both["passes"] and "I-AUROC" in both["why_not"] and "P-AP" in both["why_not"]


RESULT = REPO / "static" / "anomaly" / "protocol_v11" / "validation.json"


@pytest.mark.skipif(not RESULT.is_file(), reason="protocol v11 has not been run")
def test_the_committed_result_re_applies_the_rule_and_the_docs_come_from_it():
    from backend.anomaly.offline import levers_v11, levers_v11_tables
    from backend.docs_blocks import replace_block

    res = json.loads(RESULT.read_text())
    d, c = res["D"]["ensemble"], res["config"]["ensemble"]
    assert res["decision"] == levers_v11.decide(d, c)
    assert res["config"]["config"] == levers_v11.CONFIG and res["config"]["colour_knn_settings"]["colour"] == 0.5
    assert res["config"]["colour_knn_settings"]["window"] == 0
    assert set(d["per_class"]) == set(c["per_class"]) == set(V11) and res["validation_v3"]["queries"] == 240
    for r in (d, c):  # class means are the means of the per-class figures
        for m in ("i_auroc", "p_ap"):
            assert abs(r[m] - sum(v[m] for v in r["per_class"].values()) / 4) <= 0.006
    look = REPO / "static" / "anomaly" / "protocol_v11" / "heldout_v3_report.json"
    assert look.is_file() == res["decision"]["passes"]  # no held-out look without the validation pass
    for path, b, e, body in ((REPO / "docs" / "anomaly.md", levers_v11_tables.BEGIN, levers_v11_tables.END,
                              levers_v11_tables.table),
                             (REPO / "README.md", levers_v11_tables.SUM_BEGIN, levers_v11_tables.SUM_END,
                              levers_v11_tables.summary_line)):
        text = path.read_text()
        assert replace_block(text, b, e, body(res), required=True, where=str(path)) == text
