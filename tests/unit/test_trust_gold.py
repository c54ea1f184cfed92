"""Gold items end to end on a tiny bench directory: the mask decides the answer, ARENA_GOLD_SHARE steers the
random picker, and reliability weights change the ranking that a lying judge distorted."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image


@pytest.fixture
def bench(tmp_path, monkeypatch):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    items = []
    for i in range(4):
        Image.new("RGB", (40, 30), (i * 40, 90, 90)).save(tmp_path / "images" / f"im{i}.png")
        entry = {"image_filename": f"im{i}.png", "user_input": "Point to the box", "category": "spatial"}
        if i < 2:  # two gold items, two without a mask
            m = np.zeros((30, 40), np.uint8)
            m[5:15, 5:15] = 255
            Image.fromarray(m).save(tmp_path / "masks" / f"im{i}_mask.png")
            entry["mask_filename"] = f"im{i}_mask.png"
        items.append(entry)
    items.append({"image_filename": "im3.png", "user_input": "x", "category": "spatial",
                  "mask_filename": "../../etc/passwd"})  # a mask path outside the bench is ignored
    (tmp_path / "data.json").write_text(json.dumps(items))
    monkeypatch.setenv("ARENA_BENCH_DIR", str(tmp_path))
    return tmp_path


def test_gold_share_steers_the_random_picker(bench, monkeypatch):
    from backend.arena import bench_images

    items = bench_images.load_items()
    assert sum(i.mask_path is not None for i in items) == 2
    rng = np.random.default_rng(0)
    monkeypatch.setenv("ARENA_GOLD_SHARE", "1")
    assert all(bench_images.random_item(rng).mask_path is not None for _ in range(20))
    monkeypatch.setenv("ARENA_GOLD_SHARE", "0")
    assert all(bench_images.random_item(rng).mask_path is None for _ in range(20))
    monkeypatch.setenv("ARENA_GOLD_SHARE", "0.5")
    share = np.mean([bench_images.random_item(rng).mask_path is not None for _ in range(400)])
    assert 0.4 < share < 0.6


def test_gold_votes_and_weighted_ranking(bench):
    from backend.arena import scripted, trust_service

    inside, outside = {"px": [[8, 8]], "norm": [[0.2, 0.27]]}, {"px": [[35, 25]], "norm": [[0.87, 0.83]]}

    def vote(i, judge, good_side_a, winner):
        pa, pb = (inside, outside) if good_side_a else (outside, inside)
        return {"id": f"b{i}", "judge": judge, "winner": winner, "model_a": "good" if good_side_a else "bad",
                "model_b": "bad" if good_side_a else "good", "points_a": pa, "points_b": pb,
                "image_source": "bench:im0.png", "counted": True, "invalid": False, "excluded": False,
                "battle_tstamp": float(i)}

    votes = []
    for j in range(4):  # honest judges: the side in the mask wins
        for k in range(6):
            a_good = k % 2 == 0
            votes.append(vote(len(votes), f"h{j}", a_good, "model_a" if a_good else "model_b"))
    for k in range(40):  # a liar always picks the side outside the mask
        a_good = k % 2 == 0
        votes.append(vote(len(votes), "liar", a_good, "model_b" if a_good else "model_a"))
    votes.append({**vote(999, "h0", True, "model_a"), "image_source": "bench:im2.png"})  # no mask: not gold
    gold = trust_service.gold_votes(votes)
    assert len(gold) == len(votes) - 1 and {g["truth"] for g in gold} == {"model_a", "model_b"}
    rel = scripted.gold_reliability(gold)
    rows = {r["judge"]: r for r in rel["judges"]}
    assert rows["liar"]["flagged"] and rows["liar"]["weight"] == 0 and rows["h1"]["accuracy"] == 1
    table = trust_service._rankings(votes, rel["weights"], rel["default_weight"])
    plain = dict(zip(table["model"], table["rating"], strict=True))
    weighted = dict(zip(table["model"], table["rating (reliability-weighted)"], strict=True))
    assert plain["bad"] > plain["good"]  # the liar's 40 votes outweigh 24 honest ones
    assert weighted["good"] > weighted["bad"]  # weighting by gold reliability restores the truth
    # docs/arena.md quotes these figures of this scenario (audit14: it said 1044/956 and 1331/669 after they moved)
    assert (plain["bad"], plain["good"], weighted["good"], weighted["bad"]) == (1041, 959, 1333, 667)
    assert rel["crowd_accuracy"] == 0.375 and rows["h0"]["weight"] == pytest.approx(0.69, abs=0.005)
