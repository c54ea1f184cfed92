"""Why the style judge rejects restyles of another family's drawing (issue 18), and what svg10's two conversions do.

Development seeds only (1-6 by default; the reported seed 0 is never used here). Restyles are made exactly as
legibility_eval.run makes its "retrieval + restyle" rows and judged by the evaluation's cached trees judge
(legibility_eval.StyleClassifier); concept top-5 by the corpus raster recogniser (source left out).

    python bench/svg_restyle_diagnosis.py ablate    # the two conversions off/on (style.SOLID_FROM_LINES, style.INSET_RINGS)
    python bench/svg_restyle_diagnosis.py features  # per target: the judge's scalar measurements of other-family restyles
                                                    # against 80 real training-concept icons of the target (z-scores)

Result: bench/results/svg_restyle_diagnosis.json; log: bench/results/svg_restyle_diagnosis.log.
"""
from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OUT = ROOT / "bench" / "results" / "svg_restyle_diagnosis.json"
SEEDS = (1, 2, 3, 4, 5, 6)
SETTINGS = {"before (both off)": (False, False), "solid glyphs only": (True, False),
            "inside outlines only": (False, True), "both (shipped)": (True, True)}
WEAK = ("heroicons/solid", "ionicons/sharp", "remix/line", "mdi/outline", "phosphor/bold", "phosphor/fill")


def restyles(seeds=SEEDS) -> list[dict]:
    """The evaluation's restyle rows for `seeds` with the current settings, plus the SVG."""
    import torch

    from backend.svg.corpus import load_corpus
    from backend.svg.engines import RetrievalEngine
    from backend.svg.offline import legibility_eval as ev

    torch.set_num_threads(1)
    corpus = load_corpus()
    sj = ev.StyleClassifier.cached(corpus, ev.JUDGE_PER_STYLE, 0)
    rec, retr, rows = ev.Recogniser(corpus), RetrievalEngine(), []
    for seed in seeds:
        prompts = ev.prompts_for(corpus, seed)
        for st, (card, _ids) in ev.exemplar_cards(corpus, seed).items():
            for k, (concept, _split) in enumerate(prompts):
                cand = retr.generate(concept, card, 1, seed + k)[0]
                src = corpus.by_id(cand.source_id or "")
                m = ev.measure(cand.svg, cand.concept, st, rec, sj, src.id)
                rows.append({"seed": seed, "target_style": st, "prompt": concept, "source": src.id,
                             "own_family": src.set == st.split("/")[0], "svg": cand.svg, "style": m["style"],
                             "predicted_style": m["predicted_style"], "top5": m["top5"], "copy": m["copy"],
                             "outside": m["outside"]})
    return rows


def summary(rows: list[dict]) -> dict:
    own = [r for r in rows if r["own_family"]]
    oth = [r for r in rows if not r["own_family"]]
    per = {st: {"other_right": sum(r["style"] for r in oth if r["target_style"] == st),
                "other_n": sum(r["target_style"] == st for r in oth),
                "own_right": sum(r["style"] for r in own if r["target_style"] == st),
                "own_n": sum(r["target_style"] == st for r in own)}
           for st in sorted({r["target_style"] for r in rows})}
    return {"n": len(rows), "right": sum(r["style"] for r in rows), "own": [sum(r["style"] for r in own), len(own)],
            "other": [sum(r["style"] for r in oth), len(oth)], "top5": sum(r["top5"] for r in rows),
            "near_copy": sum(r["copy"] for r in rows), "outside_mean": float(np.mean([r["outside"] for r in rows])),
            "per_target": per}


