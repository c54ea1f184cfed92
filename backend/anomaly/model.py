"""MetaUAS (Gao, NeurIPS 2024) as a plain torch module, in the official `metauas.py` parameter layout.

Why rewritten rather than imported: the official code needs a forked segmentation_models_pytorch
(ragavsachdeva@0092ee4), pytorch-lightning, kornia and an ImageNet download. This module builds the
same *parameter layout* with only torch + efficientnet-pytorch. The layout is checked in
tests/unit/test_anomaly_official_layout.py against an independent construction with PyPI
`segmentation-models-pytorch` (0.5) patched as the fork (no attention in the skip-less last block,
doubled encoder channels), loading strictly; the official checkpoint files themselves were never
available here. Two bugs of the release are fixed: the multi-prompt branch uses an undefined list
(here: the aligned features of all prompts are averaged, then decoded once, the author's
"pre-fusion" proposal), and hard alignment reads an undefined variable.

Structure (official demo config: unet, depth 5/5, 3 alignment layers, soft alignment, cat fusion):
- frozen encoder → 6 feature maps [input, s2, s4, s8, s16, s32];
- on the 3 deepest levels an `AlignmentLayer`: one shared 1×1 conv makes Q (query) and K (prompt),
  softmax over prompt positions of Q·K (no scaling), values = raw prompt features; the aligned
  prompt is concatenated to the query features (channels double);
- smp-layout `UnetDecoder` [256,128,64,64,48] with scSE attention (only in blocks that have a
  skip, as the fork), nearest ×2 upsampling;
- 1×1 head → logits at input resolution (sigmoid gives the anomaly probability map).

Neither Lite0 network is the official layout (a Lite0 checkpoint stores its own config):
- the previous default ("unet3"): Lite0 to stride 32, the official soft alignment on the 3 deepest levels,
  `LITE0_DECODER` (3 UNet blocks ending at stride 4, no scSE, logits upsampled ×4);
- the Lite architecture (`decoder="lite"`, trained with `--arch lite`; the shipped default since the
  validation-split selection, docs/anomaly.md): Lite0 stopped at block 10 (stride 16, where the kNN engine stops too), `LITE_TAPS`;
  official soft alignment at s16 and, at s8, only the prompt-to-query distance (alignment type "dist": a
  1024×1024 softmax there costs as much as the rest of the decoder); `LiteDecoder` (`LITE_DECODER`: 1×1
  lateral + 3×3 at s16, one 3×3 block at s8, logits upsampled bilinearly ×8).
The encoder may be EfficientNet-Lite0 (the shipped model), Lite1 or Lite2 (backend/anomaly/encoders.py, `train --encoder`):
tapped at the same strides, with the alignment and decoder input widths read off the network.
Both use the "catdist" fusion: [query, aligned prompt, 1 − max cosine(query, prompt)], so the decoder sees the
distance explicitly, plus a 1×1 "prior" path from the distance maps to the logits, initialised as a kNN-style
detector (the decoder head starts at zero, a correction of the prior).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from backend.anomaly.encoders import (  # noqa: F401 - re-exported: older code and tests import them from here
    B4_STAGE_IDXS,
    LITE_BLOCK_CHANNELS,
    LITE_ENCODER_TAPS,
    LITE_VARIANTS,
    Lite0Features,
    LiteFeatures,
    build_b4_encoder,
)

DECODER_CHANNELS = (256, 128, 64, 64, 48)
ENCODER_CHANNELS = {
    "efficientnet-b4": (3, 48, 32, 56, 160, 448),
    "efficientnet-lite0": (3, 32, 24, 40, 112, 320),
    "efficientnet-lite1": (3, 32, 24, 40, 112, 320),   # Lite1 has Lite0's widths (more blocks per stage)
    "efficientnet-lite2": (3, 32, 24, 48, 120, 352),
}
LITE0_DECODER = (64, 32, 16)   # the previous default ("unet3"): 3 UNet blocks s32 → s4, no scSE, head ×4
LITE0_TAPS = (2, 4, 10, 15)  # block indices whose outputs are the s4, s8, s16, s32 features
LITE0_BLOCK_CHANNELS = LITE_BLOCK_CHANNELS["efficientnet-lite0"]
# The Lite architecture (train --arch lite; the shipped default): the encoder stops at stride 16 (block 10, where the kNN engine
# stops too); soft alignment at s16; at s8 only the kNN distance (1 − max cosine to the prompt) joins the
# query features (a 1024×1024 softmax there alone costs about as much as the whole rest of the decoder);
# a 1×1 lateral + 3×3 at s16, one 3×3 block at s8, logits upsampled bilinearly ×8.
LITE_TAPS = LITE_ENCODER_TAPS["efficientnet-lite0"]   # (2, 4, 10); Lite1/Lite2: (3, 6, 14), the same strides
LITE_ALIGNMENT = ("sa", "dist")   # deepest first: s16, s8
LITE_DECODER = (64, 32)   # width at s16, then one block s16 → s8


class Conv1x1(nn.Conv2d):
    """A 1×1 convolution (same parameters and state-dict keys as nn.Conv2d) computed as one matrix product:
    on one CPU thread PyTorch sends small 1×1 convolutions down its slow im2col path."""

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True):
        super().__init__(in_channels, out_channels, 1, bias=bias)

    def forward(self, x):
        b, c, h, w = x.shape
        y = torch.matmul(self.weight.view(self.out_channels, c), x.reshape(b, c, h * w))
        if self.bias is not None:
            y = y + self.bias.view(1, -1, 1)
        return y.view(b, self.out_channels, h, w)


# -- alignment ---------------------------------------------------------------------------------
class AlignmentLayer(nn.Module):
    def __init__(self, input_channels: int, hidden_channels: int, alignment_type: str = "sa"):
        super().__init__()
        if alignment_type not in ("sa", "ha", "na", "dist"):
            raise ValueError(f"alignment_type must be sa, ha, na or dist, got {alignment_type!r}")
        self.alignment_type = alignment_type
        if alignment_type in ("sa", "ha"):  # "dist": no aligned features, only the kNN distance (no weights)
            self.dimensionality_reduction = Conv1x1(input_channels, hidden_channels, bias=True)

    def attention(self, query, prompt):
        """(B, Hq*Wq, Hp*Wp) softmax over prompt positions."""
        q = self.dimensionality_reduction(query).flatten(2)    # B, C, Nq
        k = self.dimensionality_reduction(prompt).flatten(2)   # B, C, Np
        return torch.softmax(torch.bmm(q.transpose(1, 2), k), dim=-1)

    def forward(self, query, prompt):
        if self.alignment_type == "na":
            return prompt
        b, c, h, w = query.shape
        attn = self.attention(query, prompt)
        if self.alignment_type == "ha":  # hard alignment: each query position takes its best prompt position
            attn = F.one_hot(attn.argmax(dim=-1), attn.shape[-1]).to(prompt.dtype)
        v = prompt.flatten(2)                                  # B, C, Np
        return torch.bmm(v, attn.transpose(1, 2)).reshape(b, c, h, w)


def fused_channels(channels: int, fusion_policy: str, alignment_type: str = "sa") -> int:
    if alignment_type == "dist":
        return channels + 1
    return {"cat": 2 * channels, "catdist": 2 * channels + 1}.get(fusion_policy, channels)


def _unit(x):
    """(B, C, N) scaled to unit norm over C (written out: F.normalize over dim 1 is slow on this layout)."""
    return x * x.square().sum(1, keepdim=True).clamp_min(1e-24).rsqrt()


def min_cosine_distance(query, prompts) -> torch.Tensor:
    """(B, 1, H, W): 1 − max over all prompt positions of the cosine similarity (a kNN distance). Several
    prompts are one bank (their positions concatenated): one matrix product instead of one per prompt."""
    b, c, h, w = query.shape
    if not prompts:
        raise ValueError("at least one prompt is needed")
    q = _unit(query.flatten(2))                                                # B, C, Nq
    bank = prompts[0].flatten(2) if len(prompts) == 1 else torch.cat([p.flatten(2) for p in prompts], dim=2)
    best = torch.bmm(q.transpose(1, 2), _unit(bank)).amax(dim=-1)             # B, Nq
    return (1.0 - best).reshape(b, 1, h, w)


class AlignmentModule(nn.Module):
    def __init__(self, input_channels: int, hidden_channels: int, alignment_type: str = "sa",
                 fusion_policy: str = "cat"):
        super().__init__()
        if fusion_policy not in ("cat", "catdist", "add", "absdiff"):
            raise ValueError(f"unknown fusion policy {fusion_policy!r}")
        if alignment_type == "dist" and fusion_policy != "catdist":
            raise ValueError("alignment type dist needs the catdist fusion (its only output is the distance)")
        self.fusion_policy = fusion_policy
        self.alignment_layer = AlignmentLayer(input_channels, hidden_channels, alignment_type)

    def forward(self, query, prompt):
        """`prompt`: one feature map or a list (several prompts: aligned features are averaged)."""
        prompts = list(prompt) if isinstance(prompt, (list, tuple)) else [prompt]
        if self.alignment_layer.alignment_type == "dist":  # [query, 1 − max cosine to the prompts]
            return torch.cat([query, min_cosine_distance(query, prompts)], dim=1)
        aligned = torch.stack([self.alignment_layer(query, p) for p in prompts]).mean(0)
        if self.fusion_policy == "cat":
            return torch.cat([query, aligned], dim=1)
        if self.fusion_policy == "catdist":
            return torch.cat([query, aligned, min_cosine_distance(query, prompts)], dim=1)
        if self.fusion_policy == "add":
            return query + aligned
        return (query - aligned).abs()


# -- smp-layout UNet decoder -------------------------------------------------------------------
class SCSEModule(nn.Module):
    def __init__(self, in_channels: int, reduction: int = 16):
        super().__init__()
        self.cSE = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(in_channels, in_channels // reduction, 1),
                                 nn.ReLU(inplace=True), nn.Conv2d(in_channels // reduction, in_channels, 1),
                                 nn.Sigmoid())
        self.sSE = nn.Sequential(nn.Conv2d(in_channels, 1, 1), nn.Sigmoid())

    def forward(self, x):
        return x * self.cSE(x) + x * self.sSE(x)


class Attention(nn.Module):
    def __init__(self, name: str | None, in_channels: int):
        super().__init__()
        self.attention = SCSEModule(in_channels) if name == "scse" else nn.Identity()

    def forward(self, x):
        return self.attention(x)


def conv_bn_relu(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class DecoderBlock(nn.Module):
    def __init__(self, in_channels: int, skip_channels: int, out_channels: int, attention_type: str | None):
        super().__init__()
        attention_type = attention_type if skip_channels > 0 else None  # the fork's rule (unet/model.py:129)
        self.conv1 = conv_bn_relu(in_channels + skip_channels, out_channels)
        self.attention1 = Attention(attention_type, in_channels + skip_channels)
        self.conv2 = conv_bn_relu(out_channels, out_channels)
        self.attention2 = Attention(attention_type, out_channels)

    def forward(self, x, skip=None):
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        if skip is not None:
            x = self.attention1(torch.cat([x, skip], dim=1))
        return self.attention2(self.conv2(self.conv1(x)))


class UnetDecoder(nn.Module):
    """smp UnetDecoder as in the fork: the `num_coam_layers` deepest levels carry fused (wider) features.

    `encoder_channels` are the 6 levels [input, s2, s4, s8, s16, s32] as they reach the decoder
    (already widened by the fusion); one block per entry of `decoder_channels`, deepest first.
    """

    def __init__(self, encoder_channels, decoder_channels=DECODER_CHANNELS, attention_type="scse"):
        super().__init__()
        chans = list(encoder_channels)[1:][::-1]
        in_channels = [chans[0]] + list(decoder_channels[:-1])
        skip_channels = (list(chans[1:]) + [0] * len(decoder_channels))[:len(decoder_channels)]
        self.center = nn.Identity()
        self.blocks = nn.ModuleList(DecoderBlock(i, s, o, attention_type)
                                    for i, s, o in zip(in_channels, skip_channels, decoder_channels, strict=False))

    def forward(self, *features):
        feats = features[1:][::-1]
        x, skips = self.center(feats[0]), feats[1:]
        for i, block in enumerate(self.blocks):
            x = block(x, skips[i] if i < len(skips) else None)
        return x


class LiteDecoder(nn.Module):
    """The decoder of the Lite architecture: a 1×1 lateral and one 3×3 conv to `decoder_channels[0]`
    on the deepest fused level, then one block per further entry (nearest ×2 → concat skip → 3×3 conv, BN,
    ReLU): with the encoder's levels [input, s2, s4, s8, s16] and two entries it ends at stride 8. No scSE,
    and no work above the last block's stride (the logits are upsampled bilinearly)."""

    def __init__(self, encoder_channels, decoder_channels=LITE_DECODER):
        super().__init__()
        chans = list(encoder_channels)[1:][::-1]            # deepest first
        self.lateral = nn.Sequential(Conv1x1(chans[0], decoder_channels[0], bias=False),
                                     nn.BatchNorm2d(decoder_channels[0]), nn.ReLU(inplace=True),
                                     conv_bn_relu(decoder_channels[0], decoder_channels[0]))  # context at s16
        self.blocks = nn.ModuleList(conv_bn_relu(i + s, o) for i, s, o in zip(
            decoder_channels[:-1], chans[1:], decoder_channels[1:], strict=False))

    def forward(self, *features):
        feats = features[1:][::-1]
        x = self.lateral(feats[0])
        for block, skip in zip(self.blocks, feats[1:], strict=False):
            x = block(torch.cat([F.interpolate(x, scale_factor=2, mode="nearest"), skip], dim=1))
        return x


