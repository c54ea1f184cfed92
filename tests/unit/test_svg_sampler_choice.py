"""The learned SVG generator's sampler setting (DDIM steps, guidance) follows the pre-registered rule
(bench/results/svg_sampler_protocol.json) applied to the committed measurements, and the docs quote them."""
from __future__ import annotations

import json

import pytest

from backend.config import REPO_ROOT
from backend.registry import parse_models_toml
from backend.svg.offline import sampler_choice as sc

DOC, README = REPO_ROOT / "docs" / "svg_generator.md", REPO_ROOT / "README.md"
measured = pytest.mark.skipif(not (sc.CHOICE.exists() and sc.LATENCY.exists()), reason="not measured yet")


def _block(text: str, begin: str, end: str) -> str:
    return text[text.index(begin) + len(begin):text.index(end)].strip("\n")


def test_sign_test_and_margins():
    assert sc.sign_p(0, 0) == 1.0 and sc.sign_p(3, 0) == 0.125 and sc.sign_p(0, 3) == 1.0
    assert sc.sign_p(5, 0) == pytest.approx(1 / 32)
    base = [{"top5": True}] * 10 + [{"top5": False}] * 40
    worse = [{"top5": False}] * 3 + [{"top5": True}] * 7 + [{"top5": False}] * 40
    small = sc.compare(base, worse, "top5", "share", True, 0.03)
    assert small["drop"] == pytest.approx(0.06) and small["worse"] == 3 and small["p"] == 0.125
    assert not small["fail"]  # 50 items: a 0.06 drop from 3 discordant items is within chance
    big = sc.compare(base * 3, worse * 3, "top5", "share", True, 0.03)
    assert big["fail"]  # 150 items: the point margin alone
    assert sc.compare(base, worse, "top5", "share", True, 0.0, strict=True)["fail"]  # validity: no drop at all
    copies = sc.compare([{"copy": False}] * 200, [{"copy": True}] * 7 + [{"copy": False}] * 193, "copy", "share",
                        False, 0.03)
    assert copies["drop"] == pytest.approx(0.035) and copies["fail"]  # lower is better for copies


def test_decision_picks_the_best_passing_candidate_then_the_fastest():
    prot = json.loads(sc.PROTOCOL.read_text())
    rows = {sid: [{"concept": "c", "style": "s", "valid": True, "top1": False, "top5": True, "style_hit": True,
                   "set_hit": True, "d_stroke": 0.5, "d_fill": 0.0, "paired_iou": 0.3, "nearest_train_iou": 0.5,
                   "_uniq": 1.0}] * 4 for sid in ("B20", "S10", "S14", "G10")}
    lrows = [{"config": c, "target_style": "t", "k": k, "split": sp, "setting": sid, "top1": False, "top5": True,
              "style": True, "copy": False, "outside": 0.0}
             for c in range(7) for k, sp in enumerate(("seen", "heldout")) for sid in ("B20", "S10", "S14", "G10", "floor")]
    res = {"E": {"rows": {"heldout": rows, "seen": rows}}, "L": {"seeds": list(range(7)), "rows": lrows}}
    lat = {"settings": [{"steps": s, "guidance": g, "cpu_s": c, "wall_s": c, "cpu_ratio": c / 1.4, "wall_ratio": c / 1.4}
                        for s, g, c in ((20, 1.5, 1.4), (10, 1.5, 0.7), (14, 1.5, 0.99), (20, 1.0, 0.85))]}
    d = sc.decide(res, lat, prot)
    assert not d["candidates"]["S14"]["latency"]["pass"]  # 0.99 CPU-s, but 0.707 x 1.449 s > 1 s projected quiet
    assert d["chosen"] == "S10" and d["shipped"] == {"steps": 10, "guidance": 1.5}  # tie with G10 -> the faster
    for r in lrows:
        if r["setting"] == "S10" and r["config"] < 3:
            r["style"] = False  # 6 of 14 style verdicts lost: 0.43 down, p < 0.05
    d = sc.decide(res, lat, prot)
    assert "L all 7 all style_acc" in d["candidates"]["S10"]["quality_failures"]
    assert d["chosen"] == "G10" and d["shipped"] == {"steps": 20, "guidance": 1.0}


@measured
def test_committed_decision_is_the_rule_recomputed_from_the_committed_results():
    committed = json.loads(sc.DECISION.read_text())
    committed.pop("sanity", None)
    assert sc.load_decision() == json.loads(json.dumps(committed)), "python -m backend.svg.offline.sampler_choice"


@measured
def test_summaries_equal_the_evaluations_own():
    res = json.loads(sc.CHOICE.read_text())
    summ = sc.summaries(res)
    for split, by in res["E"]["results"].items():
        for sid, m in by.items():
            mine = summ[f"E {split}"][sid]
            for k in sc.E_METRICS:
                assert mine[k] == pytest.approx(m[k], abs=0.05 if k.endswith("_pct") else 1e-3), (split, sid, k)


@measured
def test_shipped_setting_is_the_decision():
    from backend.svg.model.engine import SAMPLER_DEFAULTS
    d = sc.load_decision()
    (entry,) = [e for e in parse_models_toml(REPO_ROOT / "models.toml") if e.name == "svg-pathdiffusion"]
    assert (int(entry.options["steps"]), float(entry.options["guidance"])) == (d["shipped"]["steps"],
                                                                                 float(d["shipped"]["guidance"]))
    assert (SAMPLER_DEFAULTS["steps"], SAMPLER_DEFAULTS["guidance"]) == (d["shipped"]["steps"],
                                                                         float(d["shipped"]["guidance"]))


@measured
def test_docs_hold_the_generated_sampler_blocks():
    d, res = sc.load_decision(), json.loads(sc.CHOICE.read_text())
    doc = DOC.read_text()
    assert _block(doc, sc.BEGIN, sc.END) == sc.tables(d, res), "run python -m backend.svg.offline.cli tables"
    for f in (DOC, README):
        assert _block(f.read_text(), sc.BRIEF_BEGIN, sc.BRIEF_END) == sc.brief(d), f.name
    lat = json.loads(sc.LATENCY.read_text())["settings"]
    block = _block(doc, sc.BEGIN, sc.END)
    for m in lat:
        assert f"| {m['cpu_s']:.3f} | {m['cpu_ratio']:.3f} |" in block


def test_fair_retrieval_baseline_hides_heldout_concepts_where_the_engine_looks():
    """svg-retrieval-seen: the retrieval engine imports text_index by name, so hiding must replace it there."""
    import backend.svg.engines as engines_mod
    import backend.svg.index as idx
    from backend.svg.offline.evaluate import hide_heldout_from_retrieval
    orig = engines_mod.text_index
    with hide_heldout_from_retrieval():
        assert engines_mod.text_index is not orig and idx.text_index is engines_mod.text_index
    assert engines_mod.text_index is orig and idx.text_index is orig
