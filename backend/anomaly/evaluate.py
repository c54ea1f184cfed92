"""One-prompt evaluation over an MVTec-layout tree: `python -m backend.anomaly.evaluate --help`.

Protocol of the MetaUAS paper: per class and per prompt seed, one random `train/good` image is
the prompt (or, with --retrieval K, the K most similar train images per query, MetaUAS★); metrics
per class are averaged over seeds, and the table is the mean over classes (std over seeds of the
class mean is reported too). Pixel metrics are computed on maps and masks resized so the longest
side is `size` (the resolution the models see; full-resolution MVTec masks would cost minutes on
CPU for no change in ranking). "all" evaluates metauas, knn and their ensemble from the same maps
(the ensemble engine's public `fuse` combines the member maps already computed).

`--prompt-mode` is the ablation of the prompt: "correct" (the class's own train/good), "swapped"
(the prompt of the next class in sorted order: a different product) or "none" (the query is its
own prompt, so the engine gets no information about what normal looks like).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from backend.anomaly import engines, service
from backend.anomaly.dataset import list_classes, load_class, read_mask
from backend.anomaly.knn import image_score
from backend.anomaly.metrics import all_metrics
from backend.errors import UserError
from backend.imageio import open_image

METRICS = ("i_auroc", "i_ap", "i_f1max", "p_auroc", "p_ap", "p_f1max", "p_aupro")
PROMPT_MODES = ("correct", "swapped", "none")


def _small(arr: np.ndarray, size: int, is_mask: bool) -> np.ndarray:
    h, w = arr.shape
    s = size / max(h, w)
    if s >= 1:
        return arr
    nw, nh = max(1, round(w * s)), max(1, round(h * s))
    if is_mask:
        return np.asarray(Image.fromarray(arr.astype(np.uint8) * 255).resize((nw, nh), Image.Resampling.NEAREST)) > 127
    return np.asarray(Image.fromarray(arr.astype(np.float32), mode="F").resize((nw, nh), Image.Resampling.BILINEAR))


def _prompts_for(cls_root, cls, classes, seed, retrieval_k, prompt_mode):
    if prompt_mode == "none":
        return None  # the query itself, per query
    source = cls
    if prompt_mode == "swapped":
        others = [c for c in classes if c != cls]
        if not others:
            raise UserError("The swapped-prompt ablation needs at least two classes.")
        source = others[(sorted(classes).index(cls)) % len(others)]
    train, _ = load_class(cls_root, source)
    if retrieval_k:
        return [open_image(p) for p in train]
    return [open_image(train[int(np.random.default_rng(seed).integers(len(train)))])]


def _class_maps(cls_root, cls, engine_names, size, seed, retrieval_k, checkpoint, max_per_class, progress_cb,
                prompt_mode="correct", classes=(), map_options=None):
    """{engine: (scores, maps, ms)} and labels/masks for one class and one prompt seed."""
    _, test = load_class(cls_root, cls)
    if max_per_class:
        test = test[:max_per_class]
    prompts = _prompts_for(cls_root, cls, classes or [cls], seed, retrieval_k, prompt_mode)
    ens = engines.get("ensemble", size, checkpoint, None, map_options) if "ensemble" in engine_names else None
    base = [e for e in engine_names if e != "ensemble"]
    if ens is not None:
        base = sorted(set(base) | set(ens.members))
    out = {e: ([], [], []) for e in engine_names}
    labels, masks = [], []
    for i, s in enumerate(test):
        q = open_image(s.path)
        mask = read_mask(s, q.size)
        labels.append(s.label)
        masks.append(_small(mask, size, True))
        pr = prompts if prompts is not None else [q]
        res = {e: service.inspect(pr, [q], engine=e, size=size, retrieval_k=retrieval_k,
                                  checkpoint=checkpoint, map_options=map_options)[0] for e in base}
        if ens is not None:
            fused = ens.fuse({r: res[r].anomaly_map for r in ens.members})
            res["ensemble"] = service.InspectionResult(image_score(fused, ens.score_mode), fused, -1, 0.0, "ensemble",
                                                       sum(res[r].ms for r in ens.members))
        for e in engine_names:
            amap = _small(res[e].anomaly_map, size, False)
            out[e][0].append(res[e].score)
            out[e][1].append(amap)
            out[e][2].append(res[e].ms)
        if progress_cb:
            progress_cb((i + 1) / len(test))
    shapes = {m.shape for m in masks}
    if len(shapes) > 1:  # mixed sizes: pad to a common canvas (padding counts as normal, ignored below)
        H, W = max(h for h, _ in shapes), max(w for _, w in shapes)
        masks = [np.pad(m, ((0, H - m.shape[0]), (0, W - m.shape[1]))) for m in masks]
        for e in engines:
            out[e] = (out[e][0], [np.pad(a, ((0, H - a.shape[0]), (0, W - a.shape[1]))) for a in out[e][1]], out[e][2])
    return out, np.array(labels), np.stack(masks)


def run_evaluation(data_dir, engine: str = "metauas", size: int = 256, prompt_seeds=(0,), retrieval_k=None,
                   progress=None, checkpoint=None, max_per_class=None, engine_names=None,
                   prompt_mode: str = "correct", map_options: dict | None = None) -> dict:
    """Metrics JSON for one engine (or {engine: JSON} when `engine == "all"`). `map_options` (with `checkpoint`):
    the checkpoint's map settings (protocol v5: score, nv_norm, nv_radius), e.g. the shipped entry's."""
    if prompt_mode not in PROMPT_MODES:
        raise UserError(f"prompt mode must be one of {', '.join(PROMPT_MODES)}, not {prompt_mode!r}")
    engs = list(engine_names or (("metauas", "knn", "ensemble") if engine == "all" else (engine,)))
    classes = list_classes(data_dir)
    seeds = [0] if retrieval_k else list(prompt_seeds)
    per: dict[str, dict[str, list]] = {e: {c: [] for c in classes} for e in engs}
    ms: dict[str, list[float]] = {e: [] for e in engs}
    t0 = time.perf_counter()
    steps = len(classes) * len(seeds)
    for ci, cls in enumerate(classes):
        for si, seed in enumerate(seeds):
            k = ci * len(seeds) + si
            cb = (lambda f, k=k, cls=cls, seed=seed: progress((k + f) / steps, f"{cls} · prompt seed {seed}")) \
                if progress else None
            maps, labels, masks = _class_maps(data_dir, cls, engs, size, seed, retrieval_k, checkpoint,
                                              max_per_class, cb, prompt_mode, classes, map_options)
            for e in engs:
                scores, amaps, times = maps[e]
                per[e][cls].append(all_metrics(scores, labels, np.stack(amaps), masks))
                ms[e] += times
    results = {}
    for e in engs:
        per_class = {c: {m: round(float(np.nanmean([r[m] for r in runs])), 2) for m in METRICS}
                     for c, runs in per[e].items()}
        by_seed = [{m: float(np.nanmean([per[e][c][si][m] for c in classes])) for m in METRICS}
                   for si in range(len(seeds))]
        results[e] = {
            "per_class": per_class,
            "mean": {m: round(float(np.nanmean([per_class[c][m] for c in classes])), 2) for m in METRICS},
            "std_over_seeds": {m: round(float(np.std([b[m] for b in by_seed])), 2) for m in METRICS},
            "engine": e, "ms_per_image": round(float(np.mean(ms[e])), 1), "size": size,
            "prompt_seeds": seeds, "retrieval_k": retrieval_k, "classes": classes,
            "data": str(data_dir), "checkpoint": checkpoint, "wall_s": round(time.perf_counter() - t0, 1),
            "prompt_mode": prompt_mode,
            "prompt_aug": engines.prompt_aug_of(engines.get(e, size, checkpoint, None, map_options)),
            "map_settings": engines.map_settings_of(engines.get(e, size, checkpoint, None, map_options)),
        }
    return results if engine == "all" or engine_names else results[engs[0]]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m backend.anomaly.evaluate", description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="MVTec-layout folder")
    ap.add_argument("--engine", default="metauas", choices=["metauas", "knn", "ensemble", "all"])
    ap.add_argument("--checkpoint", default=None, help="MetaUAS checkpoint file (default: the registry's)")
    ap.add_argument("--prompt-seed", type=int, action="append", dest="seeds",
                    help="prompt seed (repeat for several; default 0)")
    ap.add_argument("--retrieval", type=int, default=None, metavar="K", help="retrieve the top-K prompts per query")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--prompt-mode", default="correct", choices=PROMPT_MODES,
                    help="correct, swapped (another class's prompt) or none (the query as its own prompt)")
    ap.add_argument("--max-per-class", type=int, default=None)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=None, help="write the JSON here")
    a = ap.parse_args(argv)

    torch.set_num_threads(a.threads)
    res: dict[str, Any] = run_evaluation(a.data, a.engine, a.size, tuple(a.seeds or (0,)), a.retrieval,
                                         checkpoint=a.checkpoint, max_per_class=a.max_per_class,
                                         prompt_mode=a.prompt_mode)
    if a.engine == "all":  # the report form: benchmark provenance + the three engines side by side
        bj = Path(a.data) / "benchmark.json"
        command = "python -m backend.anomaly.evaluate " + " ".join(argv if argv is not None else sys.argv[1:])
        res = {"command": command,
               "benchmark": json.loads(bj.read_text()) if bj.is_file() else None, "results": res}
    text = json.dumps(res, indent=1)
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(text)
    rows = res["results"].values() if a.engine == "all" else [res]
    for r in rows:
        print(f"{r['engine']:>9}: " + "  ".join(f"{m} {r['mean'][m]:.1f}" for m in METRICS) +
              f"  ({r['ms_per_image']} ms/img)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
