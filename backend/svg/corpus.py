"""The icon corpus: permissively licensed npm icon sets, normalised once, shipped under static/svg/.

Why a prepared corpus: the app (and CI) must run without npm or network, and every consumer (retrieval,
style cards, the learned generator) wants the same normalised geometry. `build` reads the npm packages,
sanitises each SVG, converts it to unit-box cubics (backend.svg.paths) and packs everything into two files:

    static/svg/corpus_meta.json.gz   icons (id, set, variant, concept, tags, categories), sets + licences
    static/svg/corpus_paths.npz      flat arrays: cubics (uint16-quantised unit box), subpath / path / icon
                                     offsets and per-path attributes

Public API (stable; the learned generator builds on it):

    load_corpus(root: Path | None = None) -> Corpus         # cached per root; ~1 s, no svgelements needed
    Corpus.icons: list[Icon];  len(corpus);  corpus[i];  corpus.by_id(id) -> Icon
    Corpus.styles() -> list[str]                           # "set/variant" labels, sorted
    Corpus.of_style(style) -> list[Icon]
    Corpus.sets: dict[set -> {"licence", "homepage", "attribution"}]
    Icon fields: id ("set/variant/name"), set, variant, style ("set/variant"), name, concept (words),
                 tags (list[str]), categories (list[str]), licence, source (homepage URL), grid (source viewBox)
    Icon.paths -> list[dict]  (see backend.svg.paths: "cubics" (n,4,2) float32 in [0,1] (± small overshoot),
                 "starts" int32 subpath offsets, "closed" list[bool] per subpath, "stroke", "fill",
                 "stroke_width" (unit-box units), "linecap", "linejoin", "fill_rule", "color", "opacity")
                 (cached per icon: treat as read-only, copy.deepcopy before editing)
    Icon.svg -> str           sanitised, normalised SVG (viewBox 0 0 24 24) regenerated from .paths
    Icon.text -> str          concept + tags + categories, the string retrieval embeds

Building it is build-time code (backend.svg.offline.corpus_build):
     python -m backend.svg.offline.cli corpus-build --npm-dir /work/npm-icons --out static/svg/
     python -m backend.svg.offline.cli corpus-index            # text + raster search indexes (backend.svg.index)
     python -m backend.svg.offline.cli corpus-stats [--root static/svg]
"""
from __future__ import annotations

import gzip
import json
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from backend.config import REPO_ROOT
from backend.errors import UserError
from backend.svg.paths import CAPS, JOINS, RULES, paths_to_svg

DEFAULT_ROOT = REPO_ROOT / "static" / "svg"
META_FILE, PATHS_FILE = "corpus_meta.json.gz", "corpus_paths.npz"
Q_LO, Q_HI = -0.5, 1.5  # quantisation range for coordinates (icons overshoot their box a little)
Q_SCALE = 65535.0 / (Q_HI - Q_LO)


class CorpusMissing(RuntimeError):
    """The prepared corpus is not where it should be; the message says how to build it."""


@dataclass
class Icon:
    id: str
    set: str
    variant: str
    name: str
    concept: str
    tags: list[str]
    categories: list[str]
    licence: str
    source: str
    grid: float
    _corpus: Corpus | None = field(repr=False, compare=False, default=None)
    _index: int = field(repr=False, compare=False, default=-1)

    @property
    def style(self) -> str:
        return f"{self.set}/{self.variant}"

    @property
    def text(self) -> str:
        extra = [t for t in self.tags + self.categories if t and t.lower() != self.concept.lower()]
        return self.concept + (": " + ", ".join(dict.fromkeys(extra)) if extra else "")

    @cached_property
    def paths(self) -> list[dict]:
        if self._corpus is None:
            raise RuntimeError("icon not attached to a loaded corpus")
        return self._corpus.icon_paths(self._index)

    @cached_property
    def svg(self) -> str:
        return paths_to_svg(self.paths, grid=24.0)


