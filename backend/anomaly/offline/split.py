"""The committed photo split: which package photos may train MetaUAS, which choose a checkpoint, and which
are for evaluation only.

Three roles, pairwise disjoint:
- evaluation-only (issue 17): every image of the `gradio` and `matplotlib` packages and scikit-image's
  `cell.png`; the held-out benchmark is built from these and nothing else uses them;
- validation (`VALIDATION_PHOTOS`): three object photos (chelsea, coffee, motorcycle_left) and two donor photos
  for their foreign patches (coins, brick), taken OUT of the training list on 2026-11-29 so that checkpoint
  selection (offline/score_validation.py) scores photos no candidate trained on; never training pairs, never
  the held-out benchmark. `motorcycle_right.png` (the stereo twin of motorcycle_left) is in no list;
- training (`TRAIN_PHOTOS`): the remaining scikit-image and scikit-learn photos.
`python -m backend.anomaly.offline.cli split` writes static/anomaly/split.json; the trainer refuses any photo
that is evaluation-only or validation (`check_trainable`), and a test checks the three lists are disjoint.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

TRAIN_PHOTOS = {
    "skimage": ["data/astronaut.png", "data/rocket.jpg", "data/grass.png", "data/gravel.png", "data/camera.png", "data/moon.png", "data/page.png", "data/text.png", "data/hubble_deep_field.jpg",
                "data/retina.jpg", "data/logo.png", "data/color.png", "data/ihc.png", "data/clock_motion.png"],
    "sklearn": ["datasets/images/china.jpg", "datasets/images/flower.jpg"],
}
# checkpoint selection only: classes (one photo each) and the donors of their foreign patches
VALIDATION_CLASSES = {"chelsea": ("skimage", "data/chelsea.png"), "coffee": ("skimage", "data/coffee.png"),
                      "motorcycle": ("skimage", "data/motorcycle_left.png")}
VALIDATION_DONORS = [("skimage", "data/coins.png"), ("skimage", "data/brick.png")]
VALIDATION_PHOTOS = {"skimage": [r for _, r in VALIDATION_CLASSES.values()] + [r for _, r in VALIDATION_DONORS]}
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


def is_validation(path: Path) -> bool:
    path = Path(path).resolve()
    return any(path == p.resolve() for pkg, names in VALIDATION_PHOTOS.items() for p in _resolve(pkg, names))


def check_trainable(paths) -> None:
    """Raise if any path is evaluation-only or a validation photo (the split is enforced, not hoped)."""
    bad = [f"{p} (evaluation-only)" for p in paths if is_eval_only(p)]
    bad += [f"{p} (validation)" for p in paths if is_validation(p)]
    if bad:
        raise RuntimeError(f"photos reserved for validation/evaluation cannot train: {bad}")


def train_photos() -> list[Path]:
    """Training photos present here; raises if any is evaluation-only or validation."""
    out = [p for pkg, names in TRAIN_PHOTOS.items() for p in _resolve(pkg, names)]
    check_trainable(out)
    return out


def validation_photos() -> tuple[dict[str, Path], list[Path]]:
    """({class: photo}, donors) of the validation role; raises if one is missing or also in another role."""
    classes = {c: _resolve(pkg, [rel]) for c, (pkg, rel) in VALIDATION_CLASSES.items()}
    donors = [p for pkg, rel in VALIDATION_DONORS for p in _resolve(pkg, [rel])]
    missing = [c for c, v in classes.items() if not v]
    if missing or len(donors) != len(VALIDATION_DONORS):
        raise FileNotFoundError(f"validation photos not installed: {missing or VALIDATION_DONORS}")
    out = {c: v[0] for c, v in classes.items()}
    train = {p.resolve() for pkg, names in TRAIN_PHOTOS.items() for p in _resolve(pkg, names)}
    bad = [str(p) for p in list(out.values()) + donors if is_eval_only(p) or p.resolve() in train]
    if bad:
        raise RuntimeError(f"validation photos also in another role: {bad}")
    return out, donors


def eval_photo(name: str) -> Path:
    pkg, rel = EVAL_CLASSES[name]
    found = _resolve(pkg, [rel])
    if not found:
        raise FileNotFoundError(f"evaluation photo {pkg}:{rel} is not installed")
    return found[0]


def eval_donors() -> list[Path]:
    return [p for pkg, rel in EVAL_DONORS for p in _resolve(pkg, [rel])]


def split_dict() -> dict:
    return {"rule": "gradio and matplotlib images and skimage cell.png are evaluation-only; the validation photos "
                    "choose the shipped checkpoint and are never trained on nor used for the held-out benchmark; "
                    "training uses the listed skimage/sklearn photos only",
            "train": {pkg: names for pkg, names in TRAIN_PHOTOS.items()},
            "validation": {"classes": {k: f"{p}:{r}" for k, (p, r) in VALIDATION_CLASSES.items()},
                           "donors": [f"{p}:{r}" for p, r in VALIDATION_DONORS],
                           "since": "2026-11-29 (issue 17, anomaly4): chelsea, coffee, motorcycle_left, coins and "
                                    "brick moved out of training; checkpoints trained before then saw them"},
            "eval_only_packages": list(EVAL_ONLY_PACKAGES), "eval_only_files": EVAL_ONLY_FILES,
            "eval_classes": {k: f"{p}:{r}" for k, (p, r) in EVAL_CLASSES.items()},
            "eval_donors": [f"{p}:{r}" for p, r in EVAL_DONORS]}


def write_split(path: Path = SPLIT_FILE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(split_dict(), indent=1) + "\n")
    return path
