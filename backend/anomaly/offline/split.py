"""The committed photo split: which package photos may train MetaUAS and which are for evaluation only.

Rule (issue 17): every image of the `gradio` and `matplotlib` packages and scikit-image's
`cell.png` are evaluation-only; training draws only from the other scikit-image and scikit-learn
photos. `python -m backend.anomaly.offline.cli split` writes static/anomaly/split.json; the trainer
refuses any photo that is in the evaluation list, and a test checks both lists are disjoint.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

TRAIN_PHOTOS = {
    "skimage": ["data/astronaut.png", "data/chelsea.png", "data/coffee.png", "data/coins.png", "data/rocket.jpg",
                "data/brick.png", "data/grass.png", "data/gravel.png", "data/motorcycle_left.png",
                "data/camera.png", "data/moon.png", "data/page.png", "data/text.png", "data/hubble_deep_field.jpg",
                "data/retina.jpg", "data/logo.png", "data/color.png", "data/ihc.png", "data/clock_motion.png"],
    "sklearn": ["datasets/images/china.jpg", "datasets/images/flower.jpg"],
}
EVAL_ONLY_PACKAGES = ("gradio", "matplotlib")
EVAL_ONLY_FILES = {"skimage": ["data/cell.png"]}
# held-out benchmark classes (one photo each) and the donor photos for its foreign patches
EVAL_CLASSES = {
    "groot": ("gradio", "media_assets/images/groot.jpeg"),
    "tower": ("gradio", "media_assets/images/tower.jpg"),
    "lion": ("gradio", "media_assets/images/lion.jpg"),
    "cheetah": ("gradio", "media_assets/images/cheetah.jpg"),
    "cell": ("skimage", "data/cell.png"),
}
EVAL_DONORS = [("gradio", "test_data/cheetah2.jpg"), ("gradio", "media_assets/images/hf-logo_transpng.png")]
SPLIT_FILE = Path(__file__).resolve().parents[3] / "static" / "anomaly" / "split.json"


def package_root(pkg: str) -> Path | None:
    spec = importlib.util.find_spec(pkg)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _resolve(pkg: str, names) -> list[Path]:
    root = package_root(pkg)
    return [] if root is None else [root / n for n in names if (root / n).is_file()]


def is_eval_only(path: Path) -> bool:
    path = Path(path).resolve()
    for pkg in EVAL_ONLY_PACKAGES:
        root = package_root(pkg)
        if root is not None and root.resolve() in path.parents:
            return True
    return any(path == p.resolve() for pkg, names in EVAL_ONLY_FILES.items() for p in _resolve(pkg, names))


def train_photos() -> list[Path]:
    """Training photos present here; raises if any is evaluation-only (the split is enforced, not hoped)."""
    out = [p for pkg, names in TRAIN_PHOTOS.items() for p in _resolve(pkg, names)]
    bad = [str(p) for p in out if is_eval_only(p)]
    if bad:
        raise RuntimeError(f"evaluation-only photos in the training list: {bad}")
    return out


def eval_photo(name: str) -> Path:
    pkg, rel = EVAL_CLASSES[name]
    found = _resolve(pkg, [rel])
    if not found:
        raise FileNotFoundError(f"evaluation photo {pkg}:{rel} is not installed")
    return found[0]


def eval_donors() -> list[Path]:
    return [p for pkg, rel in EVAL_DONORS for p in _resolve(pkg, [rel])]


def split_dict() -> dict:
    return {"rule": "gradio and matplotlib images and skimage cell.png are evaluation-only; training uses the "
                    "listed skimage/sklearn photos only",
            "train": {pkg: names for pkg, names in TRAIN_PHOTOS.items()},
            "eval_only_packages": list(EVAL_ONLY_PACKAGES), "eval_only_files": EVAL_ONLY_FILES,
            "eval_classes": {k: f"{p}:{r}" for k, (p, r) in EVAL_CLASSES.items()},
            "eval_donors": [f"{p}:{r}" for p, r in EVAL_DONORS]}


def write_split(path: Path = SPLIT_FILE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(split_dict(), indent=1) + "\n")
    return path
