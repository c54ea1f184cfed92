"""Pre-registered measurement of the per-icon source + adaptation pick (backend/svg/pick_adapt.py) for issue 18.

The protocol (bench/results/svg_pick_adapt_protocol.json: candidate, fresh development seeds 13-18, judges, ship
rule) was committed and landed on main before anything was measured.

    python bench/svg_pick_adapt.py measure   # off and the candidate, interleaved row by row -> bench/results/svg_pick_adapt.json
    python bench/svg_pick_adapt.py tables    # the generated block in docs/svg_studio.md and sentence in README.md

Restyles are made exactly as legibility_eval.run makes its "retrieval + restyle" rows, judged by the shipped trees
judge (legibility_eval.StyleClassifier with JUDGE_BLOCKS), the pixel-only CNN judge (bench/svg_second_judge.py) and
the corpus raster recogniser (concept top-5, source left out). "other-family" = the target family does not draw the
retrieved concept. Latency: RetrievalEngine.generate seconds per setting, same rows, interleaved (alternating
which setting runs first), so load on the shared machine hits both alike. Log: bench/results/svg_pick_adapt.log.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from backend.docs_blocks import replace_block  # noqa: E402 (after the path setup)

PROTOCOL = ROOT / "bench" / "results" / "svg_pick_adapt_protocol.json"
RESULT = ROOT / "bench" / "results" / "svg_pick_adapt.json"
ROW_KEYS = ("seed", "target_style", "prompt", "concept", "source", "own_family", "judge1", "judge2", "top5",
            "top5_unmodified", "copy", "adapted", "steps", "seconds")


def context() -> dict:
    """The family-adapt bench's context, judged by the shipped judge (blocks M + I)."""
    from svg_family_adapt import context as family_adapt_context

    return family_adapt_context(shipped_judge=True)


def _row(seed: int, st: str, concept: str, cand, seconds: float, ctx: dict) -> dict:
    src = ctx["corpus"].by_id(cand.source_id or "")
    own = any(s.split("/")[0] == st.split("/")[0] for s in ctx["styles_of"].get(cand.concept, ()))
    ranked, nearest = ctx["rec"].rank(cand.svg, src.id)
    ranked_u, _ = ctx["rec"].rank(src.svg, src.id)
    steps = next((n.split("conventions (", 1)[1].split(")", 1)[0] for n in cand.notes
                  if "Adapted toward" in n and "conventions (" in n), "")
    return {"seed": seed, "target_style": st, "prompt": concept, "concept": cand.concept, "source": src.id,
            "own_family": own, "svg": cand.svg, "judge1": ctx["sj"].predict(cand.svg),
            "top5": cand.concept in ranked[:5], "top5_unmodified": cand.concept in ranked_u[:5],
            "copy": nearest > 0.9, "adapted": bool(steps), "steps": steps, "seconds": round(seconds, 3)}


def measure(proto: dict, ctx: dict, log=print) -> dict[str, list[dict]]:
    """Rows per setting ("off" and each candidate), interleaved row by row."""
    from backend.svg import pick_adapt
    from backend.svg.offline import legibility_eval as le

    settings = {"off": {"pick_adapt.TOP_K": 0, "pick_adapt.VARIANTS": [list(v) for v in pick_adapt.VARIANTS]},
                **proto["candidates"]}
    rows: dict[str, list[dict]] = {k: [] for k in settings}
    for name in settings:  # warm-up (lazy loads), untimed and unjudged
        pick_adapt.TOP_K = int(settings[name]["pick_adapt.TOP_K"])
        ctx["retr"].generate("rocket", "heroicons/solid", 1, 0)
    t0, n = time.time(), 0
    for seed in proto["dev_seeds"]:
        cards, prompts = le.exemplar_cards(ctx["corpus"], seed), le.prompts_for(ctx["corpus"], seed)
        for st, (card, _ids) in cards.items():
            for k, (concept, _split) in enumerate(prompts):
                order = list(settings) if n % 2 == 0 else list(settings)[::-1]
                for name in order:
                    pick_adapt.TOP_K = int(settings[name]["pick_adapt.TOP_K"])
                    pick_adapt.VARIANTS = tuple(tuple(v) for v in settings[name]["pick_adapt.VARIANTS"])
                    t = time.time()
                    cand = ctx["retr"].generate(concept, card, 1, seed + k)[0]
                    rows[name].append(_row(seed, st, concept, cand, time.time() - t, ctx))
                n += 1
            log(f"seed {seed} {st}: {n} rows ({time.time() - t0:.0f}s)")
    pick_adapt.TOP_K, pick_adapt.VARIANTS = 0, tuple(tuple(v) for v in settings["off"]["pick_adapt.VARIANTS"])
    return rows


