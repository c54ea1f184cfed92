"""Reading an MVTec-layout tree (real MVTec AD / VisA converted / our synthetic benchmark).

Layout: `<root>/<class>/train/good/*`, `<root>/<class>/test/good/*`, `<root>/<class>/test/<defect>/*`,
`<root>/<class>/ground_truth/<defect>/<stem>_mask.png`. As anomalib: label good→0, anything else→1;
a mask belongs to the image whose stem it starts with. Problems raise ValueError naming the folder
or file, because users point this at their own data.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from backend.errors import UserError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}


@dataclass(frozen=True)
class Sample:
    path: Path
    defect: str          # "good" or the defect folder name
    mask_path: Path | None

    @property
    def label(self) -> int:
        return 0 if self.defect == "good" else 1


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def list_classes(root: str | Path) -> list[str]:
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"The data folder {root} does not exist.")
    classes = sorted(d.name for d in root.iterdir() if (d / "train" / "good").is_dir() and (d / "test").is_dir())
    if not classes:
        raise UserError(f"{root} holds no class folder in MVTec layout (<class>/train/good and <class>/test).")
    return classes


def load_class(root: str | Path, cls: str) -> tuple[list[Path], list[Sample]]:
    """(normal train images, test samples with their masks)."""
    base = Path(root) / cls
    train = _images(base / "train" / "good")
    if not train:
        raise UserError(f"{base / 'train' / 'good'} is empty: at least one normal image is needed as a prompt.")
    test: list[Sample] = []
    for d in sorted(p for p in (base / "test").iterdir() if p.is_dir()):
        imgs = _images(d)
        if d.name == "good":
            test += [Sample(p, "good", None) for p in imgs]
            continue
        gt = base / "ground_truth" / d.name
        masks = _images(gt) if gt.is_dir() else []
        for p in imgs:
            match = [m for m in masks if m.stem.startswith(p.stem) and m.stem[len(p.stem):] in ("", "_mask")]
            if not match:
                raise UserError(f"No ground-truth mask for {p} (expected {gt / (p.stem + '_mask.png')}).")
            test.append(Sample(p, d.name, match[0]))
    if not test:
        raise UserError(f"{base / 'test'} holds no test images.")
    return train, test


def read_mask(sample: Sample, size: tuple[int, int]) -> np.ndarray:
    """Boolean (H, W) mask; all-false for good images. A mask of another size is an error naming the file."""
    w, h = size
    if sample.mask_path is None:
        return np.zeros((h, w), bool)
    with Image.open(sample.mask_path) as m:
        if m.size != (w, h):
            raise UserError(f"The mask {sample.mask_path.name} is {m.size[0]}×{m.size[1]} but its image "
                             f"{sample.path.name} is {w}×{h}.")
        return np.asarray(m.convert("L")) > 127
