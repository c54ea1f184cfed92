"""Pre-registered selection of the family-convention adaptation (backend/svg/family_adapt.py) for issue 18's style bar.

Restyles of another family's drawing (the wanted family does not draw the prompted concept) were judged the target
style 41 % of the time (pixel judge 22 %). family_adapt moves such drawings toward the wanted family's measured ink
box and corner conventions. The protocol (bench/results/svg_family_adapt_protocol.json) was committed before any
candidate was measured: candidates, development seeds, judges and the selection rule.

    python bench/svg_family_adapt.py select 1 # round 1's candidates on the development seeds -> bench/results/svg_family_adapt.json
    python bench/svg_family_adapt.py select 2 # round 2 (svg_family_adapt_protocol_round2.json, registered after round 1)
    python bench/svg_family_adapt.py select 3 # round 3 (..._round3.json): weight for line families, fresh seeds 7-12
    python bench/svg_family_adapt.py seed0    # the reported seed 0, once, baseline and the final selected setting
    python bench/svg_family_adapt.py diagnose # what other-family restyles (defaults, dev seeds) differ in and are taken for
    python bench/svg_family_adapt.py tables   # the generated block in docs/svg_studio.md and sentence in README.md

Restyles are made exactly as legibility_eval.run makes its "retrieval + restyle" rows. Each is judged by the
evaluation's trees judge (legibility_eval.StyleClassifier, cached) and the pixel-only CNN judge
(bench/svg_second_judge.py), and recognised by the corpus raster recogniser (concept top-5, source left out).
"own family" = the target style's family draws the retrieved concept (the structural-ceiling split).
Log: bench/results/svg_family_adapt.log.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from backend.docs_blocks import replace_block  # noqa: E402 (after the path setup)

PROTOCOL = ROOT / "bench" / "results" / "svg_family_adapt_protocol.json"
PROTOCOLS = {"1": PROTOCOL, "2": PROTOCOL.with_name("svg_family_adapt_protocol_round2.json"),
             "3": PROTOCOL.with_name("svg_family_adapt_protocol_round3.json")}
ROW_KEYS = ("seed", "target_style", "prompt", "concept", "source", "own_family", "judge1", "judge2", "top5",
            "top5_unmodified", "copy", "adapted", "card_mode")
RESULT = ROOT / "bench" / "results" / "svg_family_adapt.json"


def run_config(seed: int, steps: tuple[str, ...], ctx: dict) -> list[dict]:
    from backend.svg import family_adapt
    from backend.svg.offline import legibility_eval as le

    family_adapt.ADAPTATIONS = tuple(steps)
    corpus, sj, rec, retr = ctx["corpus"], ctx["sj"], ctx["rec"], ctx["retr"]
    cards = le.exemplar_cards(corpus, seed)
    prompts = le.prompts_for(corpus, seed)
    rows = []
    for st, (card, _ids) in cards.items():
        for k, (concept, _split) in enumerate(prompts):
            cand = retr.generate(concept, card, 1, seed + k)[0]
            src = corpus.by_id(cand.source_id or "")
            fam = st.split("/")[0]
            own = any(s.split("/")[0] == fam for s in ctx["styles_of"].get(cand.concept, ()))
            ranked, nearest = rec.rank(cand.svg, src.id)
            ranked_u, _ = rec.rank(src.svg, src.id)
            rows.append({"seed": seed, "target_style": st, "prompt": concept, "concept": cand.concept,
                         "source": src.id, "own_family": own, "svg": cand.svg, "judge1": sj.predict(cand.svg),
                         "top5": cand.concept in ranked[:5], "top5_unmodified": cand.concept in ranked_u[:5],
                         "copy": nearest > 0.9,
                         "adapted": any("conventions:" in n for n in cand.notes), "card_mode": card.mode})
    family_adapt.ADAPTATIONS = ()
    return rows


def context(shipped_judge: bool = False) -> dict:
    """Corpus, judge, recogniser, engine. The judge is the one this bench's rounds used (blocks M, before svg12)
    unless `shipped_judge` asks for the evaluation's current one (bench/svg_pick_adapt.py)."""
    import torch

    from backend.svg.corpus import load_corpus
    from backend.svg.engines import RetrievalEngine
    from backend.svg.offline import legibility_eval as le

    torch.set_num_threads(1)
    corpus = load_corpus()
    styles_of: dict[str, set] = {}
    for ic in corpus.icons:
        styles_of.setdefault(ic.concept, set()).add(ic.style)
    judge = (le.JUDGE_BLOCKS, le.JUDGE_PARAMS) if shipped_judge else ()
    return {"corpus": corpus, "sj": le.StyleClassifier.cached(corpus, le.JUDGE_PER_STYLE, 0, *judge),
            "rec": le.Recogniser(corpus), "retr": RetrievalEngine(), "styles_of": styles_of}


