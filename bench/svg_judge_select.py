"""A better style judge for issue 18's style figure, chosen on GENUINE corpus icons only (helper svg12).

Protocol, registered before any measurement: bench/results/svg_judge_protocol.json. Candidates C0-C5 (feature
blocks of backend/svg/offline/judge_features.py, the current judge's gradient-boosted trees) are fitted on the
current judge's training split (dataset.style_split, seed 0, up to 600 training-concept icons per style) and scored
on every held-out-concept icon (2,825). Restyled or generated icons are never used here.

    python bench/svg_judge_select.py measure   # -> bench/results/svg_judge_select.json (+ .log), and when a
                                               #    candidate is adopted its fitted judge in the evaluator's cache
"""
from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OUT = ROOT / "bench" / "results" / "svg_judge_select.json"
PROTOCOL = ROOT / "bench" / "results" / "svg_judge_protocol.json"
BASE = "C0 current"
CANDIDATES: dict[str, tuple[tuple[str, ...], dict]] = {
    "C0 current": (("M",), {}),
    "C1 M+I": (("M", "I"), {}),
    "C2 M+H": (("M", "H"), {}),
    "C3 M+L": (("M", "L"), {}),
    "C4 M+I+H+L": (("M", "I", "H", "L"), {}),
    "C5 M, slower fit": (("M",), {"max_iter": 400, "learning_rate": 0.05, "l2_regularization": 1.0}),
}
MIX_GAIN, TARGET_DROP, OVERALL_DROP, MAX_S_PER_ICON = 0.03, 0.03, 0.01, 0.5


def adoption(results: dict[str, dict], base: str = BASE) -> dict:
    """The registered rule on measured candidates ({name: {"mix", "overall", "by_target": {style: acc},
    "s_per_icon"}}, in registration order): eligible = mix >= base + 0.03, no target style below base by more than
    0.03, overall >= base - 0.01, under 0.5 s per icon; the eligible candidate with the highest mix (3 decimals;
    ties to the earlier one) is adopted, none eligible keeps the base."""
    b = results[base]
    why: dict[str, list[str]] = {}
    for name, r in results.items():
        if name == base:
            continue
        fails = []
        if round(r["mix"], 3) < round(b["mix"] + MIX_GAIN, 3):
            fails.append(f"mix {r['mix']:.3f} < {b['mix']:.3f} + {MIX_GAIN}")
        for st, acc in r["by_target"].items():
            if round(b["by_target"][st] - acc, 3) > TARGET_DROP:
                fails.append(f"{st} {acc:.3f} vs {b['by_target'][st]:.3f}")
        if round(b["overall"] - r["overall"], 3) > OVERALL_DROP:
            fails.append(f"overall {r['overall']:.3f} vs {b['overall']:.3f}")
        if r.get("s_per_icon", 0.0) >= MAX_S_PER_ICON:
            fails.append(f"{r['s_per_icon']:.2f} s per icon")
        why[name] = fails
    eligible = [n for n, f in why.items() if not f]
    best = max(eligible, key=lambda n: (round(results[n]["mix"], 3), -list(results).index(n)), default=None)
    return {"adopted": best or base, "changed": best is not None, "eligible": eligible, "failed": why}


def _split(corpus):
    from backend.svg.offline.dataset import style_split
    from backend.svg.offline.legibility_eval import JUDGE_PER_STYLE

    return style_split(corpus, str, JUDGE_PER_STYLE, 10 ** 6, 0)


def _raw(corpus, log) -> tuple:
    """All four raw blocks of the split's icons, computed once (cached under DATA_DIR)."""
    from backend.config import get_settings
    from backend.svg.offline.judge_features import BLOCKS, raw_blocks

    key = hashlib.sha256(f"{corpus.built}|{len(corpus)}|judge-blocks-v1".encode()).hexdigest()[:12]
    path = get_settings().data_dir / "cache" / "svg" / f"judge_blocks_{key}.npz"
    xs, ys, xt, yt = _split(corpus)
    if path.exists():
        z = np.load(path)
        rtr = {b: z[f"tr_{b}"] for b in BLOCKS}
        rte = {b: z[f"te_{b}"] for b in BLOCKS}
        log(f"raw blocks from {path.name}")
    else:
        t = time.time()
        rtr, rte = {}, {}
        for b in BLOCKS:
            rtr.update(raw_blocks(xs, (b,)))
            rte.update(raw_blocks(xt, (b,)))
            log(f"block {b}: {rtr[b].shape[1]} values, {time.time() - t:.0f}s")
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, **{f"tr_{b}": v for b, v in rtr.items()}, **{f"te_{b}": v for b, v in rte.items()})
    return xs, ys, xt, yt, rtr, rte


def _metrics(sj, targets) -> dict:
    by_t = {st: round(sj.real_acc_by_style[st], 3) for st in targets}
    return {"mix": round(float(np.mean([sj.real_acc_by_style[st] for st in targets])), 4),
            "overall": round(sj.real_acc, 4), "balanced": round(sj.real_acc_balanced, 4),
            "targets_pooled": round(sj.real_acc_targets, 4), "by_target": by_t,
            "right_by_target": {st: int(round(sj.real_acc_by_style[st] * sj.n_test_by_style[st])) for st in targets},
            "n_by_target": {st: sj.n_test_by_style[st] for st in targets},
            "confused_with": {st: sj.confused_with.get(st, "") for st in targets},
            "all_styles": {st: round(v, 3) for st, v in sj.real_acc_by_style.items()},
            "train_icons": sj.n_train, "test_icons": sj.n_test}