class Corpus:
    def __init__(self, meta: dict, arrays: dict[str, np.ndarray]):
        self.sets: dict[str, dict] = meta["sets"]
        self.colors: list[str] = meta["colors"]
        self.built: str = meta.get("built", "")
        self.a = arrays
        lic = {k: v["licence"] for k, v in self.sets.items()}
        src = {k: v["homepage"] for k, v in self.sets.items()}
        self.icons: list[Icon] = [
            Icon(id=f"{r[0]}/{r[1]}/{r[2]}", set=r[0], variant=r[1], name=r[2], concept=r[3], tags=r[4],
                 categories=r[5], licence=lic[r[0]], source=src[r[0]], grid=float(r[6]), _corpus=self, _index=i)
            for i, r in enumerate(meta["icons"])]
        self._by_id = {ic.id: ic for ic in self.icons}
        self._by_style: dict[str, list[Icon]] = {}
        for ic in self.icons:
            self._by_style.setdefault(ic.style, []).append(ic)

    def __len__(self) -> int:
        return len(self.icons)

    def __getitem__(self, i: int) -> Icon:
        return self.icons[i]

    def by_id(self, icon_id: str) -> Icon:
        try:
            return self._by_id[icon_id]
        except KeyError:
            raise KeyError(f"No icon {icon_id!r} in the corpus.") from None

    def styles(self) -> list[str]:
        return sorted(self._by_style)

    def of_style(self, style: str) -> list[Icon]:
        if style not in self._by_style:
            raise UserError(f"Unknown style {style!r}; installed styles: {', '.join(self.styles())}.")
        return self._by_style[style]

    def counts(self) -> dict[str, int]:
        return {s: len(v) for s, v in sorted(self._by_style.items())}

    def icon_paths(self, i: int) -> list[dict]:
        a = self.a
        out = []
        for p in range(a["icon_path"][i], a["icon_path"][i + 1]):
            s0, s1 = a["path_sub"][p], a["path_sub"][p + 1]
            c0, c1 = a["sub_start"][s0], a["sub_start"][s1]
            cub = a["cubics"][c0:c1].astype(np.float32) / Q_SCALE + Q_LO
            out.append({
                "cubics": cub.reshape(-1, 4, 2), "starts": (a["sub_start"][s0:s1] - c0).astype(np.int32),
                "closed": a["sub_closed"][s0:s1].astype(bool).tolist(),
                "stroke": bool(a["p_stroke"][p]), "fill": bool(a["p_fill"][p]),
                "stroke_width": float(a["p_sw"][p]), "linecap": CAPS[a["p_cap"][p]], "linejoin": JOINS[a["p_join"][p]],
                "fill_rule": RULES[a["p_rule"][p]], "color": self.colors[a["p_color"][p]],
                "opacity": float(a["p_opacity"][p]),
            })
        return out


# ---------------------------------------------------------------------------------------------- loading
_cache: dict[Path, Corpus] = {}
_lock = threading.Lock()


def load_corpus(root: Path | None = None) -> Corpus:
    """The prepared corpus (cached per root). Raises CorpusMissing with the build command if absent."""
    root = Path(root or DEFAULT_ROOT).resolve()
    with _lock:
        if root in _cache:
            return _cache[root]
        meta_p, paths_p = root / META_FILE, root / PATHS_FILE
        if not meta_p.exists() or not paths_p.exists():
            raise CorpusMissing(f"The icon corpus is missing under {root}. Build it with: "
                                "python -m backend.svg.offline.cli corpus-build --npm-dir DIR --out static/svg/")
        with gzip.open(meta_p, "rt", encoding="utf-8") as fh:
            meta = json.load(fh)
        with np.load(paths_p) as z:
            arrays = {k: z[k] for k in z.files}
        corpus = Corpus(meta, arrays)
        _cache[root] = corpus
        return corpus
