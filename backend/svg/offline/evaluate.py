"""Evaluate an SVG engine on held-out and seen concepts; writes a JSON report (and prints a table).

    python -m backend.svg.offline.evaluate --engine svg-pathdiffusion --engine svg-retrieval-seen --out report.json

Protocol (seeded; same prompts for every engine):
- pairs = (concept, style) where the concept exists in that style; `heldout` pairs use the 10 % of concepts the
  model never saw (backend.svg.offline.dataset.is_heldout), `seen` pairs use training concepts;
- engines: any registry "svg-engine", plus `svg-retrieval-seen` = the retrieval engine with held-out concepts
  hidden from its index (the fair baseline for unseen concepts; plain `svg-retrieval` can return the
  ground-truth icon itself, so on held-out pairs it is an oracle, not a competitor);
- validity: sanitiser-clean, parses, renders, non-empty ink; paths / nodes (cubic segments) / bytes;
- text alignment: concept judge = nearest corpus icons by raster IoU (the studio's 32-px fit-to-frame index);
  top-1 / top-5 = the prompt's concept is the nearest / among the 5 nearest distinct concepts;
- style alignment: style judge = multinomial logistic regression on 32-px renders of training-concept icons
  (its own accuracy on real held-out icons is reported as `judge_style_acc_real`), plus |Δ stroke width| and
  |Δ fill share| between the candidate's style card and the target set's card;
- paired ground truth: raster IoU at 64 px with the real icon of that concept in the target style;
- novelty: 1 − IoU with the nearest *training-concept* icon (copy = IoU > 0.9); uniqueness = share of
  candidates per prompt that are not duplicates (IoU > 0.9) of another candidate of the same prompt;
- latency: seconds per icon (engine.generate wall-clock / n) on this machine.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import pickle
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression

import backend.svg.engines as engines_mod
import backend.svg.index as idx
from backend.config import get_settings
from backend.svg.corpus import load_corpus
from backend.svg.engines import get_engine
from backend.svg.index import _POP, fit_mask, raster_index
from backend.svg.offline.dataset import is_heldout, style_split
from backend.svg.paths import parse_svg_paths
from backend.svg.render import mask_iou, render_alpha
from backend.svg.sanitize import is_safe_svg, sanitize_svg
from backend.svg.style import MODES, extract_style, style_from_set

REPORT = Path(__file__).resolve().parents[3] / "static" / "svg" / "model" / "eval_report.json"


def make_pairs(corpus, split: str, n: int, seed: int) -> list[tuple[str, str, str]]:
    """(concept, style, ground-truth icon id) triples, one per concept, seeded."""
    want = split == "heldout"
    by_concept: dict[str, list] = {}
    for ic in corpus.icons:
        if is_heldout(ic.concept) == want:
            by_concept.setdefault(ic.concept, []).append(ic)
    rng = random.Random(seed)
    concepts = sorted(by_concept)
    rng.shuffle(concepts)
    out = []
    for c in concepts[:n]:
        ic = rng.choice(sorted(by_concept[c], key=lambda i: i.id))
        out.append((c, ic.style, ic.id))
    return out


class StyleJudge:
    """Logistic regression on 32-px alpha renders; trained on training-concept icons only."""

    def __init__(self, corpus, per_style: int = 120, seed: int = 0):
        xs, ys, xt, yt = style_split(corpus, self.feat, per_style, 20, seed)
        self.clf = LogisticRegression(max_iter=500, C=0.5).fit(np.stack(xs), ys)
        pred = self.clf.predict(np.stack(xt)) if xt else np.array([])
        self.real_acc = float(np.mean(pred == np.array(yt))) if xt else float("nan")
        same_set = [a.split("/")[0] == b.split("/")[0] for a, b in zip(pred, yt, strict=False)]
        self.real_set_acc = float(np.mean(same_set)) if xt else float("nan")

    @classmethod
    def cached(cls, corpus, seed: int = 0) -> StyleJudge:
        """Built once per corpus build (a few minutes on a busy 2-core box), then pickled under DATA_DIR/cache."""
        key = hashlib.sha256(f"{corpus.built}|{len(corpus)}|{seed}|v1".encode()).hexdigest()[:12]
        path = get_settings().data_dir / "cache" / "svg" / f"style_judge_{key}.pkl"
        if path.exists():
            with open(path, "rb") as fh:
                return pickle.load(fh)
        judge = cls(corpus, seed=seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            pickle.dump(judge, fh)
        return judge

    @staticmethod
    def feat(svg: str) -> np.ndarray:
        """32-px alpha + the style-card attributes (weight, fill share, padding, mode, smoothness, detail)."""
        alpha = render_alpha(svg, 32).astype(np.float32).ravel()
        try:
            c = extract_style([parse_svg_paths(svg)[0]], grid=24.0)
            card = [c.stroke_width / 2, c.fill_ratio, c.padding / 4, c.smooth_joints, min(c.detail / 100, 3),
                    float(c.duotone)] + [float(c.mode == m) for m in MODES]
        except Exception:
            card = [0.0] * (6 + len(MODES))
        return np.concatenate([alpha, 8.0 * np.asarray(card, np.float32)])

    def predict(self, svg: str) -> str:
        return str(self.clf.predict(self.feat(svg)[None])[0])


class ConceptJudge:
    def __init__(self, corpus):
        self.ri, self.pop, self.corpus = raster_index(corpus), _POP, corpus
        self.concepts = np.array([ic.concept for ic in corpus.icons])
        self.seen = np.array([not is_heldout(ic.concept) for ic in corpus.icons])

    def ious(self, svg: str) -> np.ndarray:
        q = np.packbits(fit_mask(svg).ravel())
        inter = self.pop[np.bitwise_and(self.ri.packed, q)].sum(1).astype(np.int32)
        union = self.ri.counts + int(self.pop[q].sum()) - inter
        return np.where(union > 0, inter / np.maximum(union, 1), 0.0)

    def judge(self, svg: str, concept: str) -> dict:
        iou = self.ious(svg)
        ranked, seen_c = [], set()
        for i in np.argsort(-iou, kind="stable")[:200]:
            c = self.concepts[i]
            if c not in seen_c:
                seen_c.add(c)
                ranked.append(c)
            if len(ranked) >= 5:
                break
        nearest_train = float(iou[self.seen].max()) if self.seen.any() else 0.0
        return {"top1": ranked[:1] == [concept], "top5": concept in ranked[:5], "nearest_train_iou": nearest_train}


@contextlib.contextmanager
def hide_heldout_from_retrieval():
    """Make the retrieval engine's text index score held-out-concept icons at -10 (they become unreachable)."""
    orig = idx.text_index

    def masked(corpus=None, embedder=None):
        ti = orig(corpus, embedder)
        hidden = np.array([is_heldout(ic.concept) for ic in ti.corpus.icons])

        class _Masked:
            def __init__(self):
                self.corpus = ti.corpus

            def scores(self, prompt):
                return np.where(hidden, -10.0, ti.scores(prompt))
        return _Masked()

    # the retrieval engine imports text_index by name (backend.svg.engines), so it is replaced there too
    idx.text_index = engines_mod.text_index = masked
    try:
        yield
    finally:
        idx.text_index = engines_mod.text_index = orig