def judge2(rows: list[dict]) -> None:
    import svg_second_judge as sj2

    net, styles = sj2.load_judge()
    for r, p in zip(rows, sj2.predict(net, styles, np.stack([sj2.render(r["svg"]) for r in rows])), strict=True):
        r["judge2"] = p


def summary(rows: list[dict]) -> dict:
    def acc(rs, key):
        return {"n": len(rs), "correct": int(sum(r[key] == r["target_style"] for r in rs))}

    own = [r for r in rows if r["own_family"]]
    other = [r for r in rows if not r["own_family"]]
    return {"n": len(rows),
            **{j: {"all": acc(rows, j), "own_family": acc(own, j), "other_family": acc(other, j)}
               for j in ("judge1", "judge2")},
            "concept_top5": round(float(np.mean([r["top5"] for r in rows])), 4),
            "concept_top5_unmodified": round(float(np.mean([r["top5_unmodified"] for r in rows])), 4),
            "near_copy_pct": round(100 * float(np.mean([r["copy"] for r in rows])), 1),
            "adapted": int(sum(r["adapted"] for r in rows)),
            "by_seed_judge1": {str(s): int(sum(r["judge1"] == r["target_style"] for r in rows if r["seed"] == s))
                               for s in sorted({r["seed"] for r in rows})}}


def select(proto: dict, base: dict) -> str:
    """The protocol's rule, applied to the development summaries."""
    rule = proto["selection"]
    ok = []
    for name, s in base.items():
        if name == "off":
            continue
        b = base["off"]
        gain = s["judge1"]["all"]["correct"] - b["judge1"]["all"]["correct"]
        if (gain >= rule["min_gain_restyles"] and s["judge2"]["all"]["correct"] >= b["judge2"]["all"]["correct"]
                and s["concept_top5"] >= s["concept_top5_unmodified"] - rule["max_concept_top5_drop"]):
            ok.append((-s["judge1"]["all"]["correct"], len(proto["candidates"][name]), name))
    return sorted(ok)[0][2] if ok else "off"


def diagnose(ctx: dict) -> dict:
    """Other-family restyles of the development seeds (defaults): what the trees judge takes them for, and their
    ink box, filled-shape line weight and corner habit beside the target family's own (family_conventions.json,
    training-concept icons)."""
    from backend.svg.corners import corner_counts
    from backend.svg.family_adapt import ink_extent, load_conventions
    from backend.svg.paths import parse_svg_paths
    from backend.svg.style import visual_weight

    conv = load_conventions()
    rows = [r for seed in json.loads(PROTOCOL.read_text())["dev_seeds"] for r in run_config(seed, (), ctx)]
    out = {}
    for st in sorted({r["target_style"] for r in rows}, key=[r["target_style"] for r in rows].index):
        rs = [r for r in rows if r["target_style"] == st and not r["own_family"]]
        if not rs:
            continue
        meas = []
        for r in rs:
            paths, _ = parse_svg_paths(r["svg"])
            rounded, sharp = corner_counts(paths)
            meas.append((ink_extent(paths)[0], visual_weight(r["svg"])[0], rounded, sharp))
        m = np.array(meas)
        wrong = [r["judge1"] for r in rs if r["judge1"] != st]
        c = conv[st]
        out[st] = {"n": len(rs), "judge1_correct": len(rs) - len(wrong),
                   "taken_for": {k: wrong.count(k) for k in sorted(set(wrong), key=lambda k: (-wrong.count(k), k))[:3]},
                   "sources": {k: v for k, v in sorted(
                       {s: sum(r["source"].rsplit("/", 1)[0] == s for r in rs) for s in
                        {r["source"].rsplit("/", 1)[0] for r in rs}}.items(), key=lambda kv: -kv[1])[:3]},
                   "extent_median": round(float(np.median(m[:, 0])), 3),
                   "family_extent": [c["extent_q25"], c["extent_q75"]],
                   "weight_median": round(float(np.median(m[:, 1])), 4),
                   "family_weight": [c["weight_q25"], c["weight_q75"]],
                   "sharp_share": round(float(m[:, 3].sum() / max(m[:, 2].sum() + m[:, 3].sum(), 1)), 3),
                   "family_sharp_share": c["sharp_share"]}
    return out


