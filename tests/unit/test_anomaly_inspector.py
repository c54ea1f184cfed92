"""Inspector post-processing, calibration and exports on hand-made maps (no engine involved)."""
import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from backend.anomaly import exports, visualize
from backend.anomaly import inspector as insp


def make_run(n=3, seed=0) -> insp.Run:
    rng = np.random.default_rng(seed)
    recs = []
    for i in range(n):
        amap = (rng.random((60, 80)) * 0.1).astype(np.float32)
        if i > 0:  # a defect of growing strength
            amap[10:20, 30:45] = 0.3 + 0.3 * i
        recs.append(insp.QueryRecord(name=f"q{i}.png", query=np.full((60, 80, 3), 120, np.uint8), amap=amap,
                                     scale=0.5, orig_size=(160, 120), score=float(amap.max()), prompt_index=0,
                                     prompt_similarity=0.9 if i != 2 else 0.2, engine="knn", ms=5.0,
                                     query_sha=f"sha{i}"))
    return insp.Run(prompts=[("p.png", np.zeros((60, 80, 3), np.uint8))], prompt_shas=["psha"], records=recs,
                    engine="knn", size=256, tiled=False, retrieval_k=None, skipped=[("x.txt", "not an image file")])


def test_regions_in_original_pixels():
    amap = np.zeros((50, 100), np.float32)
    amap[10:20, 30:50] = 0.8
    amap[40:42, 5:7] = 0.9   # tiny but strongest
    amap[45, 90] = 0.95      # single pixel: below min area
    regs = insp.find_regions(amap, 0.5, scale=0.5, min_area_px=4)
    assert [round(r.peak, 2) for r in regs] == [0.9, 0.8]  # strongest first, 1-px blob dropped
    big = regs[1]
    assert (big.x0, big.y0, big.x1, big.y1) == (60, 20, 99, 39)
    assert big.area_px == 200 * 4 and big.area_pct == pytest.approx(100 * 200 / 5000)
    assert insp.find_regions(amap, 0.99) == []


def test_verdict_and_mask_follow_thresholds():
    run = make_run()
    rows = insp.summary_rows(run, image_threshold=0.5, pixel_threshold=0.5)
    assert [r["verdict"] for r in rows] == ["OK", "NG", "MISMATCH"]  # a different product is never OK
    assert rows[0]["regions"] == 0 and rows[2]["regions"] == 1
    assert rows[2]["warning"].startswith("prompt and query look like different products")
    rows = insp.summary_rows(run, image_threshold=0.7, pixel_threshold=0.5)
    assert [r["verdict"] for r in rows] == ["OK", "OK", "MISMATCH"]


def test_colours_are_absolute_unless_normalised():
    low = np.full((8, 8), 0.05, np.float32)
    low[0, 0] = 0.1
    a = visualize.colorize(low)
    b = visualize.colorize(np.full((8, 8), 0.9, np.float32))
    assert not np.array_equal(a[0, 0], b[0, 0])  # a cold map looks cold
    n = visualize.colorize(low, normalise=True)
    assert np.array_equal(n[0, 0], visualize.colorize(np.ones((1, 1), np.float32))[0, 0])  # per-image max = hottest
    bar = visualize.colour_bar(200, 0, 1)
    assert bar.shape[0] == 200 and bar.shape[2] == 3
    assert visualize.heatmap_with_bar(low).shape == (8, 8 + 64, 3)


def test_calibration_from_normal_images_passes_them_all():
    rng = np.random.default_rng(1)
    maps = [rng.random((20, 20)).astype(np.float32) * 0.2 for _ in range(10)]
    scores = [float(m.max()) for m in maps]
    cal = insp.calibrate_from_normal(scores, maps)
    assert all(s < cal["image_threshold"] for s in scores)
    assert 0.19 < cal["pixel_threshold"] <= 0.2 + 1e-3
    assert "F1-optimal" in cal["warning"]
    with pytest.raises(ValueError, match="at least one"):
        insp.calibrate_from_normal([], [])


def test_f1_calibration_separates_classes():
    good = [0.1, 0.12, 0.2, 0.15]
    bad = [0.5, 0.6, 0.25]
    masks_maps = []
    for s in bad:
        m = np.full((10, 10), 0.05, np.float32)
        m[2:5, 2:5] = s
        g = np.zeros((10, 10), bool)
        g[2:5, 2:5] = True
        masks_maps.append((m, g))
    res = insp.calibrate_f1(good, bad, [np.full((10, 10), 0.05, np.float32)] * 4, [m for m, _ in masks_maps],
                            [g for _, g in masks_maps])
    assert res["image_threshold"] == pytest.approx(0.25) and res["image_f1"] == pytest.approx(1.0)
    assert 0.05 < res["pixel_threshold"] <= 0.25 and res["pixel_f1"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="both normal and defective"):
        insp.calibrate_f1([0.1, 0.2], [])


