"""Probe: would a small CNN judge icon styles better than the gradient-boosted trees of
backend/svg/offline/legibility_eval.StyleClassifier? (It did not: 77 % vs 84 % on real held-out-concept icons.)

    python bench/svg_judge_cnn.py features          # every corpus icon: legibility_eval.features + 64-px render (~8 min)
    python bench/svg_judge_cnn.py cnn --cap 800 --epochs 6   # ~18 min on one busy CPU thread
    python bench/svg_judge_cnn.py trees --cap 600            # the trees on the same cached features, for comparison

Same split as the judge: training-concept icons (capped per style, class-balanced sampling), tested on every
held-out-concept icon (backend.svg.offline.dataset.is_heldout). The network: four 3×3 conv blocks (24-48-64-96
channels, max-pool), global mean+max pooling, concatenated with the standardised style measurements, two linear
layers; AdamW + one-cycle LR, horizontal flips, label smoothing 0.05. Log of the committed run:
bench/results/svg_judge_cnn.log.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

CACHE = Path("/tmp/svg_judge_features.npz")


def build_features() -> None:
    from backend.svg.corpus import load_corpus
    from backend.svg.offline.dataset import is_heldout
    from backend.svg.offline.legibility_eval import features
    from backend.svg.render import render_alpha

    c = load_corpus()
    F, R, Y, H = [], [], [], []
    t = time.time()
    for k, ic in enumerate(c.icons):
        F.append(features(ic.svg))
        R.append((render_alpha(ic.svg, 64) * 255).astype(np.uint8))
        Y.append(ic.style)
        H.append(is_heldout(ic.concept))
        if k % 2000 == 0:
            print(k, round(time.time() - t), flush=True)
    np.savez(CACHE, F=np.stack(F), R=np.stack(R), Y=np.array(Y), H=np.array(H))


def split(Y, H, cap: int):
    rng = np.random.default_rng(0)
    tr = []
    for st in sorted(np.unique(Y)):
        idx = np.where((Y == st) & ~H)[0]
        rng.shuffle(idx)
        tr += list(idx[:cap])
    return np.array(tr), np.where(H)[0], rng


def report(name: str, p, yt, styles) -> None:
    acc = {st: float(np.mean(p[yt == k] == k)) for k, st in enumerate(styles)}
    print(f"{name}: overall {np.mean(p == yt):.3f}, balanced {np.mean(list(acc.values())):.3f}")
    for st, a in acc.items():
        print(f"  {st:20s} {a:.2f} n={int(np.sum(yt == styles.index(st)))}")


def trees(cap: int) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    d = np.load(CACHE)
    F, Y, H = d["F"], d["Y"], d["H"]
    styles = sorted(np.unique(Y).tolist())
    lab = np.array([styles.index(y) for y in Y])
    tr, te, _ = split(Y, H, cap)
    t = time.time()
    clf = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, random_state=0, class_weight="balanced",
                                         early_stopping=False).fit(F[tr], lab[tr])
    print(f"trees: {len(tr)} training icons, {time.time() - t:.0f}s")
    report("trees", clf.predict(F[te]), lab[te], styles)


def cnn(cap: int, epochs: int, threads: int) -> None:
    import torch
    import torch.nn.functional as Fn
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    d = np.load(CACHE)
    F, R, Y, H = d["F"], d["R"], d["Y"], d["H"]
    nm = F.shape[1] - 256  # the measurements (the last 256 features are the 16-px render)
    styles = sorted(np.unique(Y).tolist())
    lab = np.array([styles.index(y) for y in Y])
    tr, te, rng = split(Y, H, cap)
    M = F[:, :nm].astype(np.float32)
    M = (M - M[tr].mean(0)) / (M[tr].std(0) + 1e-6)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            ch = [1, 24, 48, 64, 96]
            self.convs = nn.ModuleList([nn.Sequential(nn.Conv2d(a, b, 3, padding=1), nn.BatchNorm2d(b), nn.ReLU(),
                                                      nn.MaxPool2d(2)) for a, b in zip(ch[:-1], ch[1:], strict=True)])
            self.head = nn.Sequential(nn.Linear(192 + nm, 160), nn.ReLU(), nn.Dropout(0.2),
                                      nn.Linear(160, len(styles)))

        def forward(self, x, m):
            for c in self.convs:
                x = c(x)
            return self.head(torch.cat([x.mean((2, 3)), x.amax((2, 3)), m], 1))

    net = Net()
    opt = torch.optim.AdamW(net.parameters(), 2e-3, weight_decay=1e-4)
    Xr, Mt, L = torch.from_numpy(R), torch.from_numpy(M), torch.from_numpy(lab)
    w = np.bincount(lab[tr], minlength=len(styles))
    sw = 1.0 / w[lab[tr]]
    steps = epochs * len(tr) // 128
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=steps)
    t = time.time()
    for step in range(steps):
        b = rng.choice(tr, 128, p=sw / sw.sum())
        x = Xr[b].float()[:, None] / 255
        if rng.random() < 0.5:
            x = x.flip(3)
        loss = Fn.cross_entropy(net(x, Mt[b]), L[b], label_smoothing=0.05)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 200 == 0:
            print(step, steps, round(loss.item(), 3), round(time.time() - t), flush=True)
    net.eval()
    with torch.no_grad():
        p = np.concatenate([net(Xr[te[i:i + 512]].float()[:, None] / 255, Mt[te[i:i + 512]]).argmax(1).numpy()
                            for i in range(0, len(te), 512)])
    print(f"cnn: {len(tr)} training icons, {time.time() - t:.0f}s")
    report("cnn", p, lab[te], styles)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=("features", "cnn", "trees"))
    ap.add_argument("--cap", type=int, default=800)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    {"features": build_features, "cnn": lambda: cnn(a.cap, a.epochs, a.threads),
     "trees": lambda: trees(a.cap)}[a.what]()