def final_setting(res: dict) -> str:
    """The last round's selection (rounds run in order; a round that keeps nothing leaves the defaults off)."""
    rounds = res.get("rounds", {})
    return rounds[max(rounds)]["selected"] if rounds else "off"


# ------------------------------------------------------------------------------------------------ docs
BEGIN, END = ("<!-- svg-family-adapt:begin (generated by python bench/svg_family_adapt.py tables) -->",
              "<!-- svg-family-adapt:end -->")
DOC, README = ROOT / "docs" / "svg_studio.md", ROOT / "README.md"


def _c(a: dict) -> str:
    return f"{a['correct']}/{a['n']} ({100 * a['correct'] / a['n']:.0f} %)" if a["n"] else "–"


def _row(label: str, s: dict, verdict: str) -> str:
    return (f"| {label} | {_c(s['judge1']['all'])} | {_c(s['judge1']['other_family'])} | {_c(s['judge2']['all'])} | "
            f"{_c(s['judge2']['other_family'])} | {s['concept_top5']:.2f} / {s['concept_top5_unmodified']:.2f} | "
            f"{s['near_copy_pct']:.1f} | {s['adapted']} | {verdict} |")


def doc_block(res: dict) -> str:
    """The docs paragraph and table, written from the committed result only."""
    lines_d = []
    if res.get("diagnosis"):
        lines_d = ["", "Diagnosis first (development seeds, current defaults, restyles of another family's drawing; the "
                   "target family's conventions from its training-concept icons; line weight = 2·ink/perimeter of the "
                   "box, corners = share of convex corners of filled shapes that are sharp):", "",
                   "| target style | other-family restyles | trees judge right | taken for | main sources | ink box "
                   "restyles / family IQR | line weight restyles / family IQR | sharp corners restyles / family |",
                   "|---|---|---|---|---|---|---|---|"]
        for st, d in res["diagnosis"].items():
            lines_d.append(
                f"| {st} | {d['n']} | {d['judge1_correct']} | "
                f"{', '.join(f'{k} {v}' for k, v in d['taken_for'].items()) or '–'} | "
                f"{', '.join(f'{k} {v}' for k, v in d['sources'].items())} | {d['extent_median']:.2f} / "
                f"{d['family_extent'][0]:.2f}–{d['family_extent'][1]:.2f} | {24 * d['weight_median']:.2f} / "
                f"{24 * d['family_weight'][0]:.2f}–{24 * d['family_weight'][1]:.2f} (of 24) | "
                f"{d['sharp_share']:.2f} / {d['family_sharp_share']:.2f} |")
        diag = res["diagnosis"]
        in_box = [st for st, d in diag.items() if d["family_extent"][0] - 0.01 <= d["extent_median"]
                  <= d["family_extent"][1] + 0.01]
        in_w = [st for st, d in diag.items() if d["family_weight"][0] * 0.98 <= d["weight_median"]
                <= d["family_weight"][1] * 1.02]
        src = [st for st, d in diag.items() if d["taken_for"] and any(k in d["sources"] for k in d["taken_for"])]
        lines_d += ["", f"For {len(in_box)} of {len(diag)} targets the restyles' median ink box and for {len(in_w)} "
                    f"their median line weight already lie within the family's interquartile range (the card sets "
                    f"padding and weight); outside: box {', '.join(st for st in diag if st not in in_box) or 'none'}, "
                    f"weight {', '.join(st for st in diag if st not in in_w) or 'none'}. For {len(src)} targets "
                    f"({', '.join(src)}) the styles the judge takes wrong restyles for include one of their main source families."]
    head = ("| setting | trees judge, all | trees, other-family | pixel judge, all | pixel, other-family | "
            "concept top-5 restyled / unmodified | near copy % | restyles adapted | kept by the rule |")
    lines = ["Family-convention adaptation of other families' drawings (`backend/svg/family_adapt.py`; "
             "`bench/svg_family_adapt.py`, result `bench/results/svg_family_adapt.json`, protocols "
             + ", ".join(f"`{p}`" for p in res["protocols"].values()) + ", each committed before its round was "
             "measured): when the wanted family does not draw the concept, the restyled drawing of another family is "
             "moved toward the wanted family's conventions measured on 80 of its training-concept icons "
             "(`static/svg/family_conventions.json`): ink box (largest side within the family's interquartile "
             "range), corners (sharp for families whose convex corners are ≥ 70 % sharp, rounded with the family's "
             "median radius where ≤ 30 %), and the weight of filled shapes (within the family's interquartile "
             "line weight, no counter closed). Rounds 1–2 chose on the development seeds 1–6; round 3 (`line-weight`: the "
             "weight step only when the wanted style card's mode is a line mode, outline or outline-fill, never "
             "solid), suggested by round 2's per-target table, was judged on fresh development seeds 7–12 that "
             "nothing had used before (384 restyles per round; \"other-family\" = the target family does not draw "
             "the retrieved concept). Rule: ≥ +4 restyles by the trees judge, the pixel judge not lower, concept "
             "top-5 within 10 points of the unmodified icon, against the baseline measured on the same seeds.",
             *lines_d, "", head, "|---|---|---|---|---|---|---|---|---|"]
    for rnd, r in sorted(res["rounds"].items()):
        seeds = json.loads(PROTOCOLS[rnd].read_text())["dev_seeds"]
        for name, s in r["dev"].items():
            verdict = ("baseline" if name == "off" else "**selected**" if name == r["selected"] else "no")
            lines.append(_row(f"round {rnd} (seeds {seeds[0]}–{seeds[-1]}): {name}", s, verdict))
    final = final_setting(res)
    last = res["rounds"][max(res["rounds"])]
    if last.get("rows"):
        names = [n for n in last["rows"] if n != "off"]
        modes = "card_mode" in last["rows"]["off"][0]
        lines += ["", f"Round {max(res['rounds'])} per target style, other-family restyles judged the target style "
                  "(trees judge; pixel judge in brackets), off → each candidate"
                  + ("; \"line cards\" = seeds whose exemplar card has a line mode:" if modes else ":"), "",
                  "| target style | n | " + ("line cards | " if modes else "") + "off | " + " | ".join(names) + " |",
                  "|---|---|---|" + ("---|" if modes else "") + "---|" * len(names)]
        for st in dict.fromkeys(x["target_style"] for x in last["rows"]["off"]):
            def cnt(rows, j, st=st):
                return sum(x[j] == st for x in rows if x["target_style"] == st and not x["own_family"])
            n = sum(1 for x in last["rows"]["off"] if x["target_style"] == st and not x["own_family"])
            cells = [f"{cnt(last['rows'][k], 'judge1')} ({cnt(last['rows'][k], 'judge2')})" for k in ["off", *names]]
            by_seed = {x["seed"]: x.get("card_mode") for x in last["rows"]["off"] if x["target_style"] == st}
            line = f"{sum(m in ('outline', 'outline-fill') for m in by_seed.values())}/{len(by_seed)} | " if modes else ""
            lines.append(f"| {st} | {n} | {line}" + " | ".join(cells) + " |")
        if modes:
            mixed = []
            for st in dict.fromkeys(x["target_style"] for x in last["rows"]["off"]):
                ms = {x["seed"]: x["card_mode"] for x in last["rows"]["off"] if x["target_style"] == st}
                k = sum(m in ("outline", "outline-fill") for m in ms.values())
                if 0 < k < len(ms):
                    mixed.append(f"{st} {k}/{len(ms)}")
            adapted = {k: r_["adapted"] for k, r_ in last["dev"].items() if k != "off"}
            lines += ["", f"The line-mode gate adapted {', '.join(f'{v} ({k})' for k, v in adapted.items())} of "
                      f"{last['dev']['off']['n']} restyles. The card's mode follows the three exemplars, not the "
                      f"family: it measured a line mode on some seeds and solid on others for {', '.join(mixed)}."]
    s0 = res.get("seed0")
    lines.append("")
    if s0:
        off, fin = s0["summary"]["off"], s0["summary"][s0["setting"]]
        lines.append(f"Reported seed 0 (run only after a round's selection, with the final setting; now: {s0['setting']}):")
        lines += ["", head, "|---|---|---|---|---|---|---|---|---|", _row("seed 0: off", off, "baseline")]
        if s0["setting"] != "off":
            lines.append(_row(f"seed 0: {s0['setting']}", fin, "selected"))
        lines.append("")
    if final == "off":
        lines.append("No candidate met the rule, so the studio keeps the adaptation off (`family_adapt.ADAPTATIONS = "
                     "()`); the style figures above are unchanged by it. Where a step helps one target it costs "
                     "another (per-target table above).")
    else:
        lines.append(f"The studio applies `{final}` by default (`family_adapt.ADAPTATIONS`); each adapted candidate's "
                     "notes say what was changed.")
    return "\n".join(lines)