def test_parse_settings():
    assert insp.parse_resolution("tiled") == (256, True) and insp.parse_resolution(512) == (512, False)
    with pytest.raises(ValueError, match="Resolution"):
        insp.parse_resolution("1024")
    assert insp.parse_k(0) is None and insp.parse_k("3") == 3 and insp.parse_k(None) is None
    with pytest.raises(ValueError):
        insp.parse_k(-1)
    with pytest.raises(ValueError, match="no query number"):
        make_run().record(7)


def test_batch_zip_contents_match_thresholds():
    run = make_run()
    data = exports.batch_zip(run, 0.5, 0.5, vmax=0.5)
    zf = zipfile.ZipFile(io.BytesIO(data))
    names = set(zf.namelist())
    assert {"results.csv", "results.json", "colorbar.png", "q1/mask.png", "q2/overlay.png", "q0/heatmap.png",
            "q1/side_by_side.png", "q1/result.json"} <= names
    res = json.loads(zf.read("results.json"))
    assert res["settings"]["image_threshold"] == 0.5 and res["settings"]["prompts"][0]["sha256"] == "psha"
    assert res["settings"]["skipped"] == [{"file": "x.txt", "why": "not an image file"}]
    assert [r["verdict"] for r in res["results"]] == ["OK", "NG", "MISMATCH"]
    mask = np.asarray(Image.open(io.BytesIO(zf.read("q1/mask.png"))))
    assert mask.shape == (60, 80) and mask[15, 40] == 255 and mask[50, 5] == 0
    csv = zf.read("results.csv").decode()
    assert csv.splitlines()[0].startswith("file,score,verdict") and "q2.png" in csv


def test_mvtec_export_layout():
    img = Image.new("RGB", (40, 30), (50, 60, 70))
    m = np.zeros((30, 40), bool)
    m[5:10, 5:10] = True
    items = [{"product": "cap A", "defect_type": "scratch", "image": img, "mask": m, "prompts": [img]},
             {"product": "cap A", "defect_type": "scratch", "image": img, "mask": np.zeros((30, 40), bool)},
             {"product": "cap A", "defect_type": "scratch", "image": img, "mask": m}]
    zf = zipfile.ZipFile(io.BytesIO(exports.mvtec_zip(items)))
    names = set(zf.namelist())
    assert {"cap_A/test/scratch/000.png", "cap_A/ground_truth/scratch/000_mask.png", "cap_A/test/good/000.png",
            "cap_A/test/scratch/001.png", "cap_A/ground_truth/scratch/001_mask.png", "cap_A/train/good/000.png",
            "manifest.json"} == names
    gt = np.asarray(Image.open(io.BytesIO(zf.read("cap_A/ground_truth/scratch/000_mask.png"))))
    assert gt.shape == (30, 40) and gt[7, 7] == 255 and gt.sum() == 25 * 255


def test_metrics_table_rows():
    from backend.anomaly.zip_evaluation import metrics_rows

    res = {"per_class": {"a": {"i_auroc": 90.123, "p_ap": 50.0}, "b": {"i_auroc": 70.0, "p_ap": 30.0}},
           "mean": {"i_auroc": 80.06, "p_ap": 40.0}, "std_over_seeds": {"i_auroc": 1.5, "p_ap": 0.5},
           "prompt_seeds": [0, 1]}
    cols, rows = metrics_rows(res)
    assert cols == ["class", "i_auroc", "p_ap"]
    assert rows[0] == ["a", 90.12, 50.0] and rows[2] == ["mean", 80.06, 40.0] and rows[3][1] == 1.5


def test_layout_check_messages(tmp_path):
    from backend.anomaly.zip_evaluation import check_layout

    (tmp_path / "x" / "train" / "good").mkdir(parents=True)
    with pytest.raises(ValueError, match="x: no images in train/good"):
        check_layout(tmp_path)
    Image.new("RGB", (20, 20)).save(tmp_path / "x" / "train" / "good" / "0.png")
    with pytest.raises(ValueError, match="no images in test/"):
        check_layout(tmp_path)
    (tmp_path / "x" / "test" / "good").mkdir(parents=True)
    Image.new("RGB", (20, 20)).save(tmp_path / "x" / "test" / "good" / "0.png")
    assert check_layout(tmp_path) == ["x"]
    with pytest.raises(ValueError, match="zip the class folder itself"):
        check_layout(tmp_path / "x")


def test_prompt_calibration_margin_is_in_odds_space():
    """1.25× the odds: ≈ 1.25× for small scores (kNN's range), never 1 for a probability below 1 (a plain factor
    put the threshold of a Lite-checkpoint prompt whose nuisance views score 0.85 at 1.0: nothing could be NG)."""
    assert insp.above(0.2) == pytest.approx(0.2 * 1.25 / (0.8 + 0.25))
    assert abs(insp.above(0.02) - 0.025) < 2e-4
    vals = [insp.above(v) for v in np.linspace(0, 0.999, 50)]
    assert all(b > a for a, b in zip(vals, vals[1:], strict=False)) and max(vals) < 1.0
    assert insp.above(0.85) < 0.9 and insp.above(0.0) == 0.0 and insp.above(1.0) == 1.0
