"""Training-pair recipes (protocol v8): the default recipe reproduces the previous pairs exactly, kind weights and the
small-area bias do what they say, bad recipes are refused, and the v8 script/protocol/recipes agree."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import torch

from backend.anomaly.checkpoint import load_metauas
from backend.anomaly.offline import candidates_v6 as c6
from backend.anomaly.offline import candidates_v8 as c8
from backend.anomaly.offline import changes, pairs, train

# sha256 of the generator states after each of 24 make_group calls (12 procedural, 12 on three synthetic photos),
# computed with the code BEFORE recipes existed (main 8ba837c): any extra, missing or reordered random draw in the
# default recipe changes it. (Images were also compared byte for byte against that code on the real training
# photos, 60 groups; pixel hashes are not pinned here because float OpenCV paths may differ across CPUs.)
PRE_RECIPE_STATES = "5bede290bc1283d4a6095b0a96e2ba3a6b607645b059fa7e14edb07579e6b317"


def _photos():
    r = np.random.default_rng(123)
    return [(r.random((90, 120, 3)) * 0.3 + np.linspace(0, 0.7, 120)[None, :, None]).astype(np.float32)
            for _ in range(3)]


def _states(recipe=None):
    states = []
    for ph in (None, _photos()):
        for i in range(12):
            rng = np.random.default_rng([5, i])
            if recipe is None:
                pairs.make_group(rng, 64, ph, 4)
            else:
                pairs.make_group(rng, 64, ph, 4, recipe)
            states.append(rng.bit_generator.state["state"]["state"])
    return hashlib.sha256(repr(states).encode()).hexdigest()


def test_default_recipe_draws_exactly_what_the_previous_code_drew():
    assert pairs.DEFAULT_RECIPE.is_default
    assert _states() == PRE_RECIPE_STATES
    assert _states(pairs.Recipe()) == PRE_RECIPE_STATES
    assert _states(pairs.Recipe((2, 2, 2, 2), 0.0)) == PRE_RECIPE_STATES  # equal weights = the uniform draw
    assert _states(c8.RECIPES["A"]) != PRE_RECIPE_STATES


def _group_bytes(recipe):
    prompt, items = pairs.make_group(np.random.default_rng([9, 3]), 64, _photos(), 4, recipe)
    return prompt.tobytes() + b"".join(np.ascontiguousarray(a).tobytes() for it in items for a in it)


def test_default_and_uniform_recipes_give_identical_pairs_and_streams():
    assert _group_bytes(pairs.DEFAULT_RECIPE) == _group_bytes(pairs.Recipe((1, 1, 1, 1)))
    a = pairs.make_pair(np.random.default_rng([3, 1]), 64)
    b = pairs.make_pair(np.random.default_rng([3, 1]), 64, None, pairs.Recipe((0.5,) * 4, 0))
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    s1 = iter(pairs.PairStream(4, 64))
    s2 = iter(pairs.PairStream(4, 64, recipe=pairs.Recipe()))
    for _ in range(5):
        assert all(torch.equal(x, y) for x, y in zip(next(s1), next(s2), strict=True))


def test_kind_weights_are_respected():
    n = 8000
    for w in ((0.1, 0.35, 0.45, 0.1), (0.0, 0.0, 1.0, 0.0), (3, 1, 0, 0)):
        rec = pairs.Recipe(w)
        rng = np.random.default_rng(0)
        kinds = [rec.draw_kind(rng) for _ in range(n)]
        p = np.array(w, float) / sum(w)
        for k, pk in zip(changes.TRAIN_CHANGES, p, strict=True):
            got = kinds.count(k) / n
            assert abs(got - pk) <= 4 * np.sqrt(pk * (1 - pk) / n) + 1e-9, (w, k, got, pk)
    rng = np.random.default_rng(1)
    only = pairs.Recipe((0, 0, 1, 0))
    scenes = [pairs._scene(rng, 80, None) for _ in range(6)]
    drawn = {pairs.draw_change(s, rng, None, only)[2] for s in scenes}
    assert drawn <= {"remove", None} and "remove" in drawn


def test_small_area_bias_draws_small_regions_and_costs_no_draw_when_off():
    rng = np.random.default_rng(7)
    before = rng.bit_generator.state
    assert pairs.Recipe(p_small=0.0).draw_region(96, rng) is None
    assert rng.bit_generator.state == before  # p_small 0 makes no random draw
    always = pairs.Recipe(p_small=1.0)
    areas = [float(always.draw_region(96, rng).mean()) for _ in range(200)]
    lo, hi = pairs.SMALL_AREA
    assert lo * 0.4 < np.median(areas) < hi * 1.5 and max(areas) < 3 * hi
    default_areas = [float(changes.blob(96, rng).mean()) for _ in range(200)]
    assert np.median(areas) < 0.5 * np.median(default_areas)
    half = pairs.Recipe(p_small=0.5)
    hits = sum(half.draw_region(96, rng) is not None for _ in range(2000))
    assert abs(hits / 2000 - 0.5) < 4 * np.sqrt(0.25 / 2000)
    img = np.full((96, 96, 3), 0.5, np.float32)
    alpha = always.draw_region(96, rng)
    _, used = changes.apply("recolour", img, rng, None, alpha)
    assert used is alpha
    with pytest.raises(ValueError, match="scratch"):
        changes.apply("scratch", img, rng, None, alpha)


@pytest.mark.parametrize("weights", [(1, 1, 1), (1, 1, 1, 1, 1), (-0.1, 0.5, 0.5, 0.1), (0, 0, 0, 0),
                                     (float("nan"), 1, 1, 1), (float("inf"), 1, 1, 1)])
def test_bad_kind_weights_are_refused(weights):
    with pytest.raises(ValueError):
        pairs.Recipe(weights)


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_bad_small_area_probability_is_refused(p):
    with pytest.raises(ValueError):
        pairs.Recipe(None, p)


@pytest.mark.parametrize("text", ["paste=1,recolour=1,remove=1", "paste=1,recolour=1,remove=1,duplicate=1,smudge=1",
                                  "paste=1,paste=1,remove=1,duplicate=1", "paste:1,recolour=1,remove=1,duplicate=1",
                                  "paste=x,recolour=1,remove=1,duplicate=1"])
def test_bad_change_weight_text_is_refused(text):
    with pytest.raises(ValueError):
        pairs.parse_kind_weights(text)
    with pytest.raises(SystemExit):
        train.parse_args(["--steps", "1", "--change-weights", text])


def test_trainer_parses_recipes_and_refuses_bad_ones():
    a = train.parse_args(["--steps", "1"])
    assert a.recipe == pairs.DEFAULT_RECIPE
    a = train.parse_args(["--steps", "1", "--change-weights", "duplicate=1,remove=9,recolour=0,paste=0",
                          "--small-area", "0.25"])
    assert a.recipe.kind_weights == (0.0, 0.0, 0.9, 0.1) and a.recipe.p_small == 0.25
    for bad in (["--change-weights", "paste=-1,recolour=1,remove=1,duplicate=1"], ["--small-area", "2"]):
        with pytest.raises(SystemExit):
            train.parse_args(["--steps", "1", *bad])


@pytest.mark.timeout(240)
def test_train_records_the_recipe(tmp_path):
    args = ["--out", str(tmp_path), "--steps", "1", "--batch", "2", "--size", "64", "--val-pairs", "4",
            "--change-weights", c8.WEIGHTS_A, "--small-area", "0.5"]
    assert train.main(args) == 0
    _, meta = load_metauas(tmp_path / "metauas_lite0.pt")
    assert meta["recipe"] == c8.RECIPES["B"].describe()
    assert meta["recipe"]["kind_weights"]["remove"] == 0.45 and meta["recipe"]["p_small"] == 0.5
    assert "pair recipe:" in (tmp_path / "train_log.txt").read_text()


# -- protocol v8: script, recipes, controls and pre-registration agree --------------------------------------------
PROTOCOL = json.loads(c8.PROTOCOL.read_text())


def test_v8_script_runs_the_registered_grid_with_the_controls_arguments():
    script = c8.SCRIPT.read_text()
    assert f'A="{c8.WEIGHTS_A}"' in script and '--change-weights "$A" --small-area "$3"' in script
    for r, p in (("A", 0), ("B", 0.5)):
        assert c8.RECIPES[r].p_small == p
        for s in c8.SEEDS:
            assert f'"{r} {s} {p}"' in script
    assert c8.CANDIDATES == ("A_s21", "A_s22", "A_s23", "B_s21", "B_s22", "B_s23")
    assert PROTOCOL["candidates"]["grid"].endswith(", ".join(c8.CANDIDATES))
    assert "MIN=${MINUTES:-6.5}" in script and "WORKERS=${WORKERS:-2}" in script
    v6 = json.loads(c6.OUT.read_text())["candidates"]
    for ctl in c8.CONTROLS:  # the controls ran the same arguments (but the recipe) in protocol v6
        cmd = v6[ctl]["training"]["command"]
        assert "--minutes 6.5" in cmd and "--img-weight 0.5" in cmd and "--workers 2" in cmd
        for arg in ("--arch lite", "--size 192", "--batch 32", "--lr 2e-3", "--extra-photos", "--val-pairs 64",
                    "--val-every-min 2", "--save-every-min 2", "--threads 1", "--fresh", "--device cuda"):
            assert arg in cmd and arg.split()[0] in script
        assert "--change-weights" not in cmd and (c6.FOLDER / ctl / "metauas_lite0.pt").is_file()


def test_v8_preregistration_states_the_rule_and_the_pair_statistics_match_the_recipes():
    rule = PROTOCOL["selection_rule"]
    assert "+ 1.0" in rule["1_recipe_gain"] and "S's + 1.0" in rule["3_recipe_pick"]
    assert "86.39" in PROTOCOL["if_a_recipe_passes"]["becomes_default_only_if"]
    assert "50.10" in PROTOCOL["if_a_recipe_passes"]["becomes_default_only_if"]
    assert c8.WEIGHTS_A in PROTOCOL["recipes"]["A"]
    stats = json.loads(c8.PAIR_STATS.read_text())["recipes"]
    assert stats["default"]["recipe"] == pairs.DEFAULT_RECIPE.describe()
    for r, rec in c8.RECIPES.items():
        assert stats[r]["recipe"] == rec.describe()
    assert stats["A"]["share"]["remove"] > 1.5 * stats["default"]["share"]["remove"]
    assert stats["B"]["share_area_lt_0.5pct"] > 2 * stats["default"]["share_area_lt_0.5pct"]