def summary(rows: list[dict]) -> dict:
    from svg_family_adapt import summary as fa_summary

    other = [r for r in rows if not r["own_family"]]
    return {**fa_summary(rows), "seconds": round(sum(r["seconds"] for r in rows), 1),
            "seconds_other_family": round(sum(r["seconds"] for r in other), 1),
            "steps": {s: sum(r["steps"] == s for r in rows) for s in sorted({r["steps"] for r in rows} - {""})}}


def decide(proto: dict, dev: dict[str, dict]) -> dict:
    """The protocol's ship rule on the development summaries: {candidate: {criterion: bool}, "selected": name}."""
    rule, off = proto["selection"], dev["off"]
    out: dict = {}
    for name in proto["candidates"]:
        s = dev[name]
        out[name] = {
            "trees_gain": s["judge1"]["all"]["correct"] - off["judge1"]["all"]["correct"] >= rule["min_gain_restyles"],
            "pixel_not_lower": s["judge2"]["all"]["correct"] >= off["judge2"]["all"]["correct"],
            "concept_top5": s["concept_top5"] >= s["concept_top5_unmodified"] - rule["max_concept_top5_drop"] - 1e-9,
            "near_copy": s["near_copy_pct"] <= off["near_copy_pct"] + rule["max_near_copy_rise_pts"] + 1e-9}
    passing = sorted((-dev[k]["judge1"]["all"]["correct"], k) for k, v in out.items() if all(v.values()))
    out["selected"] = passing[0][1] if passing else "off"
    return out


# ------------------------------------------------------------------------------------------------ docs
BEGIN, END = ("<!-- svg-pick-adapt:begin (generated by python bench/svg_pick_adapt.py tables) -->",
              "<!-- svg-pick-adapt:end -->")
DOC, README = ROOT / "docs" / "svg_studio.md", ROOT / "README.md"


def _c(a: dict) -> str:
    return f"{a['correct']}/{a['n']} ({100 * a['correct'] / a['n']:.0f} %)" if a["n"] else "–"


def flips(off: list[dict], cand: list[dict]) -> str:
    """What the judges say about the restyles the candidate changed (adapted, or another source kept)."""
    ch = [(a, b) for a, b in zip(off, cand, strict=True) if b["adapted"] or a["source"] != b["source"]]

    def f(j):
        gain = sum(a[j] != a["target_style"] and b[j] == b["target_style"] for a, b in ch)
        loss = sum(a[j] == a["target_style"] and b[j] != b["target_style"] for a, b in ch)
        return f"{gain} wrong → right, {loss} right → wrong"
    return (f"Of the {len(ch)} restyles it changed ({sum(a['source'] != b['source'] for a, b in ch)} with another "
            f"source drawing), trees judge {f('judge1')}; pixel judge {f('judge2')}.")