def _engine(name: str):
    return get_engine("svg-retrieval" if name == "svg-retrieval-seen" else name)


def evaluate(engines: list[str], n_pairs: int = 30, n: int = 2, seed: int = 0, splits=("heldout", "seen"),
             log=print, make_engine=None, keep_rows: bool = False) -> dict:
    """`make_engine(name)`: the engine for a name (default: the registry's; bench/svg_sampler_choice.py passes the
    learned engine at other sampler settings); `keep_rows`: also return the per-candidate rows (`rows`)."""
    corpus = load_corpus()
    t0 = time.time()
    sj, cj = StyleJudge.cached(corpus, seed=seed), ConceptJudge(corpus)
    log(f"judges ready in {time.time() - t0:.0f}s; style judge accuracy on real held-out icons {sj.real_acc:.3f} "
        f"(set level {sj.real_set_acc:.3f})")
    report: dict[str, Any] = {"protocol": __doc__.split("Protocol")[1].strip(), "seed": seed, "n_pairs": n_pairs,
              "n_per_prompt": n, "judge_style_acc_real": round(sj.real_acc, 4),
              "judge_style_set_acc_real": round(sj.real_set_acc, 4), "results": {}}
    for split in splits:
        pairs = make_pairs(corpus, split, n_pairs, seed)
        for name in engines:
            eng = (make_engine or _engine)(name)
            if hasattr(eng, "steps") and hasattr(eng, "guidance"):  # the learned engine's sampler, as it ran
                report.setdefault("sampler", {})[name] = {"steps": int(eng.steps), "guidance": float(eng.guidance)}
            rows, lat = [], []
            ctx = hide_heldout_from_retrieval() if name == "svg-retrieval-seen" else contextlib.nullcontext()
            with ctx:
                for k, (concept, style, gt_id) in enumerate(pairs):
                    t1 = time.perf_counter()
                    try:
                        cands = eng.generate(concept, style, n, seed + k)
                        err = None
                    except Exception as exc:  # an engine failure counts as invalid output, never crashes the run
                        cands, err = [], f"{type(exc).__name__}: {exc}"
                    lat.append((time.perf_counter() - t1) / max(n, 1))
                    gt = corpus.by_id(gt_id)
                    gt_alpha = render_alpha(gt.svg, 64)
                    tcard = style_from_set(style)
                    masks = []
                    for c in cands:
                        svg = c.svg
                        ok = is_safe_svg(svg) and sanitize_svg(svg) == svg
                        paths, _ = parse_svg_paths(svg)
                        alpha = render_alpha(svg, 64)
                        ok = ok and bool(paths) and float(alpha.max()) > 0
                        jc = cj.judge(svg, concept)
                        try:
                            card = extract_style([paths])
                            dsw, dfill = abs(card.stroke_width - tcard.stroke_width * 24 / tcard.grid), abs(
                                card.fill_ratio - tcard.fill_ratio)
                        except Exception:
                            dsw, dfill = float("nan"), float("nan")
                        masks.append(alpha > 0.5)
                        rows.append({"concept": concept, "style": style, "valid": ok, **jc,
                                     "style_hit": (ps := sj.predict(svg)) == style,
                                     "set_hit": ps.split("/")[0] == style.split("/")[0], "d_stroke": dsw,
                                     "d_fill": dfill,
                                     "paired_iou": mask_iou(alpha, gt_alpha), "paths": c.metrics.get("paths"),
                                     "subpaths": c.metrics.get("subpaths"),
                                     "nodes": c.metrics.get("segments", c.metrics.get("cubics")),
                                     "bytes": len(svg.encode())})
                    dup = 0
                    for a in range(len(masks)):
                        if any(mask_iou(masks[a], masks[b]) > 0.9 for b in range(len(masks)) if b != a):
                            dup += 1
                    if masks:
                        rows[-1]["_uniq"] = 1 - dup / len(masks)
                    if err:
                        rows.append({"concept": concept, "style": style, "valid": False, "error": err})
            report["results"].setdefault(split, {})[name] = summarise(rows, lat)
            if keep_rows:
                report.setdefault("rows", {}).setdefault(split, {})[name] = rows
            log(f"[{split}] {name}: {json.dumps(report['results'][split][name])}")
    report["elapsed_s"] = round(time.time() - t0, 1)
    return report


