"""Engine sanity through the service: identical pair → ~0, pasted defect → found, odd inputs handled."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from backend.anomaly import engines, service
from backend.anomaly.metrics import auroc
from backend.anomaly.offline.textures import render, sample_params

torch.set_num_threads(1)
CKPT = Path(__file__).resolve().parents[2] / "static" / "anomaly" / "metauas_lite0.pt"
BRICK = Path(__import__("skimage").__file__).parent / "data" / "brick.png"  # scikit-image data, CC0


def _texture(seed=0, size=192):
    p = sample_params("checker", np.random.default_rng(5))
    return Image.fromarray((render(p, size, np.random.default_rng(seed)) * 255).astype(np.uint8))


def _paste_defect(img: Image.Image):
    arr = np.asarray(img).copy()
    mask = np.zeros(arr.shape[:2], bool)
    mask[60:90, 100:125] = True
    arr[mask] = (20, 200, 30)
    return Image.fromarray(arr), mask


ENGINES = ["knn", "metauas", "ensemble"]


@pytest.mark.parametrize("engine", ENGINES)
def test_identical_prompt_and_query_give_a_cold_map(engine):
    img = _texture()
    r = service.inspect([img], [img], engine=engine, size=192)[0]
    assert r.anomaly_map.shape == (192, 192) and r.anomaly_map.dtype == np.float32
    # The learned model keeps a flat floor (~0.11 for the shipped checkpoint: a sigmoid bias), so "cold" means a
    # low, flat map and a low image score rather than exact zeros.
    m = r.anomaly_map
    assert float(m.mean()) < 0.15 and r.score < 0.35
    assert float(np.percentile(m, 99) - np.percentile(m, 1)) < 0.15
    assert r.prompt_similarity == pytest.approx(1.0, abs=1e-4) and r.prompt_index == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_pasted_defect_is_localised(engine):
    prompt = _texture(seed=0)
    query, mask = _paste_defect(_texture(seed=1))
    good, bad = service.inspect([prompt], [_texture(seed=2), query], engine=engine, size=192)
    assert auroc(bad.anomaly_map, mask) > 0.9
    assert bad.score > good.score


def test_maps_come_back_at_query_size_for_odd_inputs():
    prompt = Image.open(BRICK)                                    # greyscale 512×512
    rgba = Image.open(BRICK).convert("RGBA").resize((300, 170))  # other size and aspect
    i16 = Image.fromarray(np.asarray(Image.open(BRICK).convert("L"), np.uint16) * 257).resize((90, 140))
    res = service.inspect([prompt], [rgba, i16], engine="knn", size=128)
    assert res[0].anomaly_map.shape == (170, 300) and res[1].anomaly_map.shape == (140, 90)
    assert all(np.isfinite(r.anomaly_map).all() and 0 <= r.anomaly_map.min() <= r.anomaly_map.max() <= 1 for r in res)


def test_tiled_mode_covers_the_whole_image():
    big = Image.open(BRICK).convert("RGB")
    r = service.inspect([big], [big], engine="knn", size=128, tiled=True)[0]
    assert r.anomaly_map.shape == (512, 512) and float(r.anomaly_map.max()) < 0.05


def test_retrieval_picks_the_most_similar_prompt():
    pool = [Image.open(BRICK).convert("RGB").resize((128, 128)), _texture(seed=3, size=128)]
    r = service.inspect(pool, [_texture(seed=4, size=128)], engine="knn", size=128, retrieval_k=1)[0]
    assert r.prompt_index == 1
    both = service.inspect(pool, [_texture(seed=4, size=128)], engine="knn", size=128)[0]
    assert both.prompt_index == -1


def test_bad_inputs_have_clear_messages():
    img = _texture(size=64)
    with pytest.raises(ValueError, match="at least 16 pixels"):
        service.inspect([img], [img.resize((10, 40))], engine="knn")
    with pytest.raises(ValueError, match="at least one normal"):
        service.inspect([], [img], engine="knn")
    with pytest.raises(ValueError, match="Unknown engine"):
        service.inspect([img], [img], engine="magic")
    with pytest.raises(ValueError, match="Input size"):
        service.inspect([img], [img], engine="knn", size=100)


def test_engines_listing_and_shipped_checkpoint():
    rows = {e["name"]: e for e in service.engines_available()}
    assert set(rows) == {"metauas", "knn", "ensemble"}
    assert rows["knn"]["available"] and rows["metauas"]["available"], rows
    assert rows["metauas"]["entry"] == "metauas-lite0" and rows["ensemble"]["entry"] == "anomaly-ensemble"
    assert CKPT.is_file() and CKPT.stat().st_size < 16 * 2**20


def test_engines_are_registry_plugins_found_by_role():
    """Every `anomaly` entry satisfies the protocol; the ensemble is composed of the role engines."""
    for role in engines.ROLES:
        eng = engines.get(role, 256)
        assert isinstance(eng, engines.AnomalyEngine), role
    ens = engines.get("ensemble", 256)
    assert set(ens.members) == {"metauas", "knn"} and ens.members["knn"] is engines.get("knn", 256)
    maps = {"metauas": np.full((4, 4), 0.2, np.float32), "knn": np.full((4, 4), 0.15, np.float32)}
    assert np.allclose(ens.fuse(maps), 0.5 * 0.2 + 0.5 * 0.15 / engines.KNN_CALIBRATION)
    with pytest.raises(ValueError, match="Unknown engine"):
        engines.entry_name("magic")


def test_progress_callback_and_prompt_cache():
    calls = []
    img = _texture(size=64)
    service.inspect([img], [img, img], engine="knn", size=128, progress=lambda f, d: calls.append(f))
    n = len(engines.PROMPT_CACHE)
    service.inspect([img], [img], engine="knn", size=128)
    assert len(engines.PROMPT_CACHE) == n and calls[-1] == 1.0 and calls[0] == 0.0


def test_one_prompt_metauas_skips_the_global_pass_and_keeps_the_map(monkeypatch):
    """With one prompt the similarity comes from the map's own encoder pass: no second (global) encoder
    run, the same map as the general path, and a similarity that still separates another product."""
    prompt, other = _texture(seed=0), Image.open(BRICK).convert("RGB")
    query, _ = _paste_defect(_texture(seed=1))
    general = service.inspect([prompt, prompt], [query, other], engine="metauas", size=192)
    monkeypatch.setattr(service, "global_features", lambda *a, **k: pytest.fail("global pass with one prompt"))
    fast = service.inspect([prompt], [query, other], engine="metauas", size=192)
    # 2 equal prompts = 1 (mean); the stride-8 distance searches one concatenated bank, so float blocking may
    # differ in the last bits (≤ 1e-9 measured)
    np.testing.assert_allclose(fast[0].anomaly_map, general[0].anomaly_map, rtol=0, atol=1e-6)
    assert fast[0].prompt_index == 0 and fast[0].prompt_similarity > 0.5
    assert fast[1].prompt_similarity < 0.5  # a different product stays flagged (MISMATCH)
    assert abs(fast[0].prompt_similarity - general[0].prompt_similarity) < 0.1


def test_lite_checkpoint_reads_the_similarity_off_its_stride_16_pass():
    """The shipped (Lite) checkpoint stops its encoder at stride 16; its one-prompt similarity runs Lite0's
    remaining blocks on those features and equals Lite0's own global feature, and it still localises a defect."""
    from backend.anomaly.metauas_engine import engine_from_checkpoint
    from backend.anomaly.preprocess import letterbox, normalise

    path = CKPT
    eng = engine_from_checkpoint(path)
    assert eng.shares_global and eng.model.encoder.taps[-1] == 10
    arr, _ = letterbox(_texture(seed=3), 192)
    x = torch.from_numpy(normalise(arr))[None]
    with torch.no_grad():
        ref = torch.nn.functional.normalize(eng.model.encoder.net.extract_features(x).mean(dim=(2, 3))[0], dim=0)
    np.testing.assert_allclose(eng.global_from(eng._feats(arr)), ref.numpy(), atol=1e-4)
    prompt, other = _texture(seed=0), Image.open(BRICK).convert("RGB")
    query, mask = _paste_defect(_texture(seed=1))
    res = service.inspect([prompt], [query, other], engine="metauas", size=192, checkpoint=str(path))
    assert auroc(res[0].anomaly_map, mask) > 0.9
    assert res[0].prompt_similarity > 0.5 > res[1].prompt_similarity
