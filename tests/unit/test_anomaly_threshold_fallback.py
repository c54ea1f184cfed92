"""anomaly2: a prompt that cannot calibrate thresholds gets the engine's fixed default, said as such, not 0.001.

Before: every augmented view of a spotless prompt scored 0 after the normal-variation discount, the thresholds sat at
the 0.001 floor and the tab printed them as "calibrated": nearly every query NG, the mask covering the part."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
from PIL import Image

from backend.anomaly import actions
from backend.anomaly import inspector as insp

REPO = Path(__file__).resolve().parents[2]
COMMITTED = json.loads((REPO / "static" / "anomaly" / "threshold_fallback.json").read_text())


def _bench():
    spec = importlib.util.spec_from_file_location("fallback_bench", REPO / "bench" / "anomaly_threshold_fallback.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _flat(monkeypatch, value=0.0):
    monkeypatch.setattr(insp, "score_images", lambda prompts, views, **kw: (
        [value] * len(views), [np.full((32, 32), value, np.float32) for _ in views]))


def test_flat_views_give_the_fixed_default_and_say_so(monkeypatch):
    _flat(monkeypatch)
    prompt = Image.new("RGB", (64, 64), (90, 90, 90))
    t = insp.calibrate_from_prompts([prompt], engine="knn")
    fb = COMMITTED["fallback"]["knn"]
    assert not t.calibrated and t.image == fb["image"] and t.pixel == min(fb["pixel"], fb["image"]) and t.image > 0.01
    assert "fixed default" in t.method and "validation photos" in t.method and t.warning == insp.FALLBACK_WARNING
    old = insp.calibrate_from_prompts([prompt], engine="knn", fallback=False)  # what the tab showed before
    assert old.calibrated and old.image == 0.001 and old.pixel == 0.001
    run = insp.Run(prompts=[("p.png", np.zeros((8, 8, 3), np.uint8))], prompt_shas=["x"], records=[
        insp.QueryRecord(name="q.png", query=np.zeros((8, 8, 3), np.uint8), amap=np.zeros((8, 8), np.float32),
                         scale=1.0, orig_size=(8, 8), score=0.0, prompt_index=0, prompt_similarity=0.9,
                         engine="knn", ms=1.0)], engine="knn", size=256, tiled=False, retrieval_k=None, calibrated=t)
    text = actions.summary(run, actions.ViewSettings(t.image, t.pixel))
    assert "Thresholds not calibrated:" in text and "Thresholds calibrated" not in text and "0.001" not in text


def test_informative_views_are_unchanged(monkeypatch):
    _flat(monkeypatch, 0.05)
    t = insp.calibrate_from_prompts([Image.new("RGB", (64, 64))], engine="knn")
    assert t.calibrated and not t.warning and t.image == round(insp.above(0.05, insp.calibration_margin("knn")) + 1e-3, 4)


def test_committed_fallback_follows_its_rule_and_the_docs_show_it():
    for eng, d in COMMITTED["derivation"].items():
        used = [v for v in d["per_class"].values() if not v["degenerate"]]
        assert len(used) == d["n_classes"] == 3
        assert COMMITTED["fallback"][eng]["image"] == round(float(np.median([v["image"] for v in used])), 4)
        assert COMMITTED["fallback"][eng]["pixel"] == round(float(np.median([v["pixel"] for v in used])), 4)
    for by_eng in COMMITTED["sets"].values():  # before and after were measured on the same maps
        for m in by_eng.values():
            assert m["before"]["good"] == m["after"]["good"] and m["before"]["bad"] == m["after"]["bad"]
            same = not m["before"]["degenerate_classes"]
            assert same <= (m["before"]["thresholds"] == m["after"]["thresholds"])
    assert _bench().table(COMMITTED) in (REPO / "docs" / "anomaly.md").read_text()


def test_the_bundled_example_with_knn_is_not_at_the_floor():
    """The real kNN engine on the tab's example: its prompt's views score 0, so the fixed default applies."""
    cls = REPO / "static" / "anomaly" / "examples" / "nut"
    prompt = Image.open(next((cls / "train" / "good").glob("*.png"))).convert("RGB")
    t = insp.calibrate_from_prompts([prompt], engine="knn")
    assert not t.calibrated and t.image == COMMITTED["fallback"]["knn"]["image"]
