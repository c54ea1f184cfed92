"""The committed SVG evaluation report: paraphrase retrieval quality is pinned, the README/docs tables are the
ones generated from the report, and the report meets the issue's bars for restyled icons."""
from __future__ import annotations

import json

import pytest

from backend.config import REPO_ROOT
from backend.svg.offline import legibility_eval as ev
from backend.svg.offline import legibility_tables as tables


@pytest.fixture(scope="module")
def report():
    return json.loads(ev.REPORT.read_text())


def test_paraphrase_retrieval_is_pinned_and_matches_the_report(report):
    res = ev.paraphrase_eval()
    assert res["summary"]["n"] >= 80
    assert res["summary"]["top1"] >= 0.8 and res["summary"]["top5"] >= 0.95
    assert res["summary"] == report["paraphrases"]["summary"]


def test_paraphrases_mostly_are_not_concept_names(report):
    """The set measures paraphrase, not name lookup: no prompt equals one of its own accepted concepts' names
    exactly as listed first, and most prompts are no corpus concept's name at all."""
    from backend.svg.index import norm_words

    for text, ok in ev.load_paraphrases():
        assert norm_words(text) != norm_words(ok[0]), text
    p = report["paraphrases"]["summary"]
    assert p["n_not_a_name"] >= 0.6 * p["n"] and p["top5_not_a_name"] >= 0.9


def test_docs_tables_are_generated_from_the_report(report):
    block = tables.report_tables(report)
    for f in (REPO_ROOT / "README.md", REPO_ROOT / "docs" / "svg_studio.md",
              REPO_ROOT / "docs" / "svg_generator.md"):
        text = f.read_text()
        assert f"{tables.BEGIN}\n{block}\n{tables.END}" in text, f"{f.name}: run python -m backend.svg.offline.cli tables"


def test_report_pins_the_measured_quality(report):
    """Pins what was measured (docstring of backend.svg.offline.legibility_eval). The issue's concept bar is met
    (restyled ≥ unmodified − 10 points); its style bar (≥ 80 % target style) is NOT met. Since svg12 the judge is the
    one chosen on genuine icons (current features + identifier features: 85 % on 2,825 real held-out-concept icons,
    84 % balanced; 86 % at the restyles' mix against 83 % for the previous judge): 40/64 (62 %) on seed 0 (previous
    judge 43/64, 67 %; unmodified sources 59 %), 258/448 (58 %) over seed 0 and six development seeds (previous judge
    267/448). The judge is trained on training-concept icons only. Restyles from the target family's own drawing are
    recognised 38/44 times on seed 0: pinned so they can only improve. The committed figures are those of the shipped
    engine settings."""
    s = report["summary"]
    plain, restyled = s["retrieved, unmodified"]["all"], s["retrieval + restyle"]["all"]
    assert restyled["concept_top5"] >= plain["concept_top5"] - 0.10
    assert restyled["concept_top5"] >= 0.82  # 53/64 (0.81 before svg10)
    seed0 = [r for r in report["rows"] if r["condition"] == "retrieval + restyle"]
    assert sum(r["style"] for r in seed0) == 40 and sum(r["style_prev_judge"] for r in seed0) == 43
    assert restyled["style_acc"] >= 0.62 and restyled["style_acc"] >= plain["style_acc"]
    assert restyled["outside_pct"] < 0.1
    judge = report["style_classifier"]
    assert judge["real_heldout_acc"] >= 0.8 and judge["real_heldout_acc_balanced"] >= 0.8
    assert judge["test_icons"] >= 2000 and min(judge["test_icons_by_style"].values()) >= 19
    assert set(judge["real_heldout_acc_by_style"]) == set(report["target_styles"])
    rows = [r for r in report["rows"] if r["condition"] == "retrieval + restyle"]
    own = [r["style"] for r in rows if r["source"].split("/")[0] == r["target_style"].split("/")[0]]
    assert len(own) >= 40 and sum(own) / len(own) >= 0.85
    import backend.svg.engines as eng
    from backend.svg import family_adapt, style

    assert report["engine_settings"] == {"family_matcher": eng.MATCHER, "identify_centreline": eng.IDENTIFY_CENTRELINE,
                                         "pick_by_identifier": eng.PICK_BY_IDENTIFIER,
                                         "family_adaptations": list(family_adapt.ADAPTATIONS),
                                         "solid_from_lines": style.SOLID_FROM_LINES,
                                         "inset_rings": style.INSET_RINGS,
                                         "identity_fill_rule": style.IDENTITY_FILL_RULE}
    gen, floor = s["learned generator"], s["generator, untrained"]
    assert gen["all"]["n"] == floor["all"]["n"] > 0
    assert gen["seen"]["concept_top5"] > floor["seen"]["concept_top5"]


