"""Bootstrap confidence intervals for the held-out real-photo figures (static/anomaly/heldout_report.json).

    nice -n 10 .venv/bin/python bench/anomaly_heldout_ci.py [--data DIR] [--resamples 10000] [--seed 0]

Without --data the benchmark is rebuilt exactly as the committed report's `benchmark.command` did
(`offline/heldout.py`: v1 with seed 17, or v2 = `generate_v2` when the report's benchmark has version 2) into a temp
folder. For a v2 benchmark the intervals are also given for its class groups (fresh / old, protocol_v3.json), on the
same resamples. The engines (shipped MetaUAS, kNN, ensemble) are run with the
CORRECT prompt at the report's size and prompt seed (`evaluate._class_maps`, the code behind the report), keeping
per-query image scores and per-pixel maps and masks. The point estimates must reproduce the report's means within
0.1 (else the script stops). Then a class-stratified bootstrap over queries: per class, the good and the defective
queries are each resampled with replacement (seeded); per resample, per-class I-AUROC and P-AP are recomputed and
averaged over classes. All engines share the same resamples, so differences are PAIRED.

The metrics per resample are EXACT, not approximations: a resample is a vector of query multiplicities, and
- I-AUROC = Σ w_good·w_bad·[s_bad > s_good] (+½ on ties) / (Σ w_good · Σ w_bad) (= metrics.auroc on the resample),
- P-AP over all pixels = Σ_k ΔTP_k/P · TP_k/(TP_k + FP_k) at the distinct positive-pixel scores v_k, where TP_k
  and FP_k are the multiplicity-weighted per-query counts of positive / negative pixels scoring ≥ v_k
  (= metrics.average_precision on the concatenated resampled maps; the unit test checks both identities).
Output: static/anomaly/heldout_ci.json and the `<!-- anomaly-heldout-ci:... -->` table block in docs/anomaly.md.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend.docs_blocks import replace_block  # noqa: E402 (after the path setup)

REPORT = ROOT / "static" / "anomaly" / "heldout_report.json"
OUT = ROOT / "static" / "anomaly" / "heldout_ci.json"
# held-out v3 (static/anomaly/protocol_v7.json): its own report and CI file; its docs block is made by
# backend/anomaly/offline/heldout_v3.py from the committed JSON (the v2 block above is left alone)
V3_REPORT = ROOT / "static" / "anomaly" / "heldout_v3" / "report.json"
V3_OUT = ROOT / "static" / "anomaly" / "heldout_v3" / "ci.json"
DOC = ROOT / "docs" / "anomaly.md"
BEGIN, END = "<!-- anomaly-heldout-ci:begin -->", "<!-- anomaly-heldout-ci:end -->"
ENGINES = ("metauas", "knn", "ensemble")
METRICS = ("i_auroc", "p_ap")
# (a, b, metric): intervals of a − b
PAIRS = (("metauas", "knn", "p_ap"), ("metauas", "knn", "i_auroc"),
         ("ensemble", "metauas", "p_ap"), ("ensemble", "metauas", "i_auroc"))
LEVEL = 95.0


class ClassStats:
    """Sufficient statistics of one class for exact weighted I-AUROC and P-AP (weights = query multiplicities)."""

    def __init__(self, scores, labels, maps, masks):
        s = np.asarray(scores, dtype=np.float64).ravel()
        y = np.asarray(labels).astype(bool).ravel()
        maps = np.asarray(maps, dtype=np.float32)  # the dtype metrics.all_metrics compares in (ties matter)
        masks = np.asarray(masks).astype(bool)
        if not (s.size == y.size == len(maps) == len(masks)):
            raise ValueError("scores, labels, maps and masks must have one entry per query")
        self.n = s.size
        self.good, self.bad = np.flatnonzero(~y), np.flatnonzero(y)
        sg, sb = s[self.good][:, None], s[self.bad][None, :]
        self.pairs = (sb > sg).astype(np.float64) + 0.5 * (sb == sg)  # [good, bad]
        pos_vals = np.unique(np.concatenate([m[k] for m, k in zip(maps, masks, strict=True)]))[::-1]
        self.tp = np.empty((self.n, pos_vals.size))
        self.fp = np.empty((self.n, pos_vals.size))
        for q, (m, k) in enumerate(zip(maps, masks, strict=True)):
            p, ng = np.sort(m[k]), np.sort(m[~k])  # counts ≥ v = size − #(< v)
            self.tp[q] = p.size - np.searchsorted(p, pos_vals, side="left")
            self.fp[q] = ng.size - np.searchsorted(ng, pos_vals, side="left")

    def i_auroc(self, w: np.ndarray) -> np.ndarray:
        """w: [R, n] query multiplicities → [R] AUROC in percent."""
        wg, wb = w[:, self.good], w[:, self.bad]
        num = np.einsum("rg,gb,rb->r", wg, self.pairs, wb)
        return 100.0 * num / (wg.sum(1) * wb.sum(1))

    def p_ap(self, w: np.ndarray, chunk: int = 100) -> np.ndarray:
        out = np.empty(len(w))
        for i in range(0, len(w), chunk):
            tp, fp = w[i:i + chunk] @ self.tp, w[i:i + chunk] @ self.fp
            dtp = np.diff(tp, prepend=0.0, axis=1)
            out[i:i + chunk] = 100.0 * np.sum(dtp * tp / np.maximum(tp + fp, 1e-12), axis=1) / tp[:, -1]
        return out


def stratified_weights(stats: ClassStats, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """[R, n] multiplicities: good and defective queries each resampled with replacement within the class."""
    w = np.zeros((n_resamples, stats.n))
    for idx in (stats.good, stats.bad):
        w[:, idx] = rng.multinomial(idx.size, np.full(idx.size, 1.0 / idx.size), size=n_resamples)
    return w


def bootstrap(data: dict, n_resamples: int = 1000, seed: int = 0) -> dict:
    """data: {engine: {class: (scores, labels, maps, masks)}} (same queries for every engine).

    Returns {"point": {engine: {metric: float}}, "samples": {engine: {metric: [R] array}}}: class means of the
    per-class metrics, on the original queries and on each stratified resample (shared by all engines: paired)."""
    engines = list(data)
    classes = sorted(data[engines[0]])
    stats = {e: {c: ClassStats(*data[e][c]) for c in classes} for e in engines}
    rng = np.random.default_rng(seed)
    weights = {c: stratified_weights(stats[engines[0]][c], n_resamples, rng) for c in classes}
    point, samples = {}, {}
    for e in engines:
        ones = {c: np.ones((1, stats[e][c].n)) for c in classes}
        point[e] = {"i_auroc": float(np.mean([stats[e][c].i_auroc(ones[c])[0] for c in classes])),
                    "p_ap": float(np.mean([stats[e][c].p_ap(ones[c])[0] for c in classes]))}
        samples[e] = {"i_auroc": np.mean([stats[e][c].i_auroc(weights[c]) for c in classes], axis=0),
                      "p_ap": np.mean([stats[e][c].p_ap(weights[c]) for c in classes], axis=0)}
    return {"point": point, "samples": samples}


def interval(x: np.ndarray, level: float = LEVEL) -> list[float]:
    a = (100.0 - level) / 2
    return [float(np.percentile(x, a)), float(np.percentile(x, 100.0 - a))]


def summarise(boot: dict, level: float = LEVEL) -> dict:
    pt, sm = boot["point"], boot["samples"]
    engines = {e: {m: {"point": round(pt[e][m], 2), "ci": [round(v, 2) for v in interval(sm[e][m], level)],
                       "bootstrap_sd": round(float(np.std(sm[e][m])), 2)} for m in METRICS} for e in pt}
    diffs = {}
    for a, b, m in PAIRS:
        if a in pt and b in pt:
            d = sm[a][m] - sm[b][m]
            diffs[f"{a}-{b}:{m}"] = {"point": round(pt[a][m] - pt[b][m], 2),
                                     "ci": [round(v, 2) for v in interval(d, level)],
                                     "p_a_gt_b": round(float(np.mean(d > 0)), 3)}
    extra = {}
    if "metauas" in sm:
        extra["p_metauas_i_auroc_ge_90"] = round(float(np.mean(sm["metauas"]["i_auroc"] >= 90.0)), 3)
    if "ensemble" in sm:
        extra["p_ensemble_i_auroc_ge_90"] = round(float(np.mean(sm["ensemble"]["i_auroc"] >= 90.0)), 3)
    return {"engines": engines, "paired_differences": diffs, **extra}


def collect(data_dir: str, size: int, seed: int) -> dict:
    """{engine: {class: (scores, labels, maps, masks)}} with the correct prompt, as the report computed them."""
    from backend.anomaly.dataset import list_classes
    from backend.anomaly.evaluate import _class_maps

    classes = list_classes(data_dir)
    out: dict = {e: {} for e in ENGINES}
    for cls in classes:
        maps, labels, masks = _class_maps(data_dir, cls, list(ENGINES), size, seed, None, None, None, None,
                                          "correct", classes)
        for e in ENGINES:
            scores, amaps, _ = maps[e]
            out[e][cls] = (np.asarray(scores), labels, np.stack(amaps), masks)
    return out


def group_summaries(data: dict, groups: dict, n_resamples: int, seed: int) -> dict:
    """summarise() per class group (e.g. protocol v3's fresh / old classes), each bootstrapped on its own classes."""
    return {g: summarise(bootstrap({e: {c: d[c] for c in cls} for e, d in data.items()}, n_resamples, seed))
            for g, cls in groups.items()}


def table(ci: dict) -> str:
    lab = {"metauas": "MetaUAS-Lite0 (shipped)", "knn": "Patch kNN", "ensemble": "Ensemble (default)"}
    lines = [f"| engine | I-AUROC | {ci['level']:.0f} % CI | P-AP | {ci['level']:.0f} % CI |", "|---|---|---|---|---|"]
    for e, r in ci["engines"].items():
        i, p = r["i_auroc"], r["p_ap"]
        lines.append(f"| {lab.get(e, e)} | {i['point']:.1f} | {i['ci'][0]:.1f}–{i['ci'][1]:.1f} | "
                     f"{p['point']:.1f} | {p['ci'][0]:.1f}–{p['ci'][1]:.1f} |")
    lines += ["", "| paired difference | point | 95 % CI | share of resamples > 0 |", "|---|---|---|---|"]
    for k, d in ci["paired_differences"].items():
        pair, m = k.split(":")
        a, b = pair.split("-")
        lines.append(f"| {lab.get(a, a)} − {lab.get(b, b)}, {'I-AUROC' if m == 'i_auroc' else 'P-AP'} | "
                     f"{d['point']:+.1f} | {d['ci'][0]:+.1f} to {d['ci'][1]:+.1f} | {d['p_a_gt_b']:.2f} |")
    groups = ci.get("groups") or {}
    if groups:
        lines += ["", "| class group | engine | I-AUROC | 95 % CI | P-AP | 95 % CI | share of resamples with I-AUROC ≥ 90 |",
                  "|---|---|---|---|---|---|---|"]
        for g, gs in groups.items():
            for e, r in gs["engines"].items():
                i, p = r["i_auroc"], r["p_ap"]
                share = f"{gs['p_metauas_i_auroc_ge_90']:.2f}" if e == "metauas" else ""
                lines.append(f"| {g} ({len(ci['group_classes'][g])} classes) | {lab.get(e, e)} | {i['point']:.1f} | "
                             f"{i['ci'][0]:.1f}–{i['ci'][1]:.1f} | {p['point']:.1f} | {p['ci'][0]:.1f}–{p['ci'][1]:.1f} "
                             f"| {share} |")
    n_cls = ci.get("n_classes", 5)
    lines += ["", f"Class-stratified bootstrap over queries ({ci['resamples']:,} resamples, seed {ci['seed']}; "
              "per class the 5 good and the 15 defective queries are resampled with replacement, per-class I-AUROC "
              f"and exact all-pixel P-AP recomputed and averaged over the {n_cls} classes; percentile intervals; all "
              "engines on the same resamples, so differences are paired). Share of resamples with MetaUAS "
              f"I-AUROC ≥ 90: **{ci['p_metauas_i_auroc_ge_90']:.2f}**. The intervals cover query sampling only, "
              "not the choice of photos, prompt view or training seed (two retrains of one recipe differed by "
              f"4 I-AUROC points). Source: `static/anomaly/heldout_ci.json`, `{ci['command']}`."]
    return "\n".join(lines)


def write_table(ci: dict, doc: Path = DOC) -> bool:
    text = doc.read_text()
    if BEGIN not in text or END not in text:
        return False
    doc.write_text(replace_block(text, BEGIN, END, table(ci)))
    return True


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="benchmark folder (default: rebuild the report's benchmark)")
    ap.add_argument("--resamples", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="default static/anomaly/heldout_ci.json (v3: heldout_v3/ci.json)")
    ap.add_argument("--v3", action="store_true", help="held-out v3 (protocol_v7.json): static/anomaly/heldout_v3/"
                    "report.json → heldout_v3/ci.json; the benchmark is rebuilt with heldout.generate_v3")
    ap.add_argument("--tables-only", action="store_true", help="rewrite the docs block from the committed JSON")
    a = ap.parse_args(argv)
    report_file = V3_REPORT if a.v3 else REPORT
    a.out = a.out or str(V3_OUT if a.v3 else OUT)
    if a.tables_only and a.v3:
        raise SystemExit("v3's docs block: python -m backend.anomaly.offline.heldout_v3 (from the committed JSON)")
    if a.tables_only:
        ci = json.loads(Path(a.out).read_text())
        write_table(ci)
        print(table(ci))
        return ci
    import torch

    torch.set_num_threads(1)
    rep = json.loads(report_file.read_text())
    t0 = time.perf_counter()
    if a.data is None:
        from backend.anomaly.offline import heldout

        a.data = tempfile.mkdtemp(prefix="heldout-ci-")
        version = rep["benchmark"].get("version")
        meta = (heldout.generate_v3(a.data) if version == 3 else heldout.generate_v2(a.data) if version == 2
                else heldout.generate(a.data, rep["benchmark"]["seed"]))
        if meta.get("classes") != rep["benchmark"]["classes"]:
            raise SystemExit(f"rebuilt benchmark differs from the report's: {meta.get('classes')}")
    data = collect(a.data, rep["size"], rep["prompt_seed"])
    t_maps = time.perf_counter() - t0
    boot = bootstrap(data, a.resamples, a.seed)
    bad = [(e, m, boot["point"][e][m], rep["results"][e]["correct"]["mean"][m])
           for e in ENGINES for m in METRICS
           if abs(boot["point"][e][m] - rep["results"][e]["correct"]["mean"][m]) > 0.1]
    if bad:
        raise SystemExit(f"point estimates do not reproduce {report_file.name} (engine, metric, here, report): {bad}")
    parts = rep["benchmark"].get("parts") or {}
    group_classes = {g: parts[g]["classes"] for g in ("fresh", "old") if g in parts}
    groups = group_summaries(data, group_classes, a.resamples, a.seed) if group_classes else {}
    ci = {"command": "python bench/anomaly_heldout_ci.py" + (" --v3" if a.v3 else "") + (f" --resamples {a.resamples}" if a.resamples != 10000
                                                             else "") + (f" --seed {a.seed}" if a.seed else ""),
          "report": str(report_file.relative_to(ROOT)), "benchmark_seed": rep["benchmark"]["seed"],
          "size": rep["size"], "prompt_seed": rep["prompt_seed"], "prompt_mode": "correct",
          "resamples": a.resamples, "seed": a.seed, "level": LEVEL,
          "method": "class-stratified bootstrap over queries (good and defective resampled separately within each "
                    "class), exact per-resample I-AUROC and all-pixel P-AP, class mean, percentile intervals, paired",
          **summarise(boot), "n_classes": len(next(iter(data.values()))),
          **({"groups": groups, "group_classes": group_classes} if groups else {}), "wall_s": {"maps": round(t_maps, 1), "bootstrap": round(time.perf_counter() - t0 - t_maps, 1)},
          "machine": "shared 2-core CPU, 1 torch thread, nice 10"}
    Path(a.out).write_text(json.dumps(ci, indent=1) + "\n")
    if not a.v3:
        write_table(ci)
    print(table(ci))
    return ci


if __name__ == "__main__":
    main()
