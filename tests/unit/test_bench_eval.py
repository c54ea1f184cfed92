"""Point-Bench evaluator: PointArena's rules, bad input, hand-checked scores on the sample bench, CLI."""
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from backend.arena import bench as B
from backend.arena.bench_cli import main as cli_main

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "static" / "bench"


def _mask(w=20, h=10, box=(5, 2, 10, 6)):
    m = np.zeros((h, w), dtype=bool)
    x0, y0, x1, y1 = box
    m[y0:y1, x0:x1] = True
    return m


def test_rules_single_point():
    m = _mask()
    assert B.score_points([[7, 3]], m, "spatial", None)[:2] == (True, "")
    assert B.score_points([[9.99, 5.99]], m, "spatial", None)[0]          # int() truncation: (9, 5) is inside
    assert B.score_points([[10.0, 3]], m, "spatial", None)[1] == "Points outside mask"
    assert B.score_points([], m, "spatial", None)[1] == "No points returned"
    assert B.score_points(None, m, "spatial", None)[1] == "No points returned"
    # only the first point counts outside counting
    assert B.score_points([[7, 3], [0, 0]], m, "reasoning", None)[0]
    assert not B.score_points([[0, 0], [7, 3]], m, "reasoning", None)[0]
    assert B.score_points([[20, 3]], m, "spatial", None)[1] == "Point outside image bounds"
    assert B.score_points([[-1.5, 3]], m, "spatial", None)[1] == "Point outside image bounds"
    assert B.score_points([[3, 10]], m, "spatial", None)[1] == "Point outside image bounds"
    assert B.score_points([[float("nan"), 3]], m, "spatial", None)[1] == "No points returned"


def test_rules_counting():
    m = _mask()
    assert B.score_points([[6, 3], [8, 4]], m, "counting", 2)[0]
    ok, reason, _ = B.score_points([[6, 3]], m, "counting", 2)
    assert not ok and reason == "Count mismatch: expected 2, got 1"
    assert B.score_points([[6, 3], [0, 0]], m, "counting", 2)[1] == "Points outside mask"


def _write_bench(root: Path, items, size=(40, 30), mask_size=None, mask_box=(10, 10, 20, 20), rgb_mask=False,
                 sub=None):
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(parents=True, exist_ok=True)
    for it in items:
        d = root / "images" / (sub or "")
        d.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", size, (90, 90, 90)).save(d / it["image_filename"])
        m = Image.new("RGB" if rgb_mask else "L", mask_size or size, 0)
        if mask_box:
            m.paste((0, 0, 200) if rgb_mask else 255, mask_box)
        m.save(root / "masks" / it["mask_filename"])
    (root / "data.json").write_text(json.dumps(items))


def _item(name, cat="spatial", **kw):
    return {"image_filename": f"{name}.png", "user_input": "Point to the box.", "category": cat,
            "mask_filename": f"{name}_mask.png", **kw}


def test_load_errors(tmp_path):
    with pytest.raises(B.BenchError, match="does not exist"):
        B.load_bench(tmp_path / "nope")
    with pytest.raises(B.BenchError, match="no data.json"):
        B.load_bench(tmp_path)
    _write_bench(tmp_path / "a", [_item("a")], mask_size=(41, 30))
    with pytest.raises(B.BenchError, match=r"a\.png: mask a_mask\.png \(41x30\) does not have the same size as its image"):
        B.load_bench(tmp_path / "a")
    _write_bench(tmp_path / "b", [_item("b")], mask_box=None)
    with pytest.raises(B.BenchError, match="b.png: mask b_mask.png is empty"):
        B.load_bench(tmp_path / "b")
    _write_bench(tmp_path / "c", [_item("c", count=2)])
    with pytest.raises(B.BenchError, match="has count=2 but is a 'spatial' item"):
        B.load_bench(tmp_path / "c")
    _write_bench(tmp_path / "d", [_item("d", "counting")])
    with pytest.raises(B.BenchError, match="counting item needs an integer count"):
        B.load_bench(tmp_path / "d")
    _write_bench(tmp_path / "e", [_item("e")])
    (tmp_path / "e" / "images" / "e.png").unlink()
    with pytest.raises(B.BenchError, match=r"item 0 \(e.png\): “e.png” is not a readable file inside the uploaded archive"):
        B.load_bench(tmp_path / "e")
    _write_bench(tmp_path / "f", [_item("f")])
    (tmp_path / "f" / "masks" / "f_mask.png").unlink()
    with pytest.raises(B.BenchError, match="“f_mask.png” is not a readable file inside the uploaded archive"):
        B.load_bench(tmp_path / "f")
    _write_bench(tmp_path / "g", [_item("g", "cooking")])
    with pytest.raises(B.BenchError, match="unknown category 'cooking'"):
        B.load_bench(tmp_path / "g")
    (tmp_path / "h").mkdir()
    (tmp_path / "h" / "data.json").write_text("{not json")
    with pytest.raises(B.BenchError, match="not valid JSON"):
        B.load_bench(tmp_path / "h")


def test_layouts_rgb_mask_category_subdir_and_pixmo(tmp_path):
    """The released bench keeps images in images/<category>/, RGB masks count any channel, and
    steerable reference points may come from pixmo_metadata.csv (percent coordinates)."""
    items = [_item("s1", "steerable")]
    _write_bench(tmp_path, items, rgb_mask=True, sub="steerable")
    (tmp_path / "pixmo_metadata.csv").write_text('image_filename,points\ns1.png,"[{""x"": 50, ""y"": 10}]"\n')
    bench = B.load_bench(tmp_path)
    it = bench.items[0]
    assert it.image_path.parent.name == "steerable" and it.ref_point == (20.0, 3.0)
    assert "existing original point at pixel coordinates: [20.0, 3.0]" in it.instruction
    assert B.load_mask(it).sum() == 100


