"""bench/svg_restyle_diagnosis.py's committed result: the ablation's figures recompute from its rows, the "before"
setting reproduces the committed development reports' figures from before svg10 (224/384), and the shipped setting
covers the committed development reports' restyles (it equalled them row by row until svg11's identifier change)."""
from __future__ import annotations

import json

from backend.config import REPO_ROOT
from backend.svg import style
from backend.svg.offline import legibility_tables as tables

RES = REPO_ROOT / "bench" / "results" / "svg_restyle_diagnosis.json"


def test_ablation_figures_recompute_from_rows_and_match_the_reports():
    res = json.loads(RES.read_text())
    assert res["seeds"] == [1, 2, 3, 4, 5, 6]
    ab = res["ablation"]
    assert set(ab) == {"before (both off)", "solid glyphs only", "inside outlines only", "both (shipped)"}
    for name, d in ab.items():
        rows, s = d["rows"], d["summary"]
        assert len(rows) == s["n"] == 384, name
        assert s["right"] == sum(r["style"] for r in rows) and s["top5"] == sum(r["top5"] for r in rows)
        assert s["other"] == [sum(r["style"] for r in rows if not r["own_family"]),
                              sum(not r["own_family"] for r in rows)]
    assert ab["before (both off)"]["summary"]["right"] == 224  # the development reports before svg10
    assert style.SOLID_FROM_LINES and style.INSET_RINGS  # the shipped setting is "both"
    shipped = ab["both (shipped)"]["rows"]
    # the shipped setting equalled svg10's development reports row by row (b3e3b35); svg11 then refitted the family
    # identifier with a fill-rule feature (style.IDENTITY_FILL_RULE) and re-ran the reports, so they now differ
    # where the identifier's choice changed: the same 384 prompts and targets, the identifier noted in the reports
    reps = tables.dev_reports()
    dev = [x for r in reps for x in r["rows"] if x["condition"] == "retrieval + restyle"]
    assert all(r["engine_settings"]["identity_fill_rule"] == style.IDENTITY_FILL_RULE for r in reps)
    assert sorted((x["target_style"], x["prompt"]) for x in dev) == \
        sorted((x["target_style"], x["prompt"]) for x in shipped)
    for st, f in res["features"].items():
        assert f["other_n"] == sum(r["target_style"] == st and not r["own_family"] for r in shipped)
