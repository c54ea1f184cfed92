"""Random battle inputs from the bundled Point-Bench sample (PointArena layout under `static/bench/`).

`data.json` is a list of {image_filename, user_input, category, mask_filename, count?, ref_point?}; images are in
`images/`. The directory can be moved with ARENA_BENCH_DIR. A missing or broken bench is not an error for the
arena (uploads still work); `random_item` then says clearly what is missing.
"""
from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from backend.arena.vocab import CATEGORY_LABELS, normalise_category
from backend.config import setting
from backend.errors import UserError


@dataclass(frozen=True)
class SampleItem:
    image_path: Path
    image_filename: str
    instruction: str
    category: str
    ref_point: tuple[float, float] | None = None
    mask_path: Path | None = None  # with a mask, a battle on this image has a checkable answer (a gold item)

    @property
    def category_label(self) -> str:
        return CATEGORY_LABELS.get(self.category, self.category.title())


def bench_dir() -> Path:
    return setting("ARENA_BENCH_DIR")


_cache: dict[tuple[str, float], list[SampleItem]] = {}
_lock = threading.Lock()


def load_items(root: Path | None = None) -> list[SampleItem]:
    """Items whose image exists; cached per (directory, data.json mtime)."""
    root = root or bench_dir()
    data = root / "data.json"
    if not data.exists():
        return []
    key = (str(root), data.stat().st_mtime)
    with _lock:
        if key in _cache:
            return _cache[key]
    try:
        raw = json.loads(data.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        raw = []
    items = []
    for it in raw if isinstance(raw, list) else []:
        try:
            path = root / "images" / it["image_filename"]
            ref = it.get("ref_point")
            mask = _inside(root / "masks", it.get("mask_filename"))
            items.append(SampleItem(image_path=path, image_filename=it["image_filename"], mask_path=mask,
                                   instruction=str(it.get("user_input", "")).strip(),
                                   category=normalise_category(it.get("category")) or "spatial",
                                   ref_point=(float(ref[0]), float(ref[1])) if ref else None))
        except (KeyError, TypeError, ValueError, IndexError):
            continue
    items = [i for i in items if i.image_path.exists()]
    with _lock:
        _cache.clear()
        _cache[key] = items
    return items


def _inside(folder: Path, name) -> Path | None:
    """folder/name when it is a plain file inside folder (no absolute path, no '..'), else None."""
    if not name or not isinstance(name, str):
        return None
    try:
        p = (folder / name).resolve()
        return p if p.is_relative_to(folder.resolve()) and p.is_file() else None
    except (OSError, ValueError):
        return None


def gold_share() -> float:
    """ARENA_GOLD_SHARE: the share of random rounds drawn from items with a mask (gold items); unset = uniform."""
    v = setting("ARENA_GOLD_SHARE")
    return -1.0 if v is None else float(v)


def random_item(rng: np.random.Generator, root: Path | None = None) -> SampleItem:
    items = load_items(root)
    if not items:
        raise UserError(f"No bundled Point-Bench images were found in {root or bench_dir()} "
                         "(data.json + images/). Upload a photo instead.")
    share = gold_share()
    if share >= 0:
        gold = [i for i in items if i.mask_path is not None]
        plain = [i for i in items if i.mask_path is None]
        pick_gold = bool(gold) and (not plain or rng.random() < share)
        items = gold if pick_gold else plain
    return items[int(rng.integers(len(items)))]


def find_item(image_filename: str, root: Path | None = None) -> SampleItem | None:
    for it in load_items(root):
        if it.image_filename == image_filename:
            return it
    return None


# The arena's shipped examples: one bundled photo item per category, so a battle on an example is categorised (and
# checked against its mask) like the same item drawn at random. They used to be bare package photos, which every
# battle then filed under "Your upload".
EXAMPLE_FILES = ("photo_china_finial.jpg", "photo_coffee_handle.jpg", "photo_coins_top_row.jpg",
                 "photo_chelsea_other_eye.jpg", "photo_flower_bee.jpg")
_example_hashes: dict[tuple[str, int, float], str] = {}


def examples(root: Path | None = None) -> list[SampleItem]:
    by_name = {i.image_filename: i for i in load_items(root)}
    return [by_name[n] for n in EXAMPLE_FILES if n in by_name]


def _example_sha256(path: Path) -> str:
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime)
    with _lock:
        if key in _example_hashes:
            return _example_hashes[key]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with _lock:
        _example_hashes[key] = digest
    return digest


def match_example(path: str | Path | None, root: Path | None = None) -> SampleItem | None:
    """The shipped example whose file has exactly these bytes (clicking an example hands over a copy of its file);
    None for anything else. Sizes are compared first, so an upload is read only when it could be an example."""
    if not path:
        return None
    try:
        p = Path(path)
        size = p.stat().st_size
        cands = [i for i in examples(root) if i.image_path.stat().st_size == size]
        if not cands:
            return None
        digest = hashlib.sha256(p.read_bytes()).hexdigest()
        return next((i for i in cands if _example_sha256(i.image_path) == digest), None)
    except OSError:
        return None
