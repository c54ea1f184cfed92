"""The path diffusion transformer ("IconDiT-S"): denoises a set of K path tokens, conditioned on text and style.

Design, following the paper's DiT with text cross-attention but at CPU scale (~7 M parameters at the default
d=256, depth=6):
- input: K path tokens (see codec.py) -> linear -> + learned slot embedding (slots are in canonical order);
- conditioning on the noise level with adaLN-single (PixArt-α): one shared MLP maps (time + style + pooled
  text) to shift/scale/gate for self-attention and MLP, each block adds its own learned table, which saves
  ~0.6 M parameters per block compared with a per-block adaLN;
- cross-attention to [style token ; text token states]: the text states are all-MiniLM-L6-v2 last-layer token
  states, optionally reduced by a fixed PCA basis (stored in the checkpoint) to keep the dataset small; the
  style token is a learned embedding per icon set/variant (index 0 = "any style") — a few-shot style is just
  a new vector fed through `style_vec`, which is how textual-inversion customisation works here;
- output: v-prediction (see diffusion.py), zero-initialised so training starts from the identity.

Imports only torch: the GPU trainer runs without the app's dependencies.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class DiTConfig:
    n_features: int = 33
    k_slots: int = 24
    d: int = 256
    depth: int = 6
    heads: int = 4
    ffn: int = 1024
    text_dim: int = 384
    n_styles: int = 64
    dropout: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of t in [0, 1] (scaled to 0..1000 like DDPM step indices)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    args = (t.float() * 1000.0)[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class Block(nn.Module):
    def __init__(self, cfg: DiTConfig):
        super().__init__()
        d = cfg.d
        self.norm1 = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.attn = nn.MultiheadAttention(d, cfg.heads, dropout=cfg.dropout, batch_first=True)
        self.norm2 = nn.LayerNorm(d, eps=1e-6)
        self.cross = nn.MultiheadAttention(d, cfg.heads, dropout=cfg.dropout, batch_first=True)
        self.norm3 = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(d, cfg.ffn), nn.GELU(approximate="tanh"), nn.Linear(cfg.ffn, d))
        self.table = nn.Parameter(torch.randn(6, d) / d ** 0.5)

    def forward(self, x, mod, ctx, ctx_pad):
        sh1, sc1, g1, sh2, sc2, g2 = (mod + self.table[None]).unbind(1)
        h = self.norm1(x) * (1 + sc1[:, None]) + sh1[:, None]
        x = x + g1[:, None] * self.attn(h, h, h, need_weights=False)[0]
        h = self.norm2(x)
        x = x + self.cross(h, ctx, ctx, key_padding_mask=ctx_pad, need_weights=False)[0]
        h = self.norm3(x) * (1 + sc2[:, None]) + sh2[:, None]
        return x + g2[:, None] * self.mlp(h)


class SvgDiT(nn.Module):
    def __init__(self, cfg: DiTConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.d
        self.x_in = nn.Linear(cfg.n_features, d)
        self.slot = nn.Parameter(torch.randn(cfg.k_slots, d) * 0.02)
        self.t_mlp = nn.Sequential(nn.Linear(d, d), nn.SiLU(), nn.Linear(d, d))
        self.style = nn.Embedding(cfg.n_styles, d)
        nn.init.normal_(self.style.weight, std=0.02)
        self.text_in = nn.Sequential(nn.LayerNorm(cfg.text_dim), nn.Linear(cfg.text_dim, d))
        self.text_pos = nn.Parameter(torch.randn(64, d) * 0.02)
        self.ada = nn.Sequential(nn.SiLU(), nn.Linear(d, 6 * d))
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.depth))
        self.norm_out = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.out_ada = nn.Linear(d, 2 * d)
        self.out = nn.Linear(d, cfg.n_features)
        nn.init.zeros_(self.out_ada.weight)
        nn.init.zeros_(self.out_ada.bias)
        ada_out = self.ada[1]
        assert isinstance(ada_out, nn.Linear)
        nn.init.zeros_(ada_out.weight)
        nn.init.zeros_(ada_out.bias)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def style_vector(self, style_ids: torch.Tensor) -> torch.Tensor:
        return self.style(style_ids)

    def forward(self, x, t, text, text_mask, style_ids=None, style_vec=None):
        """x (B,K,F); t (B,) in [0,1]; text (B,L,text_dim); text_mask (B,L) bool True = real token;
        style_ids (B,) long or style_vec (B,d) (few-shot styles)."""
        b = x.shape[0]
        if style_vec is None:
            style_vec = self.style(style_ids if style_ids is not None else torch.zeros(b, dtype=torch.long,
                                                                                         device=x.device))
        tx = self.text_in(text) + self.text_pos[: text.shape[1]][None]
        m = text_mask.to(tx.dtype)[..., None]
        pooled = (tx * m).sum(1) / m.sum(1).clamp(min=1.0)
        cond = self.t_mlp(timestep_embedding(t, self.cfg.d).to(tx.dtype)) + style_vec + pooled
        mod = self.ada(cond).view(b, 6, -1)
        ctx = torch.cat([style_vec[:, None], tx], dim=1)
        pad = torch.cat([torch.zeros(b, 1, dtype=torch.bool, device=x.device), ~text_mask.bool()], dim=1)
        h = self.x_in(x) + self.slot[None, : x.shape[1]]
        for blk in self.blocks:
            h = blk(h, mod, ctx, pad)
        sh, sc = self.out_ada(F.silu(cond)).chunk(2, dim=-1)
        return self.out(self.norm_out(h) * (1 + sc[:, None]) + sh[:, None])
