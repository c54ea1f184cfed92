"""Shared tiny fixtures for the learned-SVG-generator tests: a 150-icon dataset and a 1-block model.

A fake text encoder (hashed token vectors) stands in for MiniLM so the tests stay fast and offline-safe;
the real encoder is exercised by the dataset CLI and the evaluation, not here.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch


def fake_states(texts):
    out = []
    for t in texts:
        words = t.replace(",", " ").split()[:14] or ["x"]
        rows = [np.random.default_rng(int(hashlib.md5(w.encode()).hexdigest()[:8], 16)).normal(size=384)
                for w in ["[cls]"] + words + ["[sep]"]]
        out.append(np.stack(rows).astype(np.float32))
    return out


def fake_encoder(texts):
    st = fake_states(texts)
    L = 16
    x = torch.zeros(len(st), L, 384)
    m = torch.zeros(len(st), L, dtype=torch.bool)
    for i, s in enumerate(st):
        n = min(len(s), L)
        x[i, :n] = torch.from_numpy(s[:n])
        m[i, :n] = True
    return x, m


_BUILT: dict[str, tuple[Path, Path]] = {}


def build_tiny(root: Path) -> tuple[Path, Path]:
    """(dataset npz, checkpoint) built once per test session (the first caller's `root` wins)."""
    if "tiny" in _BUILT:
        return _BUILT["tiny"]
    from backend.svg.offline import train
    from backend.svg.offline.dataset import build

    data = root / "tiny.npz"
    ck = root / "run" / "svgdit.pt"
    if not ck.exists():
        build(data, limit=150, seed=0, text_dims=32, text_fn=fake_states)
        train.main(["--data", str(data), "--out", str(ck.parent), "--steps", "30", "--batch", "16", "--d", "32",
                    "--depth", "1", "--heads", "2", "--ffn", "64", "--log-every", "10", "--save-every", "15",
                    "--threads", "1", "--warmup", "5"])
    _BUILT["tiny"] = (data, ck)
    return data, ck
