"""Prompt augmentation (protocol v4): each prompt plus K seeded nuisance views, used as extra prompts by the
engine's own multi-prompt path; the views are deterministic, cached under a key naming K and the recipe, and
the committed validation selection follows the pre-registered rule."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from backend.anomaly import engines, service
from backend.anomaly.engine_base import PROMPT_CACHE, NVMemory, PromptViews, expand_views
from backend.anomaly.nuisance import PROMPT_AUG_RECIPE, PROMPT_AUG_SEED, prompt_views
from backend.anomaly.offline import prompt_aug as pa
from backend.anomaly.preprocess import letterbox
from backend.errors import UserError

torch.set_num_threads(1)
REPO = Path(__file__).resolve().parents[2]


def _scene(seed=0, size=256):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / size
    arr = np.stack([0.5 + 0.3 * np.sin(9 * x + 3 * y), 0.5 + 0.3 * np.cos(7 * y), 0.4 + 0.2 * x], -1)
    arr = arr + rng.normal(0, 0.02, arr.shape)
    return Image.fromarray((np.clip(arr, 0, 1) * 255).astype(np.uint8))


def test_views_are_deterministic_nuisance_of_the_prompt():
    arr = np.asarray(_scene())
    a, b = prompt_views(arr, 4), prompt_views(arr, 4)
    assert len(a) == 5 and all(x.shape == arr.shape and x.dtype == np.uint8 for x in a)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))  # same seed, same views
    assert np.array_equal(a[0], arr)                                      # the prompt itself first
    assert all(not np.array_equal(a[i], a[j]) for i in range(5) for j in range(i))  # K distinct views
    # nuisance, not a different image: every view stays close to the prompt
    assert all(np.abs(v.astype(float) - arr).mean() < 25 for v in a[1:])
    # the first K views of K+4 are the K views (view i depends on i alone)
    assert all(np.array_equal(x, y) for x, y in zip(a, prompt_views(arr, 8)[:5], strict=False))
    assert not np.array_equal(prompt_views(arr, 1, seed=PROMPT_AUG_SEED + 1)[1], a[1])
    assert prompt_views(arr, 0)[0] is not None and len(prompt_views(arr, 0)) == 1
    with pytest.raises(ValueError):
        prompt_views(arr, 99)


@pytest.mark.parametrize("role", ["metauas", "knn"])
def test_cache_key_names_k_and_the_recipe_and_views_are_computed_once(role, monkeypatch):
    base = engines.get(role, 256, prompt_aug=0)
    aug = engines.get(role, 256, prompt_aug=4)
    assert aug is engines.get(role, 256, prompt_aug=4), "the variant is reused (cache keys hold its id)"
    assert aug.prompt_aug == 4 and base.prompt_aug == 0
    assert base.memory_key("k", 256) != aug.memory_key("k", 256)
    key = aug.memory_key("k", 256)
    assert 4 in key and PROMPT_AUG_RECIPE in key and PROMPT_AUG_SEED in key
    calls = []
    orig = type(aug).prompt_features
    monkeypatch.setattr(type(aug), "prompt_features", lambda self, a: calls.append(1) or orig(self, a))
    img = _scene(3)
    PROMPT_CACHE.clear()
    aug.memory(img, 256, "prompt-a")
    aug.memory(img, 256, "prompt-a")
    assert len(calls) == 5, "prompt + 4 views, once"
    base.memory(img, 256, "prompt-a")
    assert len(calls) == 6, "K = 0 has its own entry (the prompt alone)"


def _plain_and_augmented(role: str):
    """The engine without and with 3 prompt views, a prompt, its letterboxed array and a letterboxed query."""
    prompt, query = _scene(1), _scene(2)
    arr, _ = letterbox(prompt, 256)
    q, _ = letterbox(query, 256)
    return engines.get(role, 256, prompt_aug=0), engines.get(role, 256, prompt_aug=3), prompt, arr, q


def _raw(mem):
    """The prompt memory without its normal-variation map (protocol v5's NVMemory wraps it when NV is on)."""
    return mem.mem if isinstance(mem, NVMemory) else mem


def test_metauas_uses_its_multi_prompt_path_with_the_views_as_prompts():
    plain, aug, prompt, arr, q = _plain_and_augmented("metauas")
    mem = _raw(aug.memory(prompt, 256, "mp-path"))
    assert isinstance(mem, PromptViews) and len(mem) == 4
    as_prompts = [plain.prompt_features(v) for v in prompt_views(arr, 3)]
    expected = plain.raw_map(q, as_prompts)  # the views given as 4 prompts: aligned mean, min distance, 1 decode
    assert np.allclose(aug.raw_map(q, [mem]), expected, atol=1e-6)
    assert not np.allclose(expected, plain.raw_map(q, [_raw(plain.memory(prompt, 256, "mp-path"))]), atol=1e-4)
    calls = []
    orig = aug.model.decoder.forward
    aug.model.decoder.forward = lambda *f: calls.append(1) or orig(*f)
    try:
        aug.raw_map(q, [mem])
    finally:
        del aug.model.decoder.forward
    assert calls == [1], "one decode for the prompt and its views"
    assert len(expand_views([mem, as_prompts[0]])) == 5
    # the inspector's similarity is the prompt's own (view 0), not a view's
    assert np.allclose(aug.global_from(mem), plain.global_from(as_prompts[0]))


def test_knn_pools_the_patches_of_all_views():
    plain, aug, prompt, arr, q = _plain_and_augmented("knn")
    bank = _raw(aug.memory(prompt, 256, "knn-path"))
    single = _raw(plain.memory(prompt, 256, "knn-path"))
    assert bank.shape[0] == 4 * single.shape[0]
    expected = plain.raw_map(q, [plain.prompt_features(v) for v in prompt_views(arr, 3)])
    assert np.allclose(aug.raw_map(q, [bank]), expected, atol=1e-6)
    # more normal patches can only lower a kNN distance
    assert (aug.raw_map(q, [bank]) <= plain.raw_map(q, [single]) + 1e-5).all()


def test_service_reports_the_views_and_refuses_a_bad_k():
    prompt, query = _scene(1), _scene(2)
    r = service.inspect([prompt], [query], engine="ensemble", prompt_aug=2)[0]
    assert r.prompt_aug == {"metauas": 2, "knn": 2}
    assert service.inspect([prompt], [query], engine="knn", prompt_aug=0)[0].prompt_aug == {"views": 0}
    with pytest.raises(UserError, match="Prompt augmentation"):
        service.inspect([prompt], [query], engine="knn", prompt_aug=-1)
    ens = engines.get("ensemble", 256, prompt_aug=2)
    assert engines.prompt_aug_of(ens) == {"metauas": 2, "knn": 2}


def test_selection_rule():
    def res(m, k):
        return {e: {str(x): {"mean": {"i_auroc": v[i]}} for i, x in enumerate(pa.KS)} for e, v in (("metauas", m),
                                                                                                      ("knn", k))}
    fast = {str(k): {"metauas_map_ratio": 0.9} for k in pa.KS}
    assert pa.choose(res([90, 90.4, 90.2], [0, 0, 0]), "metauas", fast) == 0       # gain < 0.5: K = 0 stays
    assert pa.choose(res([90, 90.5, 90.5], [0, 0, 0]), "metauas", fast) == 4       # exact tie: the smaller K
    assert pa.choose(res([90, 91, 92], [0, 0, 0]), "metauas", fast) == 8
    slow = {**fast, "8": {"metauas_map_ratio": 1.01}}
    assert pa.choose(res([90, 91, 92], [0, 0, 0]), "metauas", slow) == 4           # K = 8 not eligible
    assert pa.choose(res([0, 0, 0], [60, 59, 61]), "knn") == 8                      # kNN: no speed bar


def test_committed_validation_follows_the_preregistered_protocol():
    f = REPO / "static" / "anomaly" / "prompt_aug" / "validation.json"
    res = json.loads(f.read_text())
    proto = json.loads((REPO / "static" / "anomaly" / "protocol_v4.json").read_text())
    assert res["candidates_k"] == proto["candidates_in_order"] == list(pa.KS)
    assert set(res["classes"]) == {"chelsea", "coffee", "motorcycle"}
    assert res["recipe"]["seed"] == PROMPT_AUG_SEED and res["recipe"]["name"] == PROMPT_AUG_RECIPE
    assert res["chosen"]["metauas"] == pa.choose(res["results"], "metauas", res["speed"])
    assert res["chosen"]["knn"] == pa.choose(res["results"], "knn")
    # K = 0 reproduces the protocol-v3 validation figures of the shipped checkpoint (score max)
    v3 = json.loads((REPO / "static" / "anomaly" / "score_validation.json").read_text())
    shipped = v3["candidates"][v3["chosen_checkpoint"]]["per_class"]
    for cls, v in res["results"]["metauas"]["0"]["per_class"].items():
        assert abs(v["i_auroc"] - shipped[cls]["max"]) < 0.05, cls
    # the shipped defaults are the chosen K
    assert engines.get("metauas", 256).prompt_aug == res["chosen"]["metauas"]
    assert engines.get("knn", 256).prompt_aug == res["chosen"]["knn"]
    docs = (REPO / "docs" / "anomaly.md").read_text()
    assert pa.table(res) in docs, "docs table regenerated from the committed JSON"
