"""MetaUAS model: official b4 layout (param counts, key manifest), alignment variants, checkpoints."""
from __future__ import annotations

import pytest
import torch

from backend.anomaly.checkpoint import CheckpointError, load_metauas, save_lite0
from backend.anomaly.model import MetaUAS, count_params

torch.set_num_threads(1)


class SmpMetaUAS(torch.nn.Module):
    """An independent construction of the official MetaUAS-b4 layout from PyPI segmentation-models-pytorch
    (0.5), patched as the pinned fork ragavsachdeva/segmentation_models.pytorch@0092ee4 behaves: the
    CoAM levels have doubled encoder channels, and the last decoder block (no skip) has no attention.
    Nothing here is taken from backend.anomaly.model."""

    def __init__(self):
        super().__init__()
        from segmentation_models_pytorch.decoders.unet.decoder import UnetDecoder
        from segmentation_models_pytorch.encoders import get_encoder

        self.encoder = get_encoder("efficientnet-b4", in_channels=3, depth=5, weights=None)
        self.alignment = torch.nn.ModuleList()
        for c in (448, 160, 56):  # deepest first, hidden = c // 2, one shared 1×1 conv per level
            m = torch.nn.Module()
            m.alignment_layer = torch.nn.Module()
            m.alignment_layer.dimensionality_reduction = torch.nn.Conv2d(c, c // 2, 1)
            self.alignment.append(m)
        self.decoder = UnetDecoder(encoder_channels=[3, 48, 32, 112, 320, 896], decoder_channels=[256, 128, 64, 64, 48],
                                   n_blocks=5, attention_type="scse")
        self.decoder.blocks[4].attention1 = torch.nn.Identity()
        self.decoder.blocks[4].attention2 = torch.nn.Identity()
        self.mask_head = torch.nn.Conv2d(48, 1, 1)


@pytest.fixture(scope="module")
def smp_official():
    pytest.importorskip("segmentation_models_pytorch")
    torch.manual_seed(0)
    return SmpMetaUAS().eval()


@pytest.fixture(scope="module")
def b4():
    return MetaUAS("efficientnet-b4").eval()


def test_b4_param_counts_match_paper(b4):
    total, learnable = count_params(b4)
    assert round(total / 1e6, 1) == 22.1 and round(learnable / 1e6, 1) == 4.6


def test_official_layout_state_dict_loads_strictly(b4, smp_official, tmp_path):
    """820 keys (encoder 704, decoder 108, alignment 6, head 2) built by smp load with strict=True, through
    the same loader a user's metauas-256.ckpt goes through; the decoder then computes the same map."""
    sd = smp_official.state_dict()
    groups = {g: sum(k.startswith(g + ".") for k in sd) for g in ("encoder", "decoder", "alignment", "mask_head")}
    assert len(sd) == 820 and groups == {"encoder": 704, "decoder": 108, "alignment": 6, "mask_head": 2}
    assert not any(k.startswith("decoder.blocks.4.attention") for k in sd)
    torch.save(sd, tmp_path / "metauas-256.ckpt")
    model, _ = load_metauas(tmp_path / "metauas-256.ckpt")
    feats = [torch.randn(1, c, 64 // 2 ** i, 64 // 2 ** i) for i, c in enumerate([3, 48, 32, 112, 320, 896])]
    with torch.no_grad():
        assert torch.allclose(model.decoder(*feats), smp_official.decoder(feats), atol=1e-5)


def test_released_smp_layout_without_the_fork_patch_is_refused(tmp_path):
    """Unpatched released smp puts scSE into the skip-less last block: 12 keys the official files lack."""
    pytest.importorskip("segmentation_models_pytorch")
    from segmentation_models_pytorch.decoders.unet.decoder import UnetDecoder

    dec = UnetDecoder(encoder_channels=[3, 48, 32, 112, 320, 896], decoder_channels=[256, 128, 64, 64, 48], n_blocks=5,
                      attention_type="scse")
    sd = {**{k: v for k, v in MetaUAS("efficientnet-b4").state_dict().items() if not k.startswith("decoder.")},
          **{f"decoder.{k}": v for k, v in dec.state_dict().items()}}
    torch.save(sd, tmp_path / "unpatched.ckpt")
    with pytest.raises(CheckpointError, match="12 unexpected"):
        load_metauas(tmp_path / "unpatched.ckpt")


def test_b4_full_state_dict_roundtrip_strict(b4, tmp_path):
    path = tmp_path / "metauas-256.ckpt"
    torch.save({"state_dict": b4.state_dict()}, path)  # Lightning-style wrapper is accepted too
    model, _ = load_metauas(path)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(model(x, x), b4(x, x), atol=1e-6)


@pytest.fixture(scope="module")
def lite0():
    return MetaUAS("efficientnet-lite0").eval()


@pytest.mark.parametrize("align", ["sa", "ha", "na"])
def test_lite0_forward_shapes_and_alignment_variants(lite0, align):
    m = MetaUAS("efficientnet-lite0", alignment_type=align, encoder=lite0.encoder).eval()
    x = torch.randn(2, 3, 64, 96)
    with torch.no_grad():
        y = m(x, x)
    assert y.shape == (2, 1, 64, 96) and float(y.min()) >= 0 and float(y.max()) <= 1


def test_multi_prompt_averages_aligned_features_and_decodes_once(lite0):
    q, p1, p2 = (torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(i)) for i in range(3))
    calls = []
    hook = lite0.decoder.register_forward_hook(lambda *a: calls.append(1))
    with torch.no_grad():
        both = lite0(q, [p1, p2])
        assert len(calls) == 1  # one decode for two prompts
        fq, f1, f2 = lite0.encode(q), lite0.encode(p1), lite0.encode(p2)
        feats = list(fq)
        for i, align in enumerate(lite0.alignment):
            layer = align.alignment_layer
            aligned = (layer(fq[-(i + 1)], f1[-(i + 1)]) + layer(fq[-(i + 1)], f2[-(i + 1)])) / 2
            feats[-(i + 1)] = torch.cat([fq[-(i + 1)], aligned], 1)
        manual = torch.sigmoid(lite0.mask_head(lite0.decoder(*feats)))
    hook.remove()
    assert torch.allclose(both, manual, atol=1e-5)
    assert not torch.allclose(both, (lite0(q, p1) + lite0(q, p2)) / 2, atol=1e-4)  # not the mean of two maps


def test_encoder_stays_frozen_in_train_mode(lite0):
    lite0.train()
    assert not lite0.encoder.training and lite0.decoder.training
    assert all(not p.requires_grad for p in lite0.encoder.parameters())
    lite0.eval()


def test_sides_must_be_multiples_of_32(lite0):
    with pytest.raises(ValueError, match="multiples of 32"):
        lite0(torch.randn(1, 3, 50, 64), torch.randn(1, 3, 50, 64))


def test_lite0_checkpoint_roundtrip(lite0, tmp_path):
    path = save_lite0(lite0, tmp_path / "m.pt", {"step": 3})
    model, meta = load_metauas(path, lite0_net=lite0.encoder.net)
    assert meta["step"] == 3
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(model(x, x), lite0(x, x), atol=2e-2)  # fp16 storage


def test_corrupt_checkpoints_fail_clearly(lite0, tmp_path):
    bad = tmp_path / "garbage.pt"
    bad.write_bytes(b"\x00not a checkpoint" * 100)
    with pytest.raises(CheckpointError, match="corrupt or not a PyTorch checkpoint"):
        load_metauas(bad)
    good = save_lite0(lite0, tmp_path / "good.pt")
    trunc = tmp_path / "truncated.pt"
    trunc.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="truncated.pt"):
        load_metauas(trunc)
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty"):
        load_metauas(tmp_path / "empty.pt")
    with pytest.raises(CheckpointError, match="does not exist"):
        load_metauas(tmp_path / "missing.pt")


def test_wrong_or_nan_weights_are_rejected_before_loading(lite0, tmp_path):
    sd = {"decoder.blocks.0.conv1.0.weight": torch.zeros(3)}
    torch.save(sd, tmp_path / "wrong.ckpt")
    with pytest.raises(CheckpointError, match="missing keys"):
        load_metauas(tmp_path / "wrong.ckpt")
    path = save_lite0(lite0, tmp_path / "nan.pt")
    payload = torch.load(path, weights_only=True)
    payload["state_dict"]["mask_head.bias"] = torch.tensor([float("nan")], dtype=torch.float16)
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match="NaN"):
        load_metauas(path, lite0_net=lite0.encoder.net)