def _part_dir() -> Path:
    from backend.config import get_settings

    d = get_settings().data_dir / "cache" / "svg" / "judge_candidates"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _slug(name: str) -> str:
    return name.split()[0]


def measure(log=print, only: tuple[str, ...] = ()) -> dict:
    import torch

    from backend.svg.corpus import load_corpus
    from backend.svg.offline.legibility_eval import TARGET_STYLES, StyleClassifier

    torch.set_num_threads(1)
    t0 = time.time()
    corpus = load_corpus()
    xs, ys, xt, yt, rtr, rte = _raw(corpus, log)
    log(f"split: {len(ys)} training-concept icons, {len(yt)} held-out-concept icons ({time.time() - t0:.0f}s)")
    res: dict = {"about": __doc__.split("\n")[0], "protocol": str(PROTOCOL.relative_to(ROOT)),
                 "script": "bench/svg_judge_select.py", "candidates": {}}
    fitted = {}
    for name, (blocks, params) in CANDIDATES.items():
        if only and _slug(name) not in only:
            continue
        t = time.time()
        data = ({b: rtr[b] for b in blocks}, ys, {b: rte[b] for b in blocks}, yt)
        sj = StyleClassifier(corpus, seed=0, blocks=blocks, params=params, data=data)
        fit_s = time.time() - t
        t = time.time()
        for svg in xt[:: max(len(xt) // 20, 1)][:20]:
            sj.predict(svg)
        per_icon = (time.time() - t) / 20
        m = _metrics(sj, TARGET_STYLES)
        res["candidates"][name] = {"blocks": list(blocks), "params": params, "fit_s": round(fit_s, 1),
                                   "s_per_icon": round(per_icon, 4), **m}
        fitted[name] = sj
        log(f"{name}: mix {m['mix']:.3f}, overall {m['overall']:.3f}, target icons {m['targets_pooled']:.3f}, "
            f"per target {json.dumps(m['by_target'])}; fit {fit_s:.0f}s, {per_icon * 1000:.0f} ms/icon")
        if only:  # a part run (candidates measured in parallel processes): result and fitted judge kept for `decide`
            (_part_dir() / f"{_slug(name)}.json").write_text(json.dumps(res["candidates"][name]))
            with open(_part_dir() / f"{_slug(name)}.pkl", "wb") as fh:
                pickle.dump(sj, fh)
            continue
        OUT.write_text(json.dumps(res, indent=1))
    if only:
        return res
    res["decision"] = adoption(res["candidates"])
    log(f"decision: {json.dumps(res['decision'])}")
    if res["decision"]["changed"]:
        name = res["decision"]["adopted"]
        blocks, params = CANDIDATES[name]
        path = StyleClassifier.cache_path(corpus, 600, 0, blocks, params)
        with open(path, "wb") as fh:
            pickle.dump(fitted[name], fh)
        log(f"adopted judge pickled to {path.name}")
    res["elapsed_s"] = round(time.time() - t0, 1)
    OUT.write_text(json.dumps(res, indent=1))
    return res


def decide(log=print) -> dict:
    """Merge candidates measured by part runs (`measure --only`) into the result, in registration order, apply the
    rule and put the adopted judge where the evaluator finds it."""
    from backend.svg.corpus import load_corpus
    from backend.svg.offline.legibility_eval import StyleClassifier

    res = json.loads(OUT.read_text()) if OUT.exists() else {"candidates": {}}
    for name in CANDIDATES:
        part = _part_dir() / f"{_slug(name)}.json"
        if name not in res["candidates"] and part.exists():
            res["candidates"][name] = c = json.loads(part.read_text())
            log(f"{name} (part run): mix {c['mix']:.3f}, overall {c['overall']:.3f}, target icons "
                f"{c['targets_pooled']:.3f}, per target {json.dumps(c['by_target'])}; fit {c['fit_s']:.0f}s, "
                f"{c['s_per_icon'] * 1000:.0f} ms/icon")
    missing = [n for n in CANDIDATES if n not in res["candidates"]]
    if missing:
        raise SystemExit(f"not measured yet: {missing}")
    res["candidates"] = {n: res["candidates"][n] for n in CANDIDATES}
    res["decision"] = adoption(res["candidates"])
    log(f"decision: {json.dumps(res['decision'])}")
    if res["decision"]["changed"]:
        name = res["decision"]["adopted"]
        blocks, params = CANDIDATES[name]
        src = _part_dir() / f"{_slug(name)}.pkl"
        with open(src, "rb") as fh:
            sj = pickle.load(fh)
        if round(sj.real_acc, 4) != res["candidates"][name]["overall"]:
            raise SystemExit(f"{src.name} is not the measured {name}")
        path = StyleClassifier.cache_path(load_corpus(), 600, 0, blocks, params)
        path.write_bytes(src.read_bytes())
        log(f"adopted judge copied to {path.name}")
    OUT.write_text(json.dumps(res, indent=1))
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("cmd", choices=["measure", "decide"])
    ap.add_argument("--only", default="", help="comma-separated candidate ids (C1,...): a part run, merged by decide")
    a = ap.parse_args(argv)
    log = lambda m: print(m, flush=True)  # noqa: E731
    if a.cmd == "measure":
        measure(log=log, only=tuple(x for x in a.only.split(",") if x))
    else:
        decide(log=log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
