"""Pre-registered selection of the family-convention adaptation (backend/svg/family_adapt.py) for issue 18's style bar.

Restyles of another family's drawing (the wanted family does not draw the prompted concept) were judged the target
style 41 % of the time (pixel judge 22 %). family_adapt moves such drawings toward the wanted family's measured ink
box and corner conventions. The protocol (bench/results/svg_family_adapt_protocol.json) was committed before any
candidate was measured: candidates, development seeds, judges and the selection rule.

    python bench/svg_family_adapt.py select 1 # round 1's candidates on the development seeds -> bench/results/svg_family_adapt.json
    python bench/svg_family_adapt.py select 2 # round 2 (svg_family_adapt_protocol_round2.json, registered after round 1)
    python bench/svg_family_adapt.py seed0    # the reported seed 0, once, baseline and the final selected setting

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
PROTOCOL = ROOT / "bench" / "results" / "svg_family_adapt_protocol.json"
PROTOCOLS = {"1": PROTOCOL, "2": PROTOCOL.with_name("svg_family_adapt_protocol_round2.json")}
ROW_KEYS = ("seed", "target_style", "prompt", "concept", "source", "own_family", "judge1", "judge2", "top5",
            "top5_unmodified", "copy", "adapted")
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
                         "adapted": any("conventions:" in n for n in cand.notes)})
    family_adapt.ADAPTATIONS = ()
    return rows


def context() -> dict:
    import torch

    from backend.svg.corpus import load_corpus
    from backend.svg.engines import RetrievalEngine
    from backend.svg.offline import legibility_eval as le

    torch.set_num_threads(1)
    corpus = load_corpus()
    styles_of: dict[str, set] = {}
    for ic in corpus.icons:
        styles_of.setdefault(ic.concept, set()).add(ic.style)
    return {"corpus": corpus, "sj": le.StyleClassifier.cached(corpus, le.JUDGE_PER_STYLE, 0),
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


def final_setting(res: dict) -> str:
    """The last round's selection (rounds run in order; a round that keeps nothing leaves the defaults off)."""
    rounds = res.get("rounds", {})
    return rounds[max(rounds)]["selected"] if rounds else "off"


def main() -> None:
    cmd = sys.argv[1]
    res = json.loads(RESULT.read_text()) if RESULT.exists() else {}
    res.setdefault("protocols", {k: str(v.relative_to(ROOT)) for k, v in PROTOCOLS.items()})
    ctx = context()
    if cmd == "select":
        rnd = sys.argv[2]
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