def test_development_configurations_are_reported_beside_the_reported_seed(report):
    """Changes are tried on other exemplars/prompts (seeds 1, 2) judged by the same classifier; their figures are
    committed and shown in the generated table, so a gain on the reported seed alone would be visible."""
    dev = tables.dev_reports()
    assert sorted(r["seed"] for r in dev) == [1, 2, 3, 4, 5, 6]
    for r in dev:
        assert r["judge_seed"] == report.get("judge_seed", 0) == 0
        assert r["style_classifier"] == report["style_classifier"]
        assert r["engine_settings"] == report["engine_settings"]
        assert r["prompts"] != report["prompts"] and r["exemplars"] != report["exemplars"]
        s = r["summary"]
        assert s["retrieval + restyle"]["all"]["style_acc"] >= 0.4
        assert s["retrieval + restyle"]["all"]["concept_top5"] >= s["retrieved, unmodified"]["all"]["concept_top5"] - 0.1
        assert s["retrieval + restyle"]["all"]["outside_pct"] < 0.1
    pooled = [x for r in [report] + dev for x in r["rows"] if x["condition"] == "retrieval + restyle"]
    assert len(pooled) == 7 * 64 and sum(x["style"] for x in pooled) / len(pooled) >= 0.57  # 258/448 (svg12's judge)
    # the previous judge's verdicts are kept beside the new one's and reproduce its committed figures (svg11: 267/448)
    assert sum(x["style_prev_judge"] for x in pooled) == 267


def test_structural_ceiling_counts_what_the_target_family_draws():
    """A hand-made report: two target styles, three prompts each; the ceiling formulae on known numbers."""
    rows = []
    for st, src, ok in (("a/x", "a/x/p", True), ("a/x", "a/y/q", False), ("a/x", "b/z/r", False),
                        ("c/w", "d/z/p", True), ("c/w", "d/z/q", False), ("c/w", "c/w/r", True)):
        concept = src.split("/")[-1]
        rows.append({"condition": "retrieval + restyle", "target_style": st, "retrieved_concept": concept,
                     "source": src, "style": ok})
    rep = {"rows": rows, "concept_styles": {"p": ["a/x", "d/z"], "q": ["a/y", "d/z"], "r": ["b/z", "c/w"]},
           "style_classifier": {"real_heldout_acc_by_style": {"a/x": 0.5, "c/w": 1.0}}}
    c = tables.structural_ceiling([rep])
    a, w = c["by_style"]["a/x"], c["by_style"]["c/w"]
    assert (a["n"], a["variant"], a["family"], a["correct"], a["other_n"], a["other_correct"]) == (3, 1, 2, 1, 1, 0)
    assert a["perfect_variant"] == pytest.approx(1 / 3) and a["perfect_family"] == pytest.approx(2 / 3)
    assert a["judge_family"] == pytest.approx(1 / 3)  # two own-family drawings judged at 0.5
    assert (w["variant"], w["family"], w["other_rate"]) == (1, 1, 0.5)
    assert w["perfect_family"] == pytest.approx((1 + 2 * 0.5) / 3)
    assert c["all"]["n"] == 6 and c["all"]["perfect_family"] == pytest.approx((2 + 2) / 6)


