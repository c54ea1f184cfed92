"""Protocol v6 (GPU-trained MetaUAS candidates): the committed result follows its pre-registered rule, the shipped
checkpoint is what the rule says, and the docs/README blocks are generated from the committed JSON."""
from __future__ import annotations

import json

import torch

from backend.anomaly.offline import candidates_v6 as c6

RES = json.loads(c6.OUT.read_text())
PROTOCOL = json.loads((c6.REPO / "static" / "anomaly" / "protocol_v6.json").read_text())


def test_every_preregistered_candidate_was_trained_by_the_device_run_and_scored():
    assert tuple(RES["candidates"]) == c6.CANDIDATES
    for name in c6.CANDIDATES:
        seed, iw = name[1:].split("_iw")
        assert f"{seed} {iw}" in (c6.REPO / "backend" / "anomaly" / "offline" / "gpu_candidates.sh").read_text()
        meta = torch.load(c6.FOLDER / name / "metauas_lite0.pt", map_location="cpu", weights_only=False)["meta"]
        assert meta["seed"] == int(seed) and meta["img_weight"] == float(iw) and meta["batch"] == 32
        assert "--device cuda" in meta["command"] and "chelsea.png" not in meta["photos"]
        assert RES["candidates"][name]["training"]["step"] == meta["step"]
        assert set(RES["candidates"][name]["ensemble"]["per_class"]) == {"chelsea", "coffee", "motorcycle", "aero",
                                                                          "ascent", "tree"}


def test_selection_applies_the_rule_and_the_shipped_checkpoint_follows_it():
    s, rows = RES["shipped_S"], RES["candidates"]
    assert RES["selection"] == c6.select(rows, s)
    best = max(rows.values(), key=lambda r: r["ensemble"]["i_auroc"])
    shipped = torch.load(c6.SHIPPED, map_location="cpu", weights_only=False)
    if RES["selection"]["chosen"] is None:
        assert best["ensemble"]["i_auroc"] < s["ensemble"]["i_auroc"] + c6.MIN_GAIN
        assert shipped["meta"]["seed"] == s["training"]["seed"] and shipped["meta"]["step"] == s["training"]["step"]
    else:
        chosen = torch.load(c6.FOLDER / RES["selection"]["chosen"] / "metauas_lite0.pt", map_location="cpu",
                            weights_only=False)
        assert all(torch.equal(chosen["state_dict"][k], v) for k, v in shipped["state_dict"].items())
    assert "1.0 point" in PROTOCOL["selection_rule"]["gain"] and c6.MIN_GAIN == 1.0


def test_docs_and_readme_blocks_come_from_the_json():
    docs = (c6.REPO / "docs" / "anomaly.md").read_text()
    readme = (c6.REPO / "README.md").read_text()
    assert f"{c6.BEGIN}\n{c6.table(RES)}\n{c6.END}" in docs
    assert f"{c6.SUM_BEGIN}\n{c6.summary_line(RES)}\n{c6.SUM_END}" in readme