def _resize(x, size):
    return x if x.shape[-2:] == size else F.interpolate(x, size=size, mode="bilinear", align_corners=False)


# -- the model ---------------------------------------------------------------------------------
class MetaUAS(nn.Module):
    def __init__(self, encoder_name: str = "efficientnet-lite0", alignment_type: str = "sa",
                 fusion_policy: str = "cat", num_alignment_layers: int = 3, encoder: nn.Module | None = None,
                 pretrained: bool = True, decoder_channels=None, attention: str | None = "scse",
                 decoder: str = "unet", encoder_taps=None, alignment_types=None):
        """Defaults build the official layout (b4, or Lite0 with the same structure). `decoder="lite"`,
        `encoder_taps` (Lite0 block indices) and `alignment_types` (one per alignment layer, deepest first)
        build the smaller Lite architecture (LITE_*)."""
        super().__init__()
        if encoder_name not in ENCODER_CHANNELS:
            raise ValueError(f"encoder must be one of {sorted(ENCODER_CHANNELS)}, got {encoder_name!r}")
        if decoder not in ("unet", "lite"):
            raise ValueError(f"decoder must be unet or lite, got {decoder!r}")
        self.encoder_name = encoder_name
        chans = ENCODER_CHANNELS[encoder_name]
        taps = tuple(encoder_taps) if encoder_taps else None
        if taps is not None:
            blocks = LITE_BLOCK_CHANNELS.get(encoder_name, {})
            if not blocks or not set(taps) <= set(blocks):
                raise ValueError(f"encoder_taps must be {encoder_name} blocks among {sorted(blocks)}")
        if encoder is None:
            encoder = (build_b4_encoder() if encoder_name == "efficientnet-b4"
                       else LiteFeatures(pretrained=pretrained, taps=taps, variant=encoder_name))
        elif isinstance(encoder, LiteFeatures) and (encoder.variant != encoder_name
                                                     or (taps is not None and encoder.taps != taps)):
            if encoder.variant != encoder_name:
                raise ValueError(f"the encoder given is {encoder.variant}, not {encoder_name}")
            encoder = LiteFeatures(encoder.net, taps=taps, variant=encoder_name)  # same weights, other taps
        if isinstance(encoder, LiteFeatures):  # the widths of the levels the encoder returns, read off the network
            chans = encoder.channels
        types = list(alignment_types) if alignment_types else [alignment_type] * num_alignment_layers
        if len(types) != num_alignment_layers:
            raise ValueError("alignment_types needs one entry per alignment layer")
        self.encoder = encoder
        self.encoder.eval()
        for p in self.encoder.parameters():
            p.requires_grad_(False)
        self.alignment = nn.ModuleList(
            AlignmentModule(chans[-(i + 1)], chans[-(i + 1)] // 2, types[i], fusion_policy)
            for i in range(num_alignment_layers))
        fused = list(chans)
        for i in range(num_alignment_layers):
            fused[-(i + 1)] = fused_channels(chans[-(i + 1)], fusion_policy, types[i])
        if decoder == "lite":
            self.decoder_channels = tuple(decoder_channels or LITE_DECODER)
            self.decoder: nn.Module = LiteDecoder(fused, self.decoder_channels)
        else:
            self.decoder_channels = tuple(decoder_channels or DECODER_CHANNELS)
            self.decoder = UnetDecoder(fused, self.decoder_channels, attention)
        self.mask_head = Conv1x1(self.decoder_channels[-1], 1)
        if fusion_policy == "catdist":  # a direct path from the distance maps to the logits (starts as a kNN)
            self.prior = Conv1x1(num_alignment_layers, 1)
            with torch.no_grad():
                self.prior.weight.zero_()
                self.prior.weight[0, -1] = 12.0  # stride 8 (the last aligned level)
                if num_alignment_layers > 1:
                    self.prior.weight[0, -2] = 6.0  # stride 16
                assert self.prior.bias is not None and self.mask_head.bias is not None  # both Conv2d with bias
                nn.init.constant_(self.prior.bias, -5.0)
                self.mask_head.weight.zero_()  # the decoder starts as a zero correction of the prior
                nn.init.zeros_(self.mask_head.bias)
        self.config = {"alignment_type": alignment_type, "fusion_policy": fusion_policy,
                       "num_alignment_layers": num_alignment_layers, "decoder_channels": list(self.decoder_channels),
                       "attention": attention}
        if decoder == "lite" or taps is not None or alignment_types:  # older checkpoints keep their 5-key config
            self.config.update(decoder=decoder, encoder_taps=list(taps) if taps else None, alignment_types=types)

    def train(self, mode: bool = True):
        super().train(mode)
        self.encoder.eval()  # frozen, BN statistics included
        return self

    @torch.no_grad()
    def encode(self, x):
        """ImageNet-normalised (B, 3, H, W), H and W multiples of 32 → 6 feature maps."""
        if x.shape[-1] % 32 or x.shape[-2] % 32:
            raise ValueError(f"MetaUAS input sides must be multiples of 32, got {tuple(x.shape[-2:])}")
        return [f.detach() for f in self.encoder(x)]

    def decode(self, query_feats, prompt_feats):
        """Logits (B, 1, H, W) for the query given the features of one prompt, or a list of several
        (the aligned features of all prompts are averaged and decoded once)."""
        many = isinstance(prompt_feats, list) and prompt_feats and isinstance(prompt_feats[0], (list, tuple))
        prompt_list = prompt_feats if many else [prompt_feats]
        feats = list(query_feats)
        for i, align in enumerate(self.alignment):
            feats[-(i + 1)] = align(feats[-(i + 1)], [p[-(i + 1)] for p in prompt_list])
        size = query_feats[0].shape[-2:]
        logits = self.mask_head(self.decoder(*feats))
        lite = isinstance(self.decoder, LiteDecoder)
        if lite and hasattr(self, "prior"):  # the prior added at the decoder's resolution, then one upsampling
            at = logits.shape[-2:]
            dist = [_resize(feats[-(i + 1)][:, -1:], at) for i in range(len(self.alignment))]
            logits = logits + self.prior(torch.cat(dist, dim=1))
        if logits.shape[-2:] != size:  # a decoder that stops above full resolution
            logits = F.interpolate(logits, size=size, mode="bilinear", align_corners=False)
        if not lite and hasattr(self, "prior"):  # distance channels, deepest first in self.alignment order
            dist = [F.interpolate(feats[-(i + 1)][:, -1:], size=size, mode="bilinear", align_corners=False)
                    for i in range(len(self.alignment))]
            logits = logits + self.prior(torch.cat(dist, dim=1))
        return logits

    def forward(self, query, prompt):
        """Anomaly probabilities (B, 1, H, W); several prompts (a list): aligned features averaged, one decode."""
        q = self.encode(query)
        prompts = prompt if isinstance(prompt, (list, tuple)) else [prompt]
        return torch.sigmoid(self.decode(q, [self.encode(p) for p in prompts]))

    def learnable_state_dict(self) -> dict:
        """Everything except the frozen encoder (what a Lite0 checkpoint needs to store)."""
        return {k: v for k, v in self.state_dict().items() if not k.startswith("encoder.")}


def count_params(model: nn.Module) -> tuple[int, int]:
    total = sum(p.numel() for p in model.parameters())
    learnable = sum(p.numel() for n, p in model.named_parameters() if not n.startswith("encoder."))
    return total, learnable