def ablate(log=print) -> dict:
    from backend.svg import style

    out = {}
    for name, (solid, inset) in SETTINGS.items():
        style.SOLID_FROM_LINES, style.INSET_RINGS = solid, inset
        t0 = time.time()
        rows = restyles()
        out[name] = {"summary": summary(rows), "rows": [{k: v for k, v in r.items() if k != "svg"} for r in rows]}
        s = out[name]["summary"]
        log(f"{name}: style {s['right']}/{s['n']} (own {s['own'][0]}/{s['own'][1]}, other {s['other'][0]}/"
            f"{s['other'][1]}), concept top-5 {s['top5']}/{s['n']}, near copies {s['near_copy']}, mean outside "
            f"{s['outside_mean']:.5f} ({time.time() - t0:.0f}s)")
        if name == "both (shipped)":
            out["_svgs"] = rows
    style.SOLID_FROM_LINES, style.INSET_RINGS = True, True
    return out


def names() -> list[str]:
    from backend.svg.paths import CAPS, JOINS
    from backend.svg.style import MODES

    return (["stroke_w", "vis_weight", "solidity", "fill_ratio", "padding", "smooth_joints", "detail", "duotone", "ink",
             "n_paths", "opacity"] + [f"mode_{m}" for m in MODES] + [f"cap_{k}" for k in CAPS] +
            [f"join_{k}" for k in JOINS] + ["straight", "tiny", "sharp", "seg_len", "w_std", "stroked_share", "edge",
                                            "subpaths", "solid_ink"])


def features(rows: list[dict], log=print) -> dict:
    """legibility_eval.features' scalar part (the judge's measurements, not its 16-px render) of other-family
    restyles against 80 seeded real training-concept icons of the target style."""
    from backend.svg.corpus import load_corpus
    from backend.svg.offline import legibility_eval as ev
    from backend.svg.offline.dataset import is_heldout

    corpus, nm, out = load_corpus(), names(), {}
    for st in WEAK:
        pool = sorted((ic for ic in corpus.of_style(st) if not is_heldout(ic.concept)), key=lambda i: i.id)
        random.Random(0).shuffle(pool)
        real = np.stack([ev.features(ic.svg)[:len(nm)] for ic in pool[:80]])
        oth = [r for r in rows if r["target_style"] == st and not r["own_family"]]
        if not oth:
            continue
        fo = np.stack([ev.features(r["svg"])[:len(nm)] for r in oth])
        mu, sd = real.mean(0), real.std(0) + 1e-3
        z = (fo.mean(0) - mu) / sd
        top = [int(i) for i in np.argsort(-np.abs(z))[:6]]
        pred = Counter(r["predicted_style"] for r in oth).most_common(4)
        out[st] = {"other_right": sum(r["style"] for r in oth), "other_n": len(oth), "predicted": pred,
                   "largest": [{"feature": nm[i], "real_mean": round(float(mu[i]), 3), "real_sd": round(float(sd[i]), 3),
                                "restyle_mean": round(float(fo[:, i].mean()), 3), "z": round(float(z[i]), 2)}
                               for i in top]}
        log(f"{st}: other-family {out[st]['other_right']}/{len(oth)}; judged {pred}")
        for d in out[st]["largest"]:
            log(f"    {d['feature']:18s} real {d['real_mean']:.3f} ± {d['real_sd']:.3f}, restyles {d['restyle_mean']:.3f} "
                f"(z {d['z']:+.2f})")
    return out


def main(argv: list[str]) -> int:
    cmd = argv[0] if argv else "ablate"
    res = json.loads(OUT.read_text()) if OUT.exists() else {}
    logf = OUT.with_suffix(".log").open("a")

    def log(msg: str) -> None:
        print(msg, flush=True)
        logf.write(msg + "\n")
        logf.flush()

    log(f"== {cmd} {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC, development seeds {list(SEEDS)}")
    if cmd == "ablate":
        out = ablate(log)
        rows = out.pop("_svgs")
        res["seeds"], res["ablation"] = list(SEEDS), out
        res["features"] = features(rows, log)
    elif cmd == "features":
        res["features"] = features(restyles(), log)
    else:
        print(__doc__)
        return 2
    OUT.write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
