"""Loader for the paper's released Stage-1 weights layout (intchous/custom-svg-style), from a local directory.

Layout expected (what the README tells users to put under `pretrained/<name>/`):
    model.safetensors (or any single *.safetensors)    the point-sequence DiT
    config.yaml | config.json                           n_args, dim_transformer, nhead, nlayer, feature_dim,
                                                        max_points / max_total_len, (cross_attention_dim)
The released model is a point-sequence DiT: 401 points × 7 args (normalised path index, x, y, RGBA), a linear
`layer_in`, a sinusoidal position table, diffusers `Timesteps`/`TimestepEmbedding` (dim/4 -> dim), an optional
`encoder_hid_proj`, `nlayer` diffusers-style blocks (AdaLayerNorm(temb) -> self-attn -> AdaLayerNorm(temb) ->
cross-attn to 77×768 CLIP states -> LayerNorm -> GEGLU FFN) and a linear `layer_out`; trained with x0
reconstruction. We rebuild exactly that module tree (parameter names match, so `load_state_dict(strict)` is
the validation) and fail with a clear message listing missing/unexpected keys otherwise.
What we cannot provide offline: the 0.39 B weights themselves and the SD1.5 CLIP text encoder; both must be
local. This path is GPU-sized; it is tested here with a tiny random config written by `save_tiny_random`.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import yaml
from safetensors.torch import load_file, save_file

PREFIXES = ("module.", "model.", "denoiser.", "net.", "transformer.")


@dataclass
class Stage1Config:
    n_args: int = 7
    dim_transformer: int = 800
    nhead: int = 12
    nlayer: int = 28
    feature_dim: int = 2048
    max_points: int = 401
    cross_attention_dim: int = 768
    encoder_hid_dim: int | None = None
    max_paths_len_thresh: int = 31
    canvas: int = 224

    @classmethod
    def from_file(cls, path: Path) -> Stage1Config:
        text = path.read_text(encoding="utf-8")
        if path.suffix in (".yaml", ".yml"):
            raw = yaml.safe_load(text) or {}
        else:
            raw = json.loads(text)
        if "max_total_len" in raw and "max_points" not in raw:
            raw["max_points"] = raw["max_total_len"]
        known = {k: raw[k] for k in cls.__dataclass_fields__ if k in raw}
        return cls(**known)


def _sinusoid(n: int, dim: int, rescale: float = 4000.0) -> torch.Tensor:
    x = torch.arange(n, dtype=torch.float32) / float(n) * rescale
    half = dim // 2
    emb = torch.exp(torch.arange(half, dtype=torch.float32) * -(math.log(10000) / (half - 1)))
    emb = x[:, None] * emb[None]
    return torch.cat([emb.sin(), emb.cos()], dim=-1)


class Stage1Block(nn.Module):
    """Parameter names follow diffusers' BasicTransformerBlock(norm_type="ada_norm", temb-conditioned)."""

    def __init__(self, c: Stage1Config):
        super().__init__()
        from diffusers.models.attention import FeedForward  # noqa: PLC0415 - optional heavy package, loaded with a user's checkpoint
        from diffusers.models.attention_processor import Attention  # noqa: PLC0415 - optional heavy package, loaded with a user's checkpoint
        from diffusers.models.normalization import AdaLayerNorm  # noqa: PLC0415 - optional heavy package, loaded with a user's checkpoint

        d = c.dim_transformer
        self.norm1 = AdaLayerNorm(d, None, chunk_dim=1)
        self.attn1 = Attention(query_dim=d, heads=c.nhead, dim_head=d // c.nhead, bias=False)
        self.norm2 = AdaLayerNorm(d, None, chunk_dim=1)
        self.attn2 = Attention(query_dim=d, cross_attention_dim=c.cross_attention_dim, heads=c.nhead,
                               dim_head=d // c.nhead, bias=False)
        self.norm3 = nn.LayerNorm(d)
        self.ff = FeedForward(d, activation_fn="geglu", inner_dim=c.feature_dim)

    def forward(self, h, ctx, temb):
        h = h + self.attn1(self.norm1(h, temb=temb))
        h = h + self.attn2(self.norm2(h, temb=temb), encoder_hidden_states=ctx)
        return h + self.ff(self.norm3(h))


class Stage1DiT(nn.Module):
    def __init__(self, c: Stage1Config):
        super().__init__()
        from diffusers.models.embeddings import TimestepEmbedding, Timesteps  # noqa: PLC0415 - optional heavy package, loaded with a user's checkpoint

        self.cfg = c
        d = c.dim_transformer
        self.register_buffer("pos_embed", _sinusoid(c.max_points, d), persistent=False)
        self.layer_in = nn.Linear(c.n_args, d)
        self.encoder_hid_proj = nn.Linear(c.encoder_hid_dim, c.cross_attention_dim) if c.encoder_hid_dim else None
        self.time_proj = Timesteps(d // 4, True, downscale_freq_shift=0)
        self.time_embedding = TimestepEmbedding(d // 4, d)
        self.layers = nn.ModuleList(Stage1Block(c) for _ in range(c.nlayer))
        self.layer_out = nn.Linear(d, c.n_args)

    def forward(self, x, timesteps, ctx):
        h = self.layer_in(x) + self.pos_embed[: x.shape[1]]
        temb = self.time_embedding(self.time_proj(timesteps).to(h.dtype))
        if self.encoder_hid_proj is not None:
            ctx = self.encoder_hid_proj(ctx)
        for blk in self.layers:
            h = blk(h, ctx, temb)
        return self.layer_out(h)


def _strip(sd: dict) -> dict:
    for p in PREFIXES:
        if sd and all(k.startswith(p) for k in sd):
            return _strip({k[len(p):]: v for k, v in sd.items()})
    return sd


def find_files(root: Path) -> tuple[Path, Path]:
    if not root.is_dir():
        raise FileNotFoundError(f"Stage-1 weights directory {root} does not exist.")
    weights = sorted(root.glob("*.safetensors"))
    if len(weights) != 1:
        raise FileNotFoundError(f"Expected exactly one *.safetensors in {root}, found {len(weights)}.")
    cfgs = [p for p in (root / "config.yaml", root / "config.yml", root / "config.json") if p.exists()]
    if not cfgs:
        raise FileNotFoundError(f"No config.yaml/config.json next to {weights[0].name} in {root}.")
    return weights[0], cfgs[0]


def load_stage1(root: str | Path, device: str = "cpu", dtype=torch.float32) -> Stage1DiT:
    """Build the model from the config and load the safetensors strictly; clear errors on any mismatch."""
    wpath, cpath = find_files(Path(root))
    cfg = Stage1Config.from_file(cpath)
    sd = _strip(load_file(str(wpath)))
    model = Stage1DiT(cfg)
    missing, unexpected = model.load_state_dict(sd, strict=False)
    if missing or unexpected:
        raise ValueError(f"{wpath.name} does not match the Stage-1 layout of {cpath.name}: "
                         f"{len(missing)} missing (e.g. {missing[:3]}), {len(unexpected)} unexpected "
                         f"(e.g. {unexpected[:3]}).")
    return model.to(device, dtype).eval()


def save_tiny_random(root: str | Path, seed: int = 0, **overrides) -> Path:
    """Write a tiny random checkpoint in the released layout (for tests and to document the format)."""
    torch.manual_seed(seed)
    cfg = Stage1Config(**{**dict(dim_transformer=32, nhead=2, nlayer=2, feature_dim=64, max_points=24,
                                 cross_attention_dim=16), **overrides})
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    model = Stage1DiT(cfg)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(root / "model.safetensors"))
    (root / "config.json").write_text(json.dumps(asdict(cfg)))
    return root


@torch.no_grad()
def sample_points(model: Stage1DiT, ctx: torch.Tensor, uncond: torch.Tensor, steps: int = 50, guidance: float = 4.0,
                  n_train_steps: int = 1000, seed: int = 0) -> torch.Tensor:
    """DDIM over a linear-beta DDPM schedule with x0 prediction (the released loss is x0 reconstruction)."""
    g = torch.Generator().manual_seed(seed)
    b, c = ctx.shape[0], model.cfg
    betas = torch.linspace(1e-4, 0.02, n_train_steps, dtype=torch.float64)
    abar = torch.cumprod(1 - betas, 0).float()
    x = torch.randn(b, c.max_points, c.n_args, generator=g).to(ctx.device)
    ts = np.linspace(n_train_steps - 1, 0, steps).round().astype(int)
    for i, t in enumerate(ts):
        tt = torch.full((b,), int(t), device=ctx.device)
        x0c = model(x, tt, ctx)
        x0u = model(x, tt, uncond)
        x0 = (x0u + guidance * (x0c - x0u)).clamp(-1.5, 1.5)
        a_t = abar[t]
        eps = (x - a_t.sqrt() * x0) / (1 - a_t).sqrt()
        a_n = abar[ts[i + 1]] if i + 1 < len(ts) else torch.tensor(1.0)
        x = a_n.sqrt() * x0 + (1 - a_n).sqrt() * eps
    return x


def points_to_svg(points: np.ndarray, canvas: float = 24.0) -> str:
    """Released decoding: points grouped by their path-index arg form closed cubic paths (p, c1, c2, p, ...)
    filled with their RGBA. Coordinates in [-1, 1] (x, y = args 1, 2)."""
    pts = np.nan_to_num(np.asarray(points, np.float64))
    idx = np.round((np.clip(pts[:, 0], -1, 1) + 1) / 2 * 30).astype(int)
    xy = (np.clip(pts[:, 1:3], -1, 1) + 1) / 2 * canvas
    rgba = np.clip((pts[:, 3:7] + 1) / 2, 0, 1) if pts.shape[1] >= 7 else np.zeros((len(pts), 4)) + [0, 0, 0, 1]
    body = []
    for pid in sorted(set(idx.tolist())):
        sel = np.nonzero(idx == pid)[0]
        if len(sel) < 4:
            continue
        p = xy[sel]
        n_seg = (len(p) - 1) // 3
        d = [f"M{p[0, 0]:.2f} {p[0, 1]:.2f}"]
        for s in range(n_seg):
            q = p[1 + 3 * s: 4 + 3 * s]
            d.append("C" + " ".join(f"{v:.2f}" for v in q.reshape(-1)))
        col = rgba[sel].mean(0)
        r, g, b = (int(round(v * 255)) for v in col[:3])
        fill = f"#{r:02x}{g:02x}{b:02x}"
        body.append(f'<path d="{"".join(d)}Z" fill="{fill}" fill-opacity="{col[3]:.2f}"/>')
    if not body:
        body.append(f'<path d="M{canvas / 2:.0f} {canvas / 2:.0f}h0.01" stroke="#000" fill="none"/>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {canvas:g} {canvas:g}" width="{canvas:g}" '
            f'height="{canvas:g}">' + "".join(body) + "</svg>")