def test_judge_ceiling_puts_genuine_icon_accuracy_beside_the_restyles():
    """Hand-made rows: two targets judged by one judge (genuine accuracy 0.5 on 20 icons and 1.0 on 10); the ceiling
    keeps the judge's genuine counts and interval, the restyles' right/n per target, and weights the genuine rates
    by each target's restyles for the pooled expectation; reports judged by different judges are refused."""
    def row(st, src, ok):
        return {"condition": "retrieval + restyle", "target_style": st, "source": src, "style": ok}

    sc = {"real_heldout_acc_by_style": {"a/x": 0.5, "c/w": 1.0}, "test_icons_by_style": {"a/x": 20, "c/w": 10},
          "most_confused_with": {"a/x": "c/w"}}
    r1 = {"seed": 0, "target_styles": ["a/x", "c/w"], "style_classifier": sc,
          "rows": [row("a/x", "a/y/p", True), row("a/x", "b/z/q", False), row("a/x", "b/z/r", False),
                   row("c/w", "c/w/p", True), {"condition": "retrieved, unmodified", "target_style": "c/w",
                                               "source": "c/w/p", "style": True}]}
    r2 = {"seed": 1, "target_styles": ["a/x", "c/w"], "style_classifier": sc, "rows": [row("c/w", "d/v/s", False)]}
    c = tables.judge_ceiling([r1, r2])
    a, w = c["by_style"]["a/x"], c["by_style"]["c/w"]
    assert (a["genuine_right"], a["genuine_n"], a["n"], a["right"], a["own_n"], a["own_right"]) == (10, 20, 3, 1, 1, 1)
    assert a["genuine_ci"][0] == pytest.approx(0.2993, abs=1e-3) and a["genuine_ci"][1] == pytest.approx(0.7007, abs=1e-3)
    assert (w["genuine_right"], w["n"], w["right"], w["restyle_acc"]) == (10, 2, 1, 0.5)
    tot = c["all"]
    assert (tot["n"], tot["right"], tot["genuine_right"], tot["genuine_n"]) == (5, 2, 20, 30)
    assert tot["expected"] == pytest.approx((3 * 0.5 + 2 * 1.0) / 5) and tot["below_bar"] == ["a/x"]
    text = "\n".join(tables.judge_ceiling_lines(r1, [r2]))
    assert "| a/x | 10/20 (0.50) | 0.30–0.70 | c/w | 1/3 (0.33) | 1/3 (0.33) | -0.17 |" in text
    assert "| c/w | 10/10 (1.00) | 0.72–1.00 | – | 1/1 (1.00) | 1/2 (0.50) | -0.50 |" in text
    other = {**sc, "real_heldout_acc_by_style": {"a/x": 0.6, "c/w": 1.0}}
    with pytest.raises(ValueError):
        tables.judge_ceiling([r1, {**r2, "style_classifier": other, "rows": [row("a/x", "a/x/p", True)]}])


def test_judge_ceiling_of_the_committed_reports(report):
    """The committed reports share one judge; its genuine-icon accuracy per target equals the committed rate, and
    the pooled expectation is the mean over targets (every target has as many restyles)."""
    c = tables.judge_ceiling([report] + tables.dev_reports())
    acc = report["style_classifier"]["real_heldout_acc_by_style"]
    for st, d in c["by_style"].items():
        assert d["genuine_right"] / d["genuine_n"] == pytest.approx(acc[st], abs=5e-4)
    assert c["all"]["expected"] == pytest.approx(sum(acc[st] for st in report["target_styles"]) / 8)
    assert c["all"]["n"] == 448


def test_miss_breakdown_counts_why_other_family_restyles_miss():
    """A hand-made pair of configurations: other-family misses are split into "judged as the source's family" and
    "judged as the style the judge confuses the target with on real icons"; own-family rows are left out; the
    exemplars count as matched where the engine's matcher named the target style first."""
    import backend.svg.engines as eng

    def row(src, pred):
        return {"condition": "retrieval + restyle", "target_style": "a/x", "source": src, "predicted_style": pred,
                "style": pred == "a/x"}

    sc = {"most_confused_with": {"a/x": "c/v"}, "real_heldout_acc_by_style": {"a/x": 0.5}}
    r1 = {"target_styles": ["a/x"], "style_classifier": sc, "exemplar_families": {"a/x": {eng.MATCHER: ["a/x"]}},
          "rows": [row("a/y/p", "b/z"), row("b/w/q", "b/z"), row("b/w/r", "c/v"), row("d/u/s", "a/x")]}
    r2 = {"target_styles": ["a/x"], "style_classifier": sc, "exemplar_families": {"a/x": {eng.MATCHER: ["c/v"]}},
          "rows": [row("c/v/t", "c/v"), row("e/u/s", "f/f")]}
    (d,) = tables.miss_breakdown([r1, r2])
    assert (d["other_n"], d["other_right"], d["misses"], d["matched"], d["configurations"]) == (5, 1, 4, 1, 2)
    assert (d["as_source_family"], d["as_usual_confusion"], d["real_acc"]) == (2, 2, 0.5)
    text = "\n".join(tables.miss_lines([r1, r2]))
    assert "| a/x | 1/5 | 1/2 | 4 | 2 | 2 (c/v) | 0.50 |" in text