def test_predictions_validation(tmp_path):
    with pytest.raises(B.BenchError, match="must be a JSON object"):
        B.parse_predictions([[1, 2]])
    with pytest.raises(B.BenchError, match="must be a list"):
        B.parse_predictions({"a.png": "1,2"})
    with pytest.raises(B.BenchError, match=r"each point must be \[x, y\]"):
        B.parse_predictions({"a.png": [[1, "2"]]})
    assert B.parse_predictions({"a.png": [{"point": [1, 2]}]}) == {"a.png": [[1.0, 2.0]]}
    bad = tmp_path / "p.json"
    bad.write_text("{oops")
    with pytest.raises(B.BenchError, match="not valid JSON"):
        B.load_predictions(bad)
    with pytest.raises(B.BenchError, match="not in the bench"):
        B.evaluate_predictions(SAMPLE, {"nope.png": [[1, 2]]})


# Points chosen from the hand-written geometry in backend/arena/offline/sample_photos.py (not from the masks).
HAND = {
    "photo_coffee_handle.jpg": [[224, 268]],                                         # affordable ✔
    "photo_coffee_drink.jpg": [[287, 145]],                                          # reasoning ✔
    "photo_astronaut_helmet.jpg": [[5, 5]],                                          # reasoning ✘ (outside)
    "photo_coins_top_row.jpg": [[44, 54], [100, 56], [155, 50], [215, 51], [274, 52], [333, 43]],  # counting ✔
    "photo_coins_left_column.jpg": [[44, 54], [44, 124], [43, 196]],                 # counting ✘ (3 of 4)
    "photo_chelsea_other_eye.jpg": [[320, 136], [0, 0]],                             # steerable ✔ (first kept)
    "photo_tower_top.jpg": [[214, 86]],                                              # spatial ✔
    "photo_rocket_body.jpg": [[640, 100]],                                           # spatial ✘ (out of bounds)
}


def test_hand_checked_scores_on_sample_bench(tmp_path):
    preds = tmp_path / "preds.json"
    preds.write_text(json.dumps(HAND))
    out = tmp_path / "res.json"
    assert cli_main(["evaluate", "--bench", str(SAMPLE), "--predictions", str(preds), "--out", str(out),
                     "--quiet"]) == 0
    res = json.loads(out.read_text())
    # 15 items per category; successes: affordable 1, spatial 1, counting 1, steerable 1, reasoning 1
    assert res["n"] == 75
    assert res["per_category"] == {"affordable": 6.67, "spatial": 6.67, "counting": 6.67, "steerable": 6.67,
                                   "reasoning": 6.67}
    assert res["average"] == 6.67 and res["success"] == 5
    by = {r["image_filename"]: r for r in res["items"]}
    assert by["photo_coins_left_column.jpg"]["reason"] == "Count mismatch: expected 4, got 3"
    assert by["photo_rocket_body.jpg"]["reason"] == "Point outside image bounds"
    assert by["photo_astronaut_helmet.jpg"]["reason"] == "Points outside mask"
    assert by["gen_spatial_00.png"]["reason"].startswith("Pointer error: no prediction")


def test_perfect_predictions_and_overlays(tmp_path):
    bench = B.load_bench(SAMPLE)
    preds = {}
    for it in bench.items:
        ys, xs = np.nonzero(B.load_mask(it))
        preds[it.image_filename] = [[float(xs[len(xs) // 2]), float(ys[len(ys) // 2])]] * (it.count or 1)
    res = B.evaluate_predictions(SAMPLE, preds, overlay_dir=tmp_path / "ov")
    assert res["average"] == 100.0 and all(v == 100.0 for v in res["per_category"].values())
    assert len(list((tmp_path / "ov").glob("*_overlay.png"))) == 75


def test_resume_skips_done_items(tmp_path):
    bench = B.load_bench(SAMPLE)
    out = tmp_path / "r.json"
    calls = []

    def first(item, img):
        calls.append(item.image_filename)
        if len(calls) > 12:
            raise KeyboardInterrupt  # simulate a killed run after 12 items (saved at 10)
        return {"points": [[1, 1]]}

    with pytest.raises(KeyboardInterrupt):
        B.evaluate(bench, first, "m", out=out)
    saved = json.loads(out.read_text())
    assert len(saved["items"]) == 10 and not saved["complete"]
    seen = []
    res = B.evaluate(bench, lambda it, img: seen.append(it.image_filename) or {"points": [[1, 1]]}, "m", out=out)
    assert len(seen) == 65 and res["n"] == 75 and res["complete"]
    assert seen[0] == bench.items[10].image_filename


def test_cli_errors(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    assert cli_main(["evaluate", "--bench", str(SAMPLE), "--predictions", str(bad), "--quiet"]) == 2
    assert "must be a JSON object" in capsys.readouterr().err
    assert cli_main(["evaluate", "--bench", str(tmp_path / "x"), "--predictions", str(bad), "--quiet"]) == 2
    assert cli_main(["evaluate", "--bench", str(SAMPLE), "--endpoint", "http://127.0.0.1:9/v1", "--quiet"]) == 2
