"""Search indexes over the corpus, computed once and cached: text embeddings and a raster index.

Why precomputed and shipped: embedding ~20k icon texts with MiniLM or rendering 32k icons takes a minute or
two on 2 CPU cores; every app start and every test would pay it. Both indexes ship next to the corpus
(static/svg/text_index.npz, static/svg/raster_index.npz) and are keyed by a hash of what they were built
from; if the key does not match (corpus rebuilt, other encoder), they are recomputed once and cached under
DATA_DIR/cache/svg/.

- Text: each icon is embedded twice, by concept name and by "concept: tags, categories" (unique strings
  only). Score = max(cos(name), 0.9·cos(full text)) + 0.1 if the prompt's words equal the concept's.
- Raster: each icon rendered at 32 px after fitting its ink box to the frame, dilated by one pixel, packed to
  128 bytes. Similarity = IoU of those masks (popcount), a size- and padding-invariant copying check; the
  research note's duplicate threshold is IoU > 0.9.
"""
from __future__ import annotations

import hashlib
import re
import shutil
import threading
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.ndimage import binary_dilation

from backend.config import get_settings
from backend.registry import get_registry
from backend.svg.corpus import DEFAULT_ROOT, Corpus, load_corpus
from backend.svg.render import render_alpha

RASTER = 32
COPY_THRESHOLD = 0.9
_POP = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint16)
_lock = threading.Lock()
_text_cache: dict[str, TextIndex] = {}
_raster_cache: dict[str, RasterIndex] = {}


def _key(corpus: Corpus, what: str) -> str:
    h = hashlib.sha256(f"{what}|{corpus.built}|{len(corpus)}".encode())
    return h.hexdigest()[:16]


def _cache_paths(name: str) -> list[Path]:
    return [DEFAULT_ROOT / name, get_settings().data_dir / "cache" / "svg" / name]


def _load_npz(name: str, key: str) -> dict | None:
    for p in _cache_paths(name):
        if p.exists():
            with np.load(p, allow_pickle=False) as z:
                if str(z["key"]) == key:
                    return {k: z[k] for k in z.files}
    return None


def _save_npz(name: str, **arrays) -> Path:
    p = _cache_paths(name)[1]
    p.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(p, **arrays)
    return p


def norm_words(s: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", s.lower()))


class TextIndex:
    def __init__(self, corpus: Corpus, embedder, name_emb: np.ndarray, name_idx: np.ndarray,
                 full_emb: np.ndarray, full_idx: np.ndarray):
        self.corpus, self.embedder = corpus, embedder
        self.name_emb, self.name_idx = name_emb.astype(np.float32), name_idx
        self.full_emb, self.full_idx = full_emb.astype(np.float32), full_idx
        self.concept_words = np.array([norm_words(ic.concept) for ic in corpus.icons])

    def scores(self, prompt: str) -> np.ndarray:
        """Relevance of every corpus icon to `prompt` (higher is better, roughly cosine units)."""
        q = self.embedder.encode([prompt])[0].astype(np.float32)
        s_name = (self.name_emb @ q)[self.name_idx]
        s_full = (self.full_emb @ q)[self.full_idx]
        score = np.maximum(s_name, 0.9 * s_full)
        return score + 0.1 * (self.concept_words == norm_words(prompt))


def _unique(texts: list[str]) -> tuple[list[str], np.ndarray]:
    uniq: dict[str, int] = {}
    idx = np.array([uniq.setdefault(t, len(uniq)) for t in texts], dtype=np.int32)
    return list(uniq), idx


def text_index(corpus: Corpus | None = None, embedder=None) -> TextIndex:
    """The MiniLM text index (cached in memory; on disk keyed by corpus + encoder)."""
    corpus = corpus or load_corpus()
    if embedder is None:
        embedder = get_registry().get("minilm-l6")
    key = _key(corpus, f"text:{getattr(embedder, 'weights_source', type(embedder).__name__)}")
    with _lock:
        if key in _text_cache:
            return _text_cache[key]
        names, name_idx = _unique([ic.concept for ic in corpus.icons])
        fulls, full_idx = _unique([ic.text for ic in corpus.icons])
        z = _load_npz("text_index.npz", key)
        if z is None:  # int8 (x127) keeps cosine error < 1 % at a quarter of float32's size
            z = {"name_emb": np.round(embedder.encode(names, batch_size=128) * 127).astype(np.int8),
                 "full_emb": np.round(embedder.encode(fulls, batch_size=128) * 127).astype(np.int8)}
            _save_npz("text_index.npz", key=np.array(key), **z)
        idx = TextIndex(corpus, embedder, z["name_emb"] / 127.0, name_idx, z["full_emb"] / 127.0, full_idx)
        _text_cache[key] = idx
        return idx


# ------------------------------------------------------------------------------------------------ raster
def fit_mask(svg: str, size: int = RASTER) -> np.ndarray:
    """Ink mask of `svg` with its ink box scaled to fill the frame, dilated by one pixel (bool, size×size)."""
    big = render_alpha(svg, 128) > 0.5
    ys, xs = np.nonzero(big)
    if len(xs) == 0:
        return np.zeros((size, size), dtype=bool)
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    side = max(x1 - x0, y1 - y0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    box = (int(round(cx - side / 2)), int(round(cy - side / 2)), int(round(cx + side / 2)), int(round(cy + side / 2)))
    img = Image.fromarray((big * 255).astype(np.uint8)).crop(box).resize((size, size), Image.Resampling.BILINEAR)
    return binary_dilation(np.asarray(img) > 64)


class RasterIndex:
    def __init__(self, corpus: Corpus, packed: np.ndarray):
        self.corpus, self.packed = corpus, packed
        self.counts = _POP[packed].sum(1).astype(np.int32)

    def nearest(self, svg: str, k: int = 1, style: str | None = None) -> list[tuple[str, float]]:
        """The k most similar corpus icons as (icon id, IoU), optionally within one style."""
        q = np.packbits(fit_mask(svg).ravel())
        inter = _POP[np.bitwise_and(self.packed, q)].sum(1).astype(np.int32)
        union = self.counts + int(_POP[q].sum()) - inter
        iou = np.where(union > 0, inter / np.maximum(union, 1), 0.0)
        if style is not None:
            iou = np.where(np.array([ic.style == style for ic in self.corpus.icons]), iou, -1.0)
        top = np.argsort(-iou, kind="stable")[:k]
        return [(self.corpus.icons[i].id, float(iou[i])) for i in top]


def raster_index(corpus: Corpus | None = None) -> RasterIndex:
    corpus = corpus or load_corpus()
    key = _key(corpus, f"raster:{RASTER}")
    with _lock:
        if key in _raster_cache:
            return _raster_cache[key]
        z = _load_npz("raster_index.npz", key)
        if z is None:
            packed = np.stack([np.packbits(fit_mask(ic.svg).ravel()) for ic in corpus.icons])
            _save_npz("raster_index.npz", key=np.array(key), packed=packed)
            z = {"packed": packed}
        idx = RasterIndex(corpus, z["packed"])
        _raster_cache[key] = idx
        return idx


def build_indexes(out: Path = DEFAULT_ROOT) -> dict:
    """Compute both indexes and write them next to the corpus (used by `corpus index`)."""
    t = text_index()
    r = raster_index()
    for name in ("text_index.npz", "raster_index.npz"):
        src = _cache_paths(name)[1]
        if src.exists() and src.resolve() != (out / name).resolve():
            shutil.copyfile(src, out / name)
    return {"texts": int(len(t.full_emb) + len(t.name_emb)), "rasters": int(len(r.packed))}
