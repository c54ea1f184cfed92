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
