"""Build the compact training file for the path diffusion model (run here, once; the trainer only reads it).

    python -m backend.svg.offline.dataset --out static/svg/model/train_data.npz [--limit N] [--seed 0]

Contents (one .npz, fp16 where it matters, ≤ ~40 MB so it can travel to a GPU box):
    paths (P, F) fp16        path tokens of all icons, packed; icon i owns rows icon_off[i]:icon_off[i+1]
    icon_off (N+1,) int32    ... at most K_SLOTS rows per icon, canonical order (codec.py)
    icon_style (N,) int16    style id (1..S; 0 is reserved for "any style")
    icon_texts (N, V) int32  caption variants (index into the text table, -1 = none)
    icon_split (N,) uint8    0 = train, 1 = held-out concept (10% of concepts, seeded)
    text_tok (T, D) int8     MiniLM token states of every unique caption, packed, ≤ TEXT_LEN tokens each,
    text_scale (T,) fp16     ... projected on a fixed PCA basis (textproj_*) to D dims and int8-quantised
    text_off (n+1,) int32    ... per token vector (value = text_tok * text_scale) to keep the file small
    style_names, concepts    string tables; codec_* the fitted path codec; meta_json sizes and provenance

Why hold out *concepts* (not icons): the same concept exists in many sets/variants, so a held-out concept
tests generalisation to unseen content, and gives paired ground truth in every style.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from backend.registry import get_registry
from backend.svg.corpus import load_corpus
from backend.svg.model.codec import K_SLOTS, N_FEATURES, PathCodec
from backend.svg.model.contours import paths_to_contours, svg_to_contours
from backend.svg.offline.corpus_sources import iter_sources

TEXT_LEN = 16
TEXT_DIMS = 128
HOLDOUT = 0.10
N_VARIANTS = 2


@dataclass
class Item:
    style: str  # "set/variant", as in backend.svg.corpus
    concept: str
    tags: list
    contours: list  # list[Contour]


def is_heldout(concept: str, seed: int = 0, frac: float = HOLDOUT) -> bool:
    """Deterministic concept-level split shared by the trainer data, the evaluator and the engines."""
    h = hashlib.sha256(f"{seed}:{concept.strip().lower()}".encode()).digest()
    return int.from_bytes(h[:4], "big") / 2 ** 32 < frac


def style_split(corpus, feat, per_style: int, per_test: int, seed: int = 0):
    """Training data for a style judge: per style, up to `per_style` training-concept icons and `per_test` held-out
    ones (seeded shuffle), as features `feat(svg)` and style labels: (xs, ys, xt, yt)."""
    rng = random.Random(seed)
    xs, ys, xt, yt = [], [], [], []
    for st in corpus.styles():
        icons = sorted(corpus.of_style(st), key=lambda i: i.id)
        rng.shuffle(icons)
        tr = [i for i in icons if not is_heldout(i.concept)][:per_style]
        te = [i for i in icons if is_heldout(i.concept)][:per_test]
        xs += [feat(i.svg) for i in tr]
        ys += [st] * len(tr)
        xt += [feat(i.svg) for i in te]
        yt += [st] * len(te)
    return xs, ys, xt, yt


def captions(concept: str, tags: list, seed: int) -> list[str]:
    """Caption variants: the concept words alone, and the concept with up to two of its tags (seeded pick)."""
    out = [concept.strip().lower()]
    tags = [str(t).strip().lower() for t in tags if str(t).strip() and str(t).strip().lower() != out[0]]
    if tags:
        rng = np.random.default_rng(int(hashlib.sha256(f"{seed}:{concept}".encode()).hexdigest()[:8], 16))
        pick = [tags[i] for i in sorted(rng.choice(len(tags), min(2, len(tags)), replace=False))]
        out.append(out[0] + ", " + ", ".join(pick))
    return out[:N_VARIANTS]


def iter_items(limit: int | None = None, npm_dir: str | None = None) -> list[Item]:
    """Icons of the studio corpus (backend.svg.corpus), or — with npm_dir, before the corpus exists — parsed
    straight from the npm packages (slower: svgelements per icon)."""
    rng = np.random.default_rng(0)
    items: list[Item] = []
    if npm_dir:
        srcs = list(iter_sources(Path(npm_dir)))
        if limit:
            srcs = [srcs[i] for i in sorted(rng.choice(len(srcs), min(limit, len(srcs)), replace=False))]
        for s in srcs:
            try:
                cs = svg_to_contours(s.path.read_text(encoding="utf-8"))
            except Exception:  # a malformed icon is skipped, not fatal
                continue
            items.append(Item(f"{s.set}/{s.variant}", s.concept, list(s.tags), cs))
        return [it for it in items if it.contours]

    corpus = load_corpus()
    idx: list[int] = list(range(len(corpus)))
    if limit:
        idx = sorted(int(i) for i in rng.choice(len(corpus), min(limit, len(corpus)), replace=False))
    for i in idx:
        ic = corpus[int(i)]
        cs = paths_to_contours(ic.paths)
        if cs:
            items.append(Item(ic.style, ic.concept, list(ic.tags or []) + list(ic.categories or [])[:1], cs))
    return items


def text_states(texts: list[str], batch: int = 256) -> list[np.ndarray]:
    """MiniLM last-layer token states (≤ TEXT_LEN real tokens per text) of the app's registry encoder.

    Same computation as MiniLMEmbedder.token_states, but batched by length with "longest" padding: captions
    are 3–8 tokens, so padding everything to 16 would triple the CPU time of this step.
    """
    tr = get_registry().get("minilm-l6").model[0]
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out: list[np.ndarray | None] = [None] * len(texts)
    with torch.inference_mode():
        for i in range(0, len(order), batch):
            idx = order[i:i + batch]
            feats = tr.tokenizer([texts[j] for j in idx], padding="longest", truncation=True, max_length=TEXT_LEN,
                                 return_tensors="pt")
            st = tr.auto_model(**feats).last_hidden_state.float().numpy()
            mask = feats["attention_mask"].numpy().astype(bool)
            for r, j in enumerate(idx):
                out[j] = st[r][mask[r]]
            if (i // batch) % 20 == 0:
                print(f"[dataset] text states {i + len(idx)}/{len(texts)}", flush=True)
    return out  # type: ignore[return-value]


def fit_text_basis(states: list[np.ndarray], dims: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    allt = np.concatenate(states)
    rng = np.random.default_rng(seed)
    if len(allt) > 50000:
        allt = allt[rng.choice(len(allt), 50000, replace=False)]
    mu = allt.mean(0)
    _, s, vt = np.linalg.svd(allt - mu, full_matrices=False)
    kept = float((s[:dims] ** 2).sum() / (s ** 2).sum())
    print(f"[dataset] text PCA {allt.shape[1]}->{dims} keeps {kept:.3f} of token-state variance")
    return mu.astype(np.float32), vt[:dims].T.astype(np.float32)


def build(out: Path, limit: int | None = None, seed: int = 0, text_dims: int = TEXT_DIMS,
          npm_dir: str | None = None, text_fn=None) -> dict:
    """`text_fn(texts) -> list[(n_tokens, 384) arrays]` replaces MiniLM (tests use a cheap fake)."""
    t0 = time.time()
    items = iter_items(limit, npm_dir)
    parsed = [it.contours for it in items]
    print(f"[dataset] {len(items)} icons with contours ({time.time() - t0:.0f}s)", flush=True)
    train_contours = [c for cs, it in zip(parsed, items, strict=False) if not is_heldout(it.concept, seed) for c in cs]
    codec = PathCodec.fit(train_contours, seed=seed)
    err = codec.explained(train_contours[:3000])
    print(f"[dataset] codec fitted on {len(train_contours)} contours; mean abs reconstruction error "
          f"{err * 24:.3f} px on a 24 grid", flush=True)
    styles = sorted({it.style for it in items})
    style_id = {s: i + 1 for i, s in enumerate(styles)}
    texts: list[str] = []
    text_id: dict[str, int] = {}
    icon_texts = np.full((len(items), N_VARIANTS), -1, np.int32)
    paths, off = [], [0]
    for i, (it, cs) in enumerate(zip(items, parsed, strict=False)):
        tok = codec.encode_icon(cs)
        n = int((tok[:, -1] > 0).sum())
        paths.append(tok[:n])
        off.append(off[-1] + n)
        for j, cap in enumerate(captions(it.concept, it.tags, seed)):
            if cap not in text_id:
                text_id[cap] = len(texts)
                texts.append(cap)
            icon_texts[i, j] = text_id[cap]
    print(f"[dataset] {len(texts)} unique captions; MiniLM token states ...", flush=True)
    states = (text_fn or text_states)(texts)
    mu, basis = fit_text_basis(states, text_dims, seed)
    proj = [((s - mu) @ basis).astype(np.float32) for s in states]
    allp = np.concatenate(proj)
    scale = np.maximum(np.abs(allp).max(1), 1e-6) / 127.0  # int8 per token vector: halves the file again
    q = np.clip(np.round(allp / scale[:, None]), -127, 127).astype(np.int8)
    toff = np.concatenate([[0], np.cumsum([len(p) for p in proj])]).astype(np.int32)
    split = np.array([1 if is_heldout(it.concept, seed) else 0 for it in items], np.uint8)
    meta: dict[str, Any] = {"k_slots": K_SLOTS, "n_features": N_FEATURES, "text_len": TEXT_LEN, "text_dims": text_dims,
            "seed": seed, "holdout": HOLDOUT, "n_icons": len(items), "n_texts": len(texts),
            "codec_err_px24": round(err * 24, 4), "text_encoder": "all-MiniLM-L6-v2 last_hidden_state",
            "built": time.strftime("%Y-%m-%d %H:%M:%S"), "build_s": round(time.time() - t0, 1)}
    out.parent.mkdir(parents=True, exist_ok=True)
    codec_arrays: dict[str, Any] = codec.to_arrays()
    np.savez_compressed(
        out, paths=np.concatenate(paths).astype(np.float16), icon_off=np.array(off, np.int32),
        icon_style=np.array([style_id[it.style] for it in items], np.int16),
        icon_texts=icon_texts, icon_split=split, text_tok=q, text_scale=scale.astype(np.float16), text_off=toff,
        style_names=np.array(["any"] + styles), concepts=np.array([it.concept for it in items]),
        texts=np.array(texts), textproj_mu=mu, textproj_basis=basis, meta_json=np.array(json.dumps(meta)),
        **codec_arrays)
    meta["bytes"] = out.stat().st_size
    print(f"[dataset] wrote {out} ({meta['bytes'] / 1e6:.1f} MB) in {time.time() - t0:.0f}s: "
          f"{len(items)} icons ({int(split.sum())} held-out), {len(styles)} styles", flush=True)
    return meta


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Build the path-diffusion training file from the icon corpus.")
    ap.add_argument("--out", default="static/svg/model/train_data.npz")
    ap.add_argument("--limit", type=int, default=0, help="random subset of icons (0 = all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--text-dims", type=int, default=TEXT_DIMS)
    ap.add_argument("--npm-dir", default=None, help="read the npm packages directly (before the corpus exists)")
    a = ap.parse_args(argv)
    build(Path(a.out), a.limit or None, a.seed, a.text_dims, a.npm_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
