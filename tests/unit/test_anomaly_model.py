"""MetaUAS model: official b4 layout (param counts, key manifest), alignment variants, checkpoints."""
from __future__ import annotations

import pytest
import torch

from backend.anomaly.checkpoint import CheckpointError, load_metauas, save_lite0
from backend.anomaly.model import MetaUAS, count_params

torch.set_num_threads(1)


def official_b4_manifest() -> dict[str, tuple]:
    """Key → shape expected in metauas-256.ckpt, derived from the official code's configuration:
    smp efficientnet-b4 encoder (lukemelas EfficientNet without `_fc`), AlignmentModule × 3 on
    [448, 160, 56] with hidden [224, 80, 28], the fork's UnetDecoder (3 CoAM layers double the deepest
    channels; decoder [256,128,64,64,48]; scSE), and a 1×1 mask head."""
    from efficientnet_pytorch import EfficientNet

    keys = {f"encoder.{k}": tuple(v.shape) for k, v in EfficientNet.from_name("efficientnet-b4").state_dict().items()
            if not k.startswith("_fc.")}
    for i, (c, h) in enumerate(zip([448, 160, 56], [224, 80, 28], strict=False)):
        pre = f"alignment.{i}.alignment_layer.dimensionality_reduction"
        keys[f"{pre}.weight"], keys[f"{pre}.bias"] = (h, c, 1, 1), (h,)
    ins, skips, outs = [896, 256, 128, 64, 64], [320, 112, 32, 48, 0], [256, 128, 64, 64, 48]
    for j, (i, s, o) in enumerate(zip(ins, skips, outs, strict=False)):
        b = f"decoder.blocks.{j}"
        for conv, cin in (("conv1", i + s), ("conv2", o)):
            keys[f"{b}.{conv}.0.weight"] = (o, cin, 3, 3)
            for n in ("weight", "bias", "running_mean", "running_var"):
                keys[f"{b}.{conv}.1.{n}"] = (o,)
            keys[f"{b}.{conv}.1.num_batches_tracked"] = ()
        for att, c in (("attention1", i + s), ("attention2", o)):
            a = f"{b}.{att}.attention"
            keys.update({f"{a}.cSE.1.weight": (c // 16, c, 1, 1), f"{a}.cSE.1.bias": (c // 16,),
                         f"{a}.cSE.3.weight": (c, c // 16, 1, 1), f"{a}.cSE.3.bias": (c,),
                         f"{a}.sSE.0.weight": (1, c, 1, 1), f"{a}.sSE.0.bias": (1,)})
    keys["mask_head.weight"], keys["mask_head.bias"] = (1, 48, 1, 1), (1,)
    return keys


@pytest.fixture(scope="module")
def b4():
    return MetaUAS("efficientnet-b4").eval()


def test_b4_param_counts_match_paper(b4):
    total, learnable = count_params(b4)
    assert round(total / 1e6, 1) == 22.1 and round(learnable / 1e6, 1) == 4.6


def test_b4_keys_match_official_manifest(b4):
    got = {k: tuple(v.shape) for k, v in b4.state_dict().items()}
    assert got == official_b4_manifest()


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


def test_multi_prompt_is_mean_of_single_prompt_maps(lite0):
    q, p1, p2 = (torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(i)) for i in range(3))
    with torch.no_grad():
        both = lite0(q, [p1, p2])
        assert torch.allclose(both, (lite0(q, p1) + lite0(q, p2)) / 2, atol=1e-6)


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
