"""Load a trained path-diffusion checkpoint and turn prompts into clean SVG strings.

The pipeline reads like a diffusers pipeline, one named component per step:
    text encoder (MiniLM token states, projected by the checkpoint's fixed PCA basis)
    -> style vector (a trained set/variant token, or a few-shot token from the style library)
    -> DDIM sampler with classifier-free guidance over K path tokens (diffusion.py)
    -> path codec decode (codec.py) -> SVG writer (svgwrite.py) -> the studio's sanitiser (output gate)

Decoding is defensive: NaNs are zeroed, coordinates clipped, at least one path is always kept, and an output
that fails the sanitiser is replaced by the sanitised SVG of its most confident single path, so 100 % of
outputs are valid, non-empty and sanitiser-clean.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from backend.errors import UserError
from backend.registry import get_registry
from backend.svg.sanitize import is_safe_svg, sanitize_svg

from .codec import F_KEEP, PathCodec
from .diffusion import ddim_sample
from .dit import DiTConfig, SvgDiT
from .svgwrite import contours_to_svg

TextEncoder = Callable[[Sequence[str]], tuple[torch.Tensor, torch.Tensor]]


@dataclass
class Sample:
    svg: str
    tokens: np.ndarray  # (K, F) denoised path tokens
    n_paths: int
    seed: int


def minilm_encoder(max_len: int = 16) -> TextEncoder:
    """MiniLM token states through the app registry (lazy, shared with the rest of the app)."""
    def enc(texts):
        st, mask = get_registry().get("minilm-l6").token_states(list(texts), max_len=max_len)
        return st.float().cpu(), mask.bool().cpu()

    return enc


def load_checkpoint(path: str | Path, device: str = "cpu") -> tuple[SvgDiT, dict]:
    ck = torch.load(str(path), map_location="cpu", weights_only=False)
    if not isinstance(ck, dict) or ck.get("format") != "svgdit-v1":
        raise ValueError(f"{path} is not a path-diffusion checkpoint (format svgdit-v1).")
    model = SvgDiT(DiTConfig(**ck["config"]))
    model.load_state_dict({k: v.float() for k, v in ck["state_dict"].items()})
    return model.to(device).eval(), ck


class PathDiffusionGenerator:
    """Checkpoint + codec + text encoder; `sample()` is thread-safe and seeded."""

    def __init__(self, checkpoint: str | Path, device: str = "cpu", text_encoder: TextEncoder | None = None,
                 threads: int | None = None):
        self.device = device
        self.model, ck = load_checkpoint(checkpoint, device)
        self.model.requires_grad_(False)
        codec = {k: np.asarray(v.numpy() if hasattr(v, "numpy") else v) for k, v in ck["codec"].items()}
        self.codec = PathCodec.from_arrays(codec)
        self.text_mu = torch.from_numpy(codec["textproj_mu"]).float() if "textproj_mu" in codec else None
        self.text_basis = torch.from_numpy(codec["textproj_basis"]).float() if "textproj_basis" in codec else None
        self.styles: list[str] = list(ck["style_names"])
        self.meta = ck.get("meta", {})
        self.train_info = ck.get("train", {})
        self.text_len = int(self.meta.get("text_len", 16))
        self.encode_text = text_encoder or minilm_encoder(self.text_len)
        self.threads = threads
        self._lock = threading.Lock()
        self.checkpoint = str(checkpoint)

    @property
    def n_params(self) -> int:
        return self.model.n_params()

    # ------------------------------------------------------------------ conditioning
    def text_condition(self, prompts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        st, mask = self.encode_text([p.strip().lower() for p in prompts])
        st, mask = st[:, : self.text_len].float(), mask[:, : self.text_len].bool()
        if self.text_basis is not None and self.text_mu is not None:
            st = (st - self.text_mu) @ self.text_basis
        return st.to(self.device), mask.to(self.device)

    def style_index(self, style: str | None) -> int:
        """Style name ("set/variant") -> id; None/"any"/unknown -> 0 (the model's "any style")."""
        if not style or style == "any":
            return 0
        try:
            return self.styles.index(style)
        except ValueError:
            raise UserError(f"The model has no style {style!r}; choose one of {', '.join(self.styles[1:])}.") \
                from None

    def style_vectors(self, ids: torch.Tensor) -> torch.Tensor:
        return self.model.style_vector(ids.to(self.device))

    # ------------------------------------------------------------------ sampling
    @torch.no_grad()
    def sample_tokens(self, prompt: str, n: int = 4, seed: int = 0, style: str | None = None,
                      style_vec: np.ndarray | torch.Tensor | None = None, steps: int = 20, guidance: float = 3.0,
                      init_tokens: np.ndarray | None = None, strength: float = 1.0) -> np.ndarray:
        if not prompt or not prompt.strip():
            raise UserError("Type a short icon prompt, e.g. 'bell' or 'shopping cart'.")
        n = int(np.clip(n, 1, 32))
        steps = int(np.clip(steps, 2, 200))
        with self._lock:
            prev = torch.get_num_threads()
            if self.threads:
                torch.set_num_threads(self.threads)
            try:
                text, mask = self.text_condition([prompt] * n)
                if style_vec is not None:
                    sv = torch.as_tensor(np.asarray(style_vec), dtype=torch.float32, device=self.device)
                    sv = sv.reshape(1, -1).expand(n, -1)
                    sid = None
                else:
                    sv = None
                    sid = torch.full((n,), self.style_index(style), dtype=torch.long, device=self.device)
                cfg = self.model.cfg
                gen = torch.Generator(device="cpu").manual_seed(int(seed))
                x_init, t_start = None, 1.0
                if init_tokens is not None and strength < 1.0:
                    x_init = torch.as_tensor(np.asarray(init_tokens), dtype=torch.float32)[None].expand(n, -1, -1)
                    x_init, t_start = x_init.to(self.device), float(np.clip(strength, 0.05, 1.0))
                x = ddim_sample(self.model, (n, cfg.k_slots, cfg.n_features), text, mask, style_ids=sid,
                                style_vec=sv, steps=steps, guidance=guidance, generator=gen if self.device == "cpu"
                                else None, x_init=x_init, t_start=t_start)
            finally:
                torch.set_num_threads(prev)
        return x.float().cpu().numpy()

    def decode(self, tokens: np.ndarray, linecap: str = "round", linejoin: str = "round") -> str:
        contours = self.codec.decode_icon(tokens)
        try:
            svg = sanitize_svg(contours_to_svg(contours, linecap, linejoin))
            if is_safe_svg(svg):
                return svg
        except ValueError:
            pass
        best = int(np.argmax(np.nan_to_num(tokens[:, F_KEEP], nan=-1e9)))  # last resort: one clean path
        return sanitize_svg(contours_to_svg([self.codec.decode_contour(tokens[best])]))

    def generate(self, prompt: str, n: int = 4, seed: int = 0, style: str | None = None,
                 style_vec=None, steps: int = 20, guidance: float = 3.0, **kw) -> list[Sample]:
        t0 = time.perf_counter()
        toks = self.sample_tokens(prompt, n, seed, style, style_vec, steps, guidance, **kw)
        out = []
        for tk in toks:
            svg = self.decode(tk)
            out.append(Sample(svg, tk, int((tk[:, F_KEEP] > 0).sum()) or 1, int(seed)))
        self.last_latency_s = time.perf_counter() - t0
        return out