def doc_block(res: dict) -> str:
    """The docs paragraph and tables, written from the committed result only."""
    proto = json.loads(PROTOCOL.read_text())
    dev, dec = res["dev"], res["decision"]
    seeds = proto["dev_seeds"]
    cand = [k for k in dev if k != "off"]
    off_s = dev["off"]["seconds"]
    lines = ["Per-icon choice of source drawing and family adaptation (`backend/svg/pick_adapt.py`; "
             "`bench/svg_pick_adapt.py`, result `bench/results/svg_pick_adapt.json`, protocol "
             "`bench/results/svg_pick_adapt_protocol.json`, committed and landed before the measurement): where the "
             "wanted family draws no variant of the concept, the three restyles the family identifier finds most "
             "like the wanted family are also adapted by each family-adaptation step combination (box, corners, "
             "weight, corners + weight, all three), and the drawing the identifier scores highest is kept. "
             f"Measured once on fresh development seeds {seeds[0]}–{seeds[-1]} (384 restyles per setting, the two "
             "settings interleaved row by row); rule: trees judge ≥ off + "
             f"{proto['selection']['min_gain_restyles']}, pixel judge not lower, concept top-5 within 10 points of "
             "the unmodified icon, near copies up by at most 5 points. Latency = engine seconds over the same rows "
             "against off, measured in the same run on a shared, loaded 2-core machine.", "",
             "| setting | trees judge, all | trees, other-family | pixel judge, all | pixel, other-family | concept "
             "top-5 restyled / unmodified | near copy % | restyles adapted | latency vs off (all / other-family) | "
             "rule |", "|---|---|---|---|---|---|---|---|---|---|"]
    for name, s in dev.items():
        lat = (f"{s['seconds'] / off_s:.2f}× / {s['seconds_other_family'] / dev['off']['seconds_other_family']:.2f}×"
               if name != "off" else f"1 ({off_s:.0f} s / {dev['off']['seconds_other_family']:.0f} s)")
        verdict = "baseline" if name == "off" else (
            "**passed: shipped**" if dec["selected"] == name else
            "failed: " + ", ".join(k.replace("_", " ") for k, ok in dec[name].items() if not ok))
        lines.append(f"| {name} | {_c(s['judge1']['all'])} | {_c(s['judge1']['other_family'])} | {_c(s['judge2']['all'])} | "
                     f"{_c(s['judge2']['other_family'])} | {s['concept_top5']:.2f} / {s['concept_top5_unmodified']:.2f} | "
                     f"{s['near_copy_pct']:.1f} | {s['adapted']} | {lat} | {verdict} |")
    rows = res["rows"]
    lines += ["", "Per target style, other-family restyles judged the target style, trees judge (pixel judge), off → "
              + ", ".join(cand) + ":", "", "| target style | n | off | " + " | ".join(cand) + " |",
              "|---|---|---|" + "---|" * len(cand)]
    for st in dict.fromkeys(r["target_style"] for r in rows["off"]):
        def cnt(rs, j, st=st):
            return sum(r[j] == st for r in rs if r["target_style"] == st and not r["own_family"])
        n = sum(1 for r in rows["off"] if r["target_style"] == st and not r["own_family"])
        lines.append(f"| {st} | {n} | " + " | ".join(f"{cnt(rows[k], 'judge1')} ({cnt(rows[k], 'judge2')})"
                                                     for k in ["off", *cand]) + " |")
    for k in cand:
        if dev[k]["steps"]:
            lines += ["", f"{k}: steps kept — " + ", ".join(f"{s} {v}" for s, v in dev[k]["steps"].items()) + ". "
                      + flips(rows["off"], rows[k])]
    lines.append("")
    lines.append(f"The studio applies `{dec['selected']}` by default (`pick_adapt.TOP_K`)." if dec["selected"] != "off"
                 else "The candidate did not meet the rule, so the studio keeps it off (`pick_adapt.TOP_K = 0`); the "
                 "committed style figures are unchanged by it.")
    return "\n".join(lines)


def readme_sentence(res: dict) -> str:
    dev, dec = res["dev"], res["decision"]
    cand = [k for k in dev if k != "off"][0]
    s, off = dev[cand], dev["off"]
    return (f"Choosing the family adaptation per icon by the family identifier (`backend/svg/pick_adapt.py`, "
            f"pre-registered, fresh seeds 13–18, `bench/svg_pick_adapt.py`): trees judge "
            f"{s['judge1']['all']['correct']} vs {off['judge1']['all']['correct']} of 384 off (other-family "
            f"{s['judge1']['other_family']['correct']} vs {off['judge1']['other_family']['correct']}), pixel judge "
            f"{s['judge2']['all']['correct']} vs {off['judge2']['all']['correct']}, latency "
            f"{s['seconds'] / off['seconds']:.2f}× (same run, shared loaded 2-core machine) — "
            + ("shipped as the default." if dec["selected"] == cand else "did not meet the rule, so it stays off."))


def write_docs() -> None:
    res = json.loads(RESULT.read_text())
    for path, body in ((DOC, doc_block(res)), (README, readme_sentence(res))):
        path.write_text(replace_block(path.read_text(), BEGIN, END, body, required=True, where=path.name))


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cmd", choices=("measure", "tables"))
    a = ap.parse_args()
    if a.cmd == "tables":
        write_docs()
        return
    from svg_family_adapt import judge2

    proto = json.loads(PROTOCOL.read_text())
    ctx = context()
    rows = measure(proto, ctx, log=lambda m: print(m, flush=True))
    dev = {}
    for name, rs in rows.items():
        judge2(rs)
        dev[name] = summary(rs)
        print(f"{name}: {json.dumps(dev[name])}", flush=True)
    res = {"protocol": str(PROTOCOL.relative_to(ROOT)), "dev": dev, "decision": decide(proto, dev),
           "rows": {k: [{c: r[c] for c in ROW_KEYS} for r in rs] for k, rs in rows.items()}}
    print(f"decision: {json.dumps(res['decision'])}", flush=True)
    RESULT.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