# -- the Lite architecture (--arch lite): encoder to stride 16, LiteDecoder (not the official layout) ------
def _lite(encoder=None):
    from backend.anomaly.model import LITE_ALIGNMENT, LITE_DECODER, LITE_TAPS
    return MetaUAS("efficientnet-lite0", fusion_policy="catdist", decoder="lite", encoder_taps=LITE_TAPS,
                   num_alignment_layers=len(LITE_ALIGNMENT), alignment_types=LITE_ALIGNMENT,
                   decoder_channels=LITE_DECODER, encoder=encoder).eval()


def test_lite_default_stops_at_stride_16_and_its_tail_gives_lite0s_stride_32_output(lite0):
    m = _lite(lite0.encoder)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        feats, full = m.encode(x), lite0.encode(x)
        assert [f.shape[1] for f in feats] == [3, 32, 24, 40, 112] and feats[-1].shape[-1] == 64 // 16
        assert torch.equal(feats[-1], full[-2])  # same weights, same block 10
        assert torch.allclose(m.encoder.tail(feats[-1]), full[-1], atol=1e-5)  # blocks 11-15 on top
        y = m(torch.randn(2, 3, 64, 96), torch.randn(2, 3, 64, 96))
    assert y.shape == (2, 1, 64, 96) and float(y.min()) >= 0 and float(y.max()) <= 1
    assert m.alignment[1].alignment_layer.alignment_type == "dist" and count_params(m)[1] < 200_000


def test_lite_default_multi_prompt_decodes_once_and_checkpoint_keeps_its_config(lite0, tmp_path):
    m = _lite(lite0.encoder)
    q, p1, p2 = (torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(i)) for i in range(3))
    calls = []
    hook = m.decoder.register_forward_hook(lambda *a: calls.append(1))
    with torch.no_grad():
        both = m(q, [p1, p2])
    hook.remove()
    assert len(calls) == 1
    with torch.no_grad():
        torch.nn.init.normal_(m.mask_head.weight)  # the head starts at zero: make the decoder count
        ref = m(q, p1)
    path = save_lite0(m, tmp_path / "lite.pt", {"step": 1})
    loaded, _ = load_metauas(path, lite0_net=lite0.encoder.net)
    assert loaded.config == m.config and loaded.config["decoder"] == "lite"
    with torch.no_grad():
        assert torch.allclose(loaded(q, p1), ref, atol=2e-2) and not torch.allclose(both, ref, atol=1e-3)


def test_distance_only_alignment_needs_catdist():
    with pytest.raises(ValueError, match="catdist"):
        MetaUAS("efficientnet-lite0", pretrained=False, alignment_types=["sa", "sa", "dist"], fusion_policy="cat")