def test_structural_ceiling_of_the_committed_reports(report, corpus_styles):
    """Every committed report records which installed styles draw its prompts (checked against the corpus), and
    the ceiling it implies is below the issue's 80 % bar: retrieval + restyle cannot meet it by better restyling
    of the families' own drawings alone (pinned with a margin)."""
    reps = [report] + tables.dev_reports()
    for r in reps:
        assert set(r["concept_styles"]) == {x["retrieved_concept"] for x in r["rows"]}
        for concept, styles in r["concept_styles"].items():
            assert styles == corpus_styles[concept]
    c = tables.structural_ceiling(reps)["all"]
    assert c["n"] == 448
    assert 0.6 <= c["perfect_family"] <= 0.75 and c["judge_family"] <= c["perfect_family"]  # 0.70, 0.64
    assert c["perfect_variant"] <= c["perfect_family"] < 0.8
    assert c["correct"] / c["n"] <= c["judge_family"] + 0.05


@pytest.fixture(scope="module")
def corpus_styles():
    from backend.svg.corpus import load_corpus

    out: dict[str, set] = {}
    for ic in load_corpus().icons:
        out.setdefault(ic.concept, set()).add(ic.style)
    return {k: sorted(v) for k, v in out.items()}


def test_exemplar_families_recorded_in_the_reports_are_the_codes(report):
    """Each report records which families every matcher names for its exemplar cards; the seed-0 record is what the
    code computes now, and on the 56 exemplar triples of the seven configurations (held-out concepts) the shipped
    identifier names the target family first 48 times against 37 (svg4's ranking) and 27 (card matcher)."""
    from backend.svg.corpus import load_corpus

    cards = ev.exemplar_cards(load_corpus(), report["seed"])
    assert ev.exemplar_families({st: c for st, (c, _) in cards.items()}) == report["exemplar_families"]
    reps = [report] + tables.dev_reports()
    hits = {m: sum(r["exemplar_families"][st][m][:1] == [st] for r in reps for st in r["target_styles"])
            for m in ev.MATCHERS}
    assert hits["identifier"] >= 46 and hits["identifier"] > hits["signature"] + 8 > hits["card"] + 8, hits


def _generated_block(path) -> str:
    text = path.read_text()
    return text[text.index(tables.BEGIN) + len(tables.BEGIN):text.index(tables.END)]