def _m(rows, key, fn=np.mean):
    vals = [float(r[key]) for r in rows if key in r and r[key] is not None and np.isfinite(float(r[key]))]
    return round(float(fn(vals)), 4) if vals else None


def summarise(rows: list[dict], lat: list[float]) -> dict:
    good = [r for r in rows if "error" not in r]
    return {"candidates": len(rows), "valid_pct": round(100 * np.mean([bool(r["valid"]) for r in rows]), 1)
            if rows else 0.0, "text_top1": _m(good, "top1"), "text_top5": _m(good, "top5"),
            "style_acc": _m(good, "style_hit"), "style_set_acc": _m(good, "set_hit"),
            "d_stroke_px24": _m(good, "d_stroke"), "d_fill": _m(good, "d_fill"),
            "paired_iou64": _m(good, "paired_iou"), "novelty": round(1 - _m(good, "nearest_train_iou"), 4)
            if good else None, "copy_pct": round(100 * np.mean([r["nearest_train_iou"] > 0.9 for r in good]), 1)
            if good else None, "uniqueness": _m(good, "_uniq"), "paths": _m(good, "paths"),
            "subpaths": _m(good, "subpaths"), "nodes": _m(good, "nodes"), "bytes": _m(good, "bytes"),
            "latency_s_per_icon": round(float(np.median(lat)), 4) if lat else None}


def markdown_table(report: dict) -> str:
    cols = ["valid_pct", "text_top1", "text_top5", "style_acc", "style_set_acc", "d_stroke_px24", "d_fill",
            "paired_iou64", "novelty", "copy_pct", "uniqueness", "paths", "subpaths", "nodes", "bytes",
            "latency_s_per_icon"]
    lines = ["| split | engine | " + " | ".join(cols) + " |", "|---|---|" + "---|" * len(cols)]
    for split, res in report["results"].items():
        for eng, m in res.items():
            lines.append(f"| {split} | {eng} | " + " | ".join("" if m.get(c) is None else f"{m[c]}" for c in cols)
                         + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Evaluate SVG engines on held-out and seen concepts.")
    ap.add_argument("--engine", action="append", default=None,
                    help="registry svg-engine name, or svg-retrieval-seen (repeatable; default: learned + both "
                         "retrieval variants)")
    ap.add_argument("--pairs", type=int, default=30, help="(concept, style) prompts per split")
    ap.add_argument("--n", type=int, default=2, help="candidates per prompt")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--splits", default="heldout,seen")
    ap.add_argument("--out", default=str(REPORT))
    a = ap.parse_args(argv)

    torch.set_num_threads(1)
    engines = a.engine or ["svg-pathdiffusion", "svg-retrieval-seen", "svg-retrieval"]
    rep = evaluate(engines, a.pairs, a.n, a.seed, tuple(a.splits.split(",")))
    rep["command"] = "python -m backend.svg.offline.evaluate " + " ".join(argv if argv is not None else sys.argv[1:])
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(rep, indent=1))
    print(markdown_table(rep))
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