def readme_sentence(res: dict) -> str:
    final = final_setting(res)
    def tried(rnds):
        return ", ".join(f"{n} {s['judge1']['all']['correct']}" for k in rnds for n, s in res["rounds"][k]["dev"].items()
                         if n != "off")

    early = [k for k in sorted(res["rounds"]) if k in ("1", "2")]
    s = (f"Moving other families' drawings toward the wanted family's measured ink box, corners and filled-shape "
         f"weight (`backend/svg/family_adapt.py`, pre-registered rounds, `bench/svg_family_adapt.py`): on development "
         f"seeds 1–6 {tried(early)} of 384 against {res['rounds']['1']['dev']['off']['judge1']['all']['correct']} off")
    if "3" in res["rounds"]:
        r3 = res["rounds"]["3"]["dev"]
        s += (f"; the weight step for line families only, on fresh seeds 7–12, {tried(['3'])} of 384 against "
              f"{r3['off']['judge1']['all']['correct']} off (pixel judge {r3['line-weight']['judge2']['all']['correct']}"
              f" vs {r3['off']['judge2']['all']['correct']})")
    s += ", "
    if final == "off":
        return s + "so it stays off."
    s0 = res["seed0"]["summary"]
    return s + (f"so `{final}` is on; seed 0 {s0['off']['judge1']['all']['correct']} → "
                f"{s0[final]['judge1']['all']['correct']} of 64 (pixel judge {s0['off']['judge2']['all']['correct']} → "
                f"{s0[final]['judge2']['all']['correct']}).")


