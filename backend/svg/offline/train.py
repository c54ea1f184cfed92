"""Train the path diffusion transformer from a precomputed dataset file.

    python -m backend.svg.offline.train --data static/svg/model/train_data.npz --device cpu --minutes 20 --out DIR

Why a precomputed file: the trainer must also run on a bare GPU box with only python3 + torch + numpy, so the
corpus parsing, path codec and MiniLM text states are computed once by `backend.svg.offline.dataset` and the
import graph of this module is torch/numpy only (checked by a unit test).

Behaviour: seeded; budget by wall-clock minutes (the step count is fixed after a short speed probe, logged and
saved, so the cosine learning-rate schedule is well defined and a resumed run continues the same schedule) or
by --steps; progress + ETA every --log-every steps to stdout and DIR/train_log.txt; a resumable state
(weights, EMA, optimiser, step, RNG) in --state DIR (default: --out) every --save-every steps; the shipped
checkpoint DIR/svgdit.pt holds the EMA weights in fp16, the model config, the codec and the style names.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from backend.svg.model.diffusion import v_loss
from backend.svg.model.dit import DiTConfig, SvgDiT


class Data:
    """Dense tensors on the training device, built from the packed npz."""

    def __init__(self, path: str, device: str, k_slots: int = 0):
        z = np.load(path, allow_pickle=False)
        self.meta = json.loads(str(z["meta_json"]))
        k, nf = int(self.meta["k_slots"]), int(self.meta["n_features"])
        if k_slots:  # slots are largest-first, so truncation drops an icon's smallest contours
            k = min(k, int(k_slots))
            self.meta["k_slots"] = k
        off = z["icon_off"].astype(np.int64)
        n = len(off) - 1
        dense = np.zeros((n, k, nf), np.float32)
        dense[:, :, nf - 1] = -1.0  # keep bit of empty slots
        paths = z["paths"].astype(np.float32)
        counts = np.diff(off)
        slot = np.arange(len(paths)) - np.repeat(off[:-1], counts)
        rows = np.repeat(np.arange(n), counts)
        ok = slot < k
        dense[rows[ok], slot[ok]] = paths[ok]
        toff = z["text_off"].astype(np.int64)
        tl = int(self.meta["text_len"])
        nt = len(toff) - 1
        tok = z["text_tok"].astype(np.float32)
        if "text_scale" in z.files:
            tok *= z["text_scale"].astype(np.float32)[:, None]
        states = np.zeros((nt, tl, tok.shape[1]), np.float32)
        mask = np.zeros((nt, tl), bool)
        tcounts = np.minimum(np.diff(toff), tl)
        for i in range(nt):  # a few thousand short copies; fine
            c = int(tcounts[i])
            states[i, :c] = tok[toff[i]: toff[i] + c]
            mask[i, :c] = True
        self.x = torch.from_numpy(dense).to(device)
        self.text = torch.from_numpy(states).to(device)
        self.mask = torch.from_numpy(mask).to(device)
        self.style = torch.from_numpy(z["icon_style"].astype(np.int64)).to(device)
        self.icon_texts = torch.from_numpy(z["icon_texts"].astype(np.int64)).to(device)
        split = z["icon_split"].astype(np.int64)
        self.train_idx = torch.from_numpy(np.nonzero(split == 0)[0]).to(device)
        self.val_idx = torch.from_numpy(np.nonzero(split == 1)[0]).to(device)
        self.codec = {k2: z[k2] for k2 in z.files if k2.startswith("codec_") or k2.startswith("textproj_")}
        self.style_names = [str(s) for s in z["style_names"]]
        self.text_dim = int(tok.shape[1])

    def batch(self, idx: torch.Tensor, gen: torch.Generator, p_drop_text: float, p_drop_style: float):
        b = idx.shape[0]
        dev = self.x.device
        tex = self.icon_texts[idx]  # (b, V) with -1 = missing variant
        nvar = (tex >= 0).sum(1).clamp(min=1)
        pick = (torch.rand(b, device=dev, generator=gen) * nvar).long()
        tid = tex.gather(1, pick[:, None])[:, 0].clamp(min=0)
        mask = self.mask[tid].clone()
        mask[torch.rand(b, device=dev, generator=gen) < p_drop_text] = False
        style = self.style[idx].clone()
        style[torch.rand(b, device=dev, generator=gen) < p_drop_style] = 0
        return self.x[idx], self.text[tid], mask, style


def _lr(step: int, total: int, base: float, warmup: int) -> float:
    if step < warmup:
        return base * (step + 1) / warmup
    p = min(1.0, (step - warmup) / max(1, total - warmup))
    return base * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))


class Logger:
    def __init__(self, path: Path):
        self.fh = open(path, "a", encoding="utf-8")

    def __call__(self, msg: str) -> None:
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        print(line, flush=True)
        self.fh.write(line + "\n")
        self.fh.flush()


@torch.no_grad()
def _val_loss(model, data: Data, bs: int, seed: int) -> float:
    if len(data.val_idx) == 0:
        return float("nan")
    g = torch.Generator(device=data.x.device).manual_seed(seed)
    idx = data.val_idx[: min(len(data.val_idx), 4 * bs)]
    tot, n = 0.0, 0
    for i in range(0, len(idx), bs):
        x0, text, mask, style = data.batch(idx[i:i + bs], g, 0.0, 0.0)
        tot += float(v_loss(model, x0, text, mask, style_ids=style, generator=g)) * len(x0)
        n += len(x0)
    return tot / max(n, 1)


def save_checkpoint(path: Path, ema: SvgDiT, cfg: DiTConfig, data: Data, info: dict) -> None:
    state = {k: v.detach().to("cpu", torch.float16) for k, v in ema.state_dict().items()}
    torch.save({"format": "svgdit-v1", "config": cfg.to_dict(), "state_dict": state,
                "codec": {k: torch.from_numpy(np.asarray(v)) for k, v in data.codec.items()},
                "style_names": data.style_names, "meta": data.meta, "train": info}, path)


def train(args) -> dict:
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    state_dir = Path(args.state or args.out)
    state_dir.mkdir(parents=True, exist_ok=True)
    log = Logger(out / "train_log.txt")
    dev = args.device
    data = Data(args.data, dev, args.k_slots)
    cfg = DiTConfig(n_features=data.x.shape[2], k_slots=data.x.shape[1], d=args.d, depth=args.depth,
                    heads=args.heads, ffn=args.ffn, text_dim=data.text_dim, n_styles=len(data.style_names),
                    dropout=args.dropout)
    model = SvgDiT(cfg).to(dev)
    ema = SvgDiT(cfg).to(dev)
    ema.load_state_dict(model.state_dict())
    ema.requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01, betas=(0.9, 0.99))
    gen = torch.Generator(device=dev).manual_seed(args.seed)
    step, total, t_used = 0, args.steps or 0, 0.0
    sp = state_dir / "state.pt"
    if args.resume and sp.exists():
        st = torch.load(sp, map_location=dev, weights_only=False)
        model.load_state_dict(st["model"]), ema.load_state_dict(st["ema"]), opt.load_state_dict(st["opt"])
        step, total, t_used = st["step"], args.steps or st["total"], st.get("t_used", 0.0)
        gen.set_state(st["gen"].cpu())
        log(f"resumed from {sp} at step {step}/{total}")
    log(f"data {args.data}: {len(data.train_idx)} train / {len(data.val_idx)} val icons, "
        f"{len(data.style_names)} styles, {data.text.shape[0]} texts; model {model.n_params() / 1e6:.2f} M params; "
        f"device {dev}; batch {args.batch}; seed {args.seed}")
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if dev.startswith("cuda") else torch.autocast(
        "cpu", enabled=False)
    weights = torch.ones(cfg.n_features, device=dev)
    weights[-1] = args.keep_weight  # the keep bit decides the path count: weight it up
    t0 = time.time()
    probe, t_probe = (20, 120), t0
    losses = []
    while True:
        if total and step >= total:
            break
        if not total and step == probe[0]:
            t_probe = time.time()
        if not total and step == probe[1]:  # fix the schedule after a speed probe (past the warm-up steps)
            rate = (probe[1] - probe[0]) / max(time.time() - t_probe, 1e-6)
            left = args.minutes * 60 - t_used - (time.time() - t0)
            total = max(step + 1, step + int(rate * left * 0.97))
            log(f"speed probe: {rate:.1f} steps/s -> total {total} steps for {args.minutes} min")
        idx = data.train_idx[torch.randint(len(data.train_idx), (args.batch,), device=dev, generator=gen)]
        x0, text, mask, style = data.batch(idx, gen, args.p_drop_text, args.p_drop_style)
        for g in opt.param_groups:
            g["lr"] = _lr(step, total or 10 ** 9, args.lr, args.warmup)
        with autocast:
            loss = v_loss(model, x0, text, mask, style_ids=style, generator=gen, weights=weights)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        decay = min(args.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters(), strict=False):
                pe.lerp_(pm, 1 - decay)
        losses.append(loss.detach())
        if len(losses) > 1000:
            losses = losses[-200:]
        step += 1
        now = time.time()
        if step % args.log_every == 0 or (total and step == total):
            el = now - t0
            rate = step / max(el + t_used, 1e-6)
            eta = (total - step) / max(rate, 1e-6) if total else float("nan")
            log(f"step {step}/{total or '?'} loss {float(torch.stack(losses[-args.log_every:]).float().mean()):.4f} "
                f"lr {opt.param_groups[0]['lr']:.2e} {rate:.1f} it/s ETA {eta / 60:.1f} min")
        if step % args.save_every == 0 or (total and step == total):
            vl = _val_loss(ema, data, args.batch, args.seed)
            log(f"step {step}: held-out-concept val loss (EMA) {vl:.4f}")
            torch.save({"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(),
                        "step": step, "total": total, "t_used": t_used + (now - t0), "gen": gen.get_state()}, sp)
    el = time.time() - t0 + t_used
    vl = _val_loss(ema, data, args.batch, args.seed)
    info = {"steps": step, "minutes": round(el / 60, 2), "device": dev, "batch": args.batch, "lr": args.lr,
            "seed": args.seed, "final_train_loss": float(torch.stack(losses[-100:]).float().mean()) if losses else None,
            "val_loss": vl, "params": model.n_params(), "command": " ".join(sys.argv)}
    save_checkpoint(out / "svgdit.pt", ema, cfg, data, info)
    log(f"done: {json.dumps(info)} -> {out / 'svgdit.pt'} ({os.path.getsize(out / 'svgdit.pt') / 1e6:.1f} MB)")
    return info


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", required=True, help="dataset .npz from `python -m backend.svg.offline.dataset`")
    ap.add_argument("--out", required=True, help="output dir (svgdit.pt, train_log.txt)")
    ap.add_argument("--state", default=None, help="dir for the resumable state.pt (default: --out)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--minutes", type=float, default=20.0, help="wall-clock budget (ignored with --steps)")
    ap.add_argument("--steps", type=int, default=0)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=4e-4)
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--d", type=int, default=256)
    ap.add_argument("--depth", type=int, default=6)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ffn", type=int, default=1024)
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--k-slots", type=int, default=16, help="paths per icon (99.75%% of corpus icons have <= 16)")
    ap.add_argument("--p-drop-text", type=float, default=0.1)
    ap.add_argument("--p-drop-style", type=float, default=0.1)
    ap.add_argument("--keep-weight", type=float, default=4.0)
    ap.add_argument("--log-every", type=int, default=100)
    ap.add_argument("--save-every", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0 = leave)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--resume", action="store_true")
    args = ap.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("CUDA requested but not available; use --device cpu", file=sys.stderr)
        return 2
    train(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