def test_bar_status_equals_figures_recomputed_from_the_committed_json():
    """The bar-status paragraph (issue 18's style and concept bars) in README.md and docs/ holds the numbers recomputed
    here straight from static/svg/eval/*.json and bench/results/svg_second_judge.json, independently of
    legibility_tables: a hand-edited or stale figure, or a report changed without `cli tables`, fails."""
    rep = json.loads((REPO_ROOT / "static" / "svg" / "eval" / "legibility_report.json").read_text())
    dev = [json.loads(f.read_text()) for f in sorted((REPO_ROOT / "static" / "svg" / "eval" / "dev").glob("*.json"))]
    reps = [rep] + dev

    def fam(s):
        return s.split("/")[0]

    def pct(k, n):
        return f"{k}/{n} ({round(100 * k / n)} %)"

    rest = [[x for x in r["rows"] if x["condition"] == "retrieval + restyle"] for r in reps]
    plain = [[x for x in r["rows"] if x["condition"] == "retrieved, unmodified"] for r in reps]
    r0, pooled = rest[0], [x for rs in rest for x in rs]
    right0, right = sum(x["style"] for x in r0), sum(x["style"] for x in pooled)
    own0 = [x["style"] for x in r0 if fam(x["source"]) == fam(x["target_style"])]
    oth0 = [x["style"] for x in r0 if fam(x["source"]) != fam(x["target_style"])]
    own = [x["style"] for x in pooled if fam(x["source"]) == fam(x["target_style"])]
    oth = [x["style"] for x in pooled if fam(x["source"]) != fam(x["target_style"])]
    t5 = [sum(x["top5"] for x in rs) / len(rs) for rs in rest]
    u5 = [sum(x["top5"] for x in rs) / len(rs) for rs in plain]
    t5p = sum(x["top5"] for rs in rest for x in rs) / len(pooled)
    u5p = sum(x["top5"] for rs in plain for x in rs) / sum(map(len, plain))
    k = len(reps)
    expect = [
        f"**{'met' if right0 >= 0.8 * len(r0) else 'not met'}**: {pct(right0, len(r0))} on seed 0, "
        f"{pct(right, len(pooled))} over all {k} configurations",
        f"{sum(own0)}/{len(own0)} on seed 0 ({sum(own)}/{len(own)} over all {k})",
        f"drawing {sum(oth0)}/{len(oth0)} ({sum(oth)}/{len(oth)})",
        f"{t5[0]:.2f} vs {u5[0]:.2f} on seed 0, {t5p:.2f} vs {u5p:.2f} over all {k} (met in "
        f"{sum(a >= b - 0.1 - 1e-9 for a, b in zip(t5, u5, strict=True))} of {k} configurations)"]
    prompts = [p for p, _ in rep["prompts"]]
    none = [st for st in rep["target_styles"] if not any(st in rep["concept_styles"][p] for p in prompts)]
    assert none, "the committed seed 0 has target styles that draw none of its prompts"
    for st in none:
        n_all = sum(len(r["prompts"]) for r in reps)
        d_all = sum(st in r["concept_styles"][p] for r in reps for p, _ in r["prompts"])
        expect.append(f"{st} (")
        expect.append(f"judged the target style {sum(x['style'] for x in r0 if x['target_style'] == st)}/"
                      f"{len(prompts)}; draws {d_all} of {n_all} over all {k})")
    old = json.loads((REPO_ROOT / "bench" / "results" / "svg_second_judge.json").read_text())
    assert old["seeds"] == [r["seed"] for r in reps]
    o = {r["seed"]: [x for x in old["rows"]["old"] if x["seed"] == r["seed"]] for r in reps}
    ok = [x["judge1"] == x["target_style"] for rs in o.values() for x in rs]
    ok0 = [x["judge1"] == x["target_style"] for x in o[0]]
    own_old = [x["judge1"] == x["target_style"] for x in o[0] if x["own_family"]]
    expect.append(f"{pct(sum(ok0), len(ok0))} on seed 0, {pct(sum(ok), len(ok))} over all {k}; own-family "
                  f"{sum(own_old)}/{len(own_old)}, other-family {sum(ok0) - sum(own_old)}/{len(ok0) - len(own_old)}")
    generated = "\n".join(tables.bar_status_lines(rep, tables.dev_reports()))
    for f in (REPO_ROOT / "README.md", REPO_ROOT / "docs" / "svg_studio.md", REPO_ROOT / "docs" / "svg_generator.md"):
        block = _generated_block(f)
        assert block.lstrip().startswith("**Bar status**"), f.name
        for e in expect:
            assert e in generated, e
            assert e in block, f"{f.name}: {e!r} missing; run python -m backend.svg.offline.cli tables"


def test_svg_prose_outside_generated_blocks_carries_no_evaluation_figures():
    """Evaluation figures live only in generated blocks: the README's SVG paragraphs and docs/svg_studio.md's
    evaluation section, with the generated blocks cut out, keep only the bars and the restyle's own parameters."""
    import re

    def prose(text: str, start: str, stop: str) -> str:
        sec = text[text.index(start):text.index(stop)]
        return re.sub(r"<!-- ([\w-]+):begin.*?<!-- \1:end -->", "", sec, flags=re.S)

    readme = prose((REPO_ROOT / "README.md").read_text(), "**SVG**:", "## Reliability")
    assert re.findall(r"\d+(?:\.\d+)? ?%", readme) == ["80 %"] and not re.findall(r"\b\d+/\d+\b", readme), \
        "README SVG prose: hand-written figures belong in a generated block (backend/svg/offline/legibility_tables.py)"
    docs = prose((REPO_ROOT / "docs" / "svg_studio.md").read_text(), "## Legibility, style", "## Tests")
    # parameters, not results: card-match weight tolerance 30 %, sharp-corner threshold and the 80 % style bar,
    # detail shrink steps 80 % / 65 %, dropped details ≤ 25 % of the line length, readable gap ≥ 1/48 of the box
    assert set(re.findall(r"\d+(?:\.\d+)? ?%", docs)) <= {"30 %", "80 %", "65 %", "25 %"}
    assert set(re.findall(r"\b\d+/\d+\b", docs)) <= {"1/48"}