def write_docs() -> None:
    res = json.loads(RESULT.read_text())
    for path, body in ((DOC, doc_block(res)), (README, readme_sentence(res))):
        path.write_text(replace_block(path.read_text(), BEGIN, END, body, required=True, where=path.name))


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cmd", choices=("select", "seed0", "diagnose", "tables"))
    ap.add_argument("round", nargs="?", choices=tuple(PROTOCOLS), help="select: which registered round")
    a = ap.parse_args()
    cmd = a.cmd
    if cmd == "select" and a.round is None:
        ap.error("select needs the round (1, 2 or 3)")
    if cmd == "tables":
        write_docs()
        return
    res = json.loads(RESULT.read_text()) if RESULT.exists() else {}
    res.setdefault("protocols", {k: str(v.relative_to(ROOT)) for k, v in PROTOCOLS.items()})
    ctx = context()
    if cmd == "select":
        rnd = a.round
        proto = json.loads(PROTOCOLS[rnd].read_text())
        dev, rows_of = {}, {}
        for name, steps in {"off": [], **proto["candidates"]}.items():
            t = time.time()
            rows = [r for seed in proto["dev_seeds"] for r in run_config(seed, tuple(steps), ctx)]
            judge2(rows)
            dev[name] = summary(rows)
            rows_of[name] = [{k: r[k] for k in ROW_KEYS} for r in rows]
            print(f"round {rnd} {name}: {json.dumps(dev[name])} ({time.time() - t:.0f}s)", flush=True)
        res.setdefault("rounds", {})[rnd] = {"protocol": str(PROTOCOLS[rnd].relative_to(ROOT)), "dev": dev,
                                            "selected": select(proto, dev), "rows": rows_of}
        print(f"round {rnd} selected: {res['rounds'][rnd]['selected']}", flush=True)
    elif cmd == "diagnose":
        res["diagnosis"] = diagnose(ctx)
        print(json.dumps(res["diagnosis"], indent=1))
    elif cmd == "seed0":
        chosen = final_setting(res)
        steps = {"off": []}
        for rnd in sorted(res["rounds"]):
            steps |= json.loads(PROTOCOLS[rnd].read_text())["candidates"]
        out, rows_of = {}, {}
        for name in dict.fromkeys(["off", chosen]):
            rows = run_config(0, tuple(steps[name]), ctx)
            judge2(rows)
            out[name] = summary(rows)
            rows_of[name] = [{k: r[k] for k in ROW_KEYS} for r in rows]
            print(f"seed 0 {name}: {json.dumps(out[name])}", flush=True)
        res["seed0"] = {"setting": chosen, "summary": out, "rows": rows_of}
    RESULT.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
