"""Few-shot style customisation: learn a new style token from 1–16 exemplar SVGs (textual inversion).

The paper adds a style by fine-tuning the whole T2V model (or a LoRA) against images from a DreamBooth-LoRA
diffusion model. Here the same "append a style token" idea is done directly on the exemplars' path tokens:
the DiT stays frozen and only one d-dim style vector is optimised with the ordinary diffusion loss, so it is
cheap (≈1–3 min on 2 CPU cores), cannot damage the shared model, and the result is a 256-float row in the
style library. Steps:
  1. exemplars -> sanitised -> path dicts -> contours -> path tokens (the same codec as training);
  2. initialise from the trained set/variant token that already explains the exemplars best (lowest denoising
     loss under fixed noise): this is also a nearest-style classifier, reported back to the user;
  3. optimise the vector with Adam on v-loss, with the text either the exemplar names (if given) or dropped,
     small centre jitter as augmentation, an L2 pull to the initial token, a wall-clock budget, progress
     callbacks and cancellation.
"""
from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from backend.svg.sanitize import SVGInputError, sanitize_svg
from backend.svg.style import exemplar_paths

from .codec import F_CX, F_CY, F_KEEP
from .contours import paths_to_contours
from .diffusion import v_loss

MAX_EXEMPLARS = 16


class Cancelled(RuntimeError):
    """The user cancelled the style fine-tune."""


@dataclass
class LearnedStyle:
    token: list[float]
    base_style: str
    base_losses: dict[str, float]
    steps: int
    seconds: float
    loss_start: float
    loss_end: float
    exemplar_sha: list[str] = field(default_factory=list)
    seed: int = 0

    def info(self) -> dict:
        return {"steps": self.steps, "seconds": round(self.seconds, 2), "loss_start": round(self.loss_start, 4),
                "loss_end": round(self.loss_end, 4), "base_style": self.base_style, "seed": self.seed,
                "nearest_styles": dict(sorted(self.base_losses.items(), key=lambda kv: kv[1])[:5])}


def exemplar_tokens(gen, svgs: Sequence[str | bytes]) -> tuple[np.ndarray, list[str]]:
    """(E, K, F) path tokens of the exemplars + the sha256 of each sanitised exemplar."""
    if len(svgs) > MAX_EXEMPLARS:
        raise SVGInputError(f"At most {MAX_EXEMPLARS} exemplars, please ({len(svgs)} given).")
    icons = exemplar_paths(list(svgs))  # sanitises; raises SVGInputError naming the bad one
    toks, shas = [], []
    for i, (raw, paths) in enumerate(zip(svgs, icons, strict=False), 1):
        cs = paths_to_contours(paths)
        if not cs:
            raise SVGInputError(f"Exemplar {i} has no usable outline after normalisation.")
        toks.append(gen.codec.encode_icon(cs, gen.model.cfg.k_slots))
        shas.append(hashlib.sha256(sanitize_svg(raw).encode()).hexdigest())
    return np.stack(toks), shas


def _loss(gen, x0, text, mask, sid=None, svec=None, seed=0):
    g = torch.Generator().manual_seed(seed)
    return v_loss(gen.model, x0, text, mask, style_ids=sid, style_vec=svec, generator=g)


def nearest_styles(gen, x0: torch.Tensor, text, mask, seed: int = 0, repeats: int = 4) -> dict[str, float]:
    """Denoising loss of the exemplars under each trained style token (same noise for all): lower = closer."""
    e = x0.shape[0]
    x = x0.repeat(repeats, 1, 1)
    t, m = text.repeat(repeats, 1, 1), mask.repeat(repeats, 1)
    out = {}
    with torch.no_grad():
        for i, name in enumerate(gen.styles):
            if i == 0:
                continue
            sid = torch.full((e * repeats,), i, dtype=torch.long)
            out[name] = float(_loss(gen, x, t, m, sid=sid, seed=seed))
    return out


def learn_style(gen, svgs: Sequence[str | bytes], names: list[str] | None = None, steps: int = 150,
                budget_s: float = 150.0, lr: float = 0.02, reg: float = 0.01, batch: int = 16, seed: int = 0,
                progress: Callable[[int, int, float, float], None] | None = None,
                cancel: Callable[[], bool] | None = None) -> LearnedStyle:
    """Learn a style vector for `gen` (a PathDiffusionGenerator on CPU) from exemplar SVGs."""
    t0 = time.time()
    torch.manual_seed(seed)
    toks, shas = exemplar_tokens(gen, svgs)
    x0 = torch.from_numpy(toks).float()
    e = len(x0)
    if names and len(names) == e and all(n and n.strip() for n in names):
        text, mask = gen.text_condition([n for n in names])
    else:  # no names: the text branch is dropped, exactly as in the 10 % unconditional training samples
        text, mask = gen.text_condition(["icon"] * e)
        mask = torch.zeros_like(mask)
    base = nearest_styles(gen, x0, text, mask, seed)
    base_style = min(base, key=lambda k: base[k])
    init = gen.style_vectors(torch.tensor([gen.styles.index(base_style)]))[0].detach().clone()
    vec = init.clone().requires_grad_(True)
    opt = torch.optim.Adam([vec], lr=lr)
    rng = torch.Generator().manual_seed(seed)
    losses = []
    step = 0
    for step in range(1, steps + 1):
        if cancel is not None and cancel():
            raise Cancelled("Style learning was cancelled; nothing was saved.")
        idx = torch.randint(e, (batch,), generator=rng)
        xb = x0[idx].clone()
        jitter = (torch.rand(batch, 1, 2, generator=rng) - 0.5) * 0.06  # ±0.03 of the [-1,1] centre range
        kept = (xb[:, :, F_KEEP:F_KEEP + 1] > 0).float()
        xb[:, :, [F_CX, F_CY]] += jitter * kept
        g = torch.Generator().manual_seed(seed * 100003 + step)
        loss = v_loss(gen.model, xb, text[idx], mask[idx], style_vec=vec[None].expand(batch, -1), generator=g)
        loss = loss + reg * ((vec - init) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        if progress is not None:
            progress(step, steps, float(np.mean(losses[-10:])), time.time() - t0)
        if time.time() - t0 > budget_s:
            break
    k = max(1, min(10, len(losses) // 4))
    return LearnedStyle(token=vec.detach().tolist(), base_style=base_style, base_losses=base, steps=step,
                        seconds=time.time() - t0, loss_start=float(np.mean(losses[:k])),
                        loss_end=float(np.mean(losses[-k:])), exemplar_sha=shas, seed=seed)
