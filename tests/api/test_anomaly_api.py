"""Anomaly Inspector through gradio_client against the launched app (kNN engine: real Lite0 weights)."""
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from gradio_client import handle_file
from PIL import Image
from skimage import data as skdata

pytestmark = pytest.mark.api
SETTINGS = dict(engine="knn", resolution="256", top_k=0, image_thr=0.2, pixel_thr=0.15, normalise=False, vmax=0.5)


def _brick(x, y, size=192, defect=False) -> Image.Image:
    """Crops of scikit-image's real brick-wall photo (BSD-3); a defect is a painted red block."""
    g = skdata.brick()[y:y + size, x:x + size]
    arr = np.stack([g] * 3, -1).copy()
    if defect:
        arr[70:100, 80:120] = (230, 30, 30)
    return Image.fromarray(arr)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    d = tmp_path_factory.mktemp("anomaly-api")
    files = {"prompt.png": _brick(0, 0), "good.png": _brick(120, 100), "bad.png": _brick(200, 40, defect=True),
             "bad2.png": _brick(60, 250, defect=True)}
    for n, im in files.items():
        im.save(d / n)
    (d / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.write(d / "good.png", "batch/zgood.png")
        zf.write(d / "bad.png", "batch/zbad.png")
        zf.writestr("batch/readme.txt", "hello")
    (d / "batch.zip").write_bytes(buf.getvalue())
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as zf:
        zf.write(d / "good.png", "../../escape.png")
    (d / "evil.zip").write_bytes(evil.getvalue())
    return d


def _call(client, api, *args, **kw):
    return client.predict(*args, api_name=api, **kw)


def test_inspect_one_scores_a_defect_above_a_good_part(new_client, images):
    c = new_client()
    out_bad = _call(c, "/inspect_one", [handle_file(images / "prompt.png")], [handle_file(images / "bad.png")],
                    *SETTINGS.values())
    overlay, heat, mask, info = out_bad
    assert info["verdict"] == "NG" and info["engine"] == "knn" and info["file"] == "bad.png"
    assert info["regions"] and info["regions"][0]["peak"] >= SETTINGS["pixel_thr"]
    x0, y0, x1, y1 = info["regions"][0]["box"]
    assert x0 <= 100 <= x1 and y0 <= 85 <= y1  # the box covers the painted block
    m = np.asarray(Image.open(mask))
    assert m.shape == (192, 192) and m[85, 100] == 255 and m[5, 5] == 0
    assert Image.open(overlay).size == (192, 192) and Image.open(heat).size[0] > 192  # colour bar attached
    good = _call(c, "/inspect_one", [handle_file(images / "prompt.png")], [handle_file(images / "good.png")],
                 *SETTINGS.values())[3]
    assert good["score"] < info["score"] and good["colour_scale"] == "absolute 0–0.5"


def test_example_and_evaluation_mode(new_client, tmp_path):
    c = new_client()
    prompts, queries = _call(c, "/anomaly_example")
    assert len(prompts) == 1 and len(queries) == 5
    out = _call(c, "/inspect_batch", [handle_file(p) for p in prompts], [handle_file(q) for q in queries],
                *SETTINGS.values())
    assert len(out[0]["data"]) == 5
    # a tiny generated MVTec tree (engines helper's synth CLI), zipped as a user would
    import subprocess
    import sys

    tree = tmp_path / "tree"
    subprocess.run([sys.executable, "-m", "backend.anomaly.offline.synth", "--out", str(tree), "--seed", "3", "--classes",
                    "tiles", "--train", "1", "--test-good", "1", "--test-defect", "2", "--size", "128"],
                   check=True, capture_output=True, cwd=Path(__file__).resolve().parents[2])
    zpath = tmp_path / "mvtec.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for f in sorted(tree.rglob("*")):
            if f.is_file():
                zf.write(f, "upload/" + f.relative_to(tree).as_posix())
    table, note = _call(c, "/anomaly_evaluate", handle_file(zpath), "knn", "256", "0", 0)
    assert table["headers"][:3] == ["class", "i_auroc", "i_ap"]
    rows = {r[0]: r for r in table["data"]}
    assert set(rows) == {"tiles", "mean"}
    p_auroc = rows["tiles"][table["headers"].index("p_auroc")]
    assert 50 < p_auroc <= 100
    assert "1 class(es)" in note and "knn" in note


def test_prompt_retrieval_picks_the_same_product(new_client, images, tmp_path):
    Image.fromarray(skdata.astronaut()[:192, :192]).save(tmp_path / "astronaut.png")  # skimage, public domain
    pool = [handle_file(tmp_path / "astronaut.png"), handle_file(images / "prompt.png")]
    c = new_client()
    k1 = _call(c, "/inspect_one", pool, [handle_file(images / "bad.png")], *{**SETTINGS, "top_k": 1}.values())[3]
    assert k1["prompt"] == "prompt.png" and k1["prompts_pooled"] == 1 and k1["prompt_similarity"] > 0.5
    both = _call(c, "/inspect_one", pool, [handle_file(images / "bad.png")], *SETTINGS.values())[3]
    assert both["prompt"] == "prompt.png" and both["prompts_pooled"] == 2
    odd = _call(c, "/inspect_one", [handle_file(tmp_path / "astronaut.png")], [handle_file(images / "good.png")],
                *SETTINGS.values())[3]
    assert odd["warning"] and "different products" in odd["warning"]


def test_batch_sorted_rethreshold_and_export(new_client, images):
    c = new_client()
    queries = [handle_file(images / n) for n in ("good.png", "bad.png", "corrupt.png", "batch.zip")]
    out = _call(c, "/inspect_batch", [handle_file(images / "prompt.png")], queries, *SETTINGS.values())
    table, gallery, summary, pick = out[0], out[1], out[2], out[3]
    rows = table["data"]
    files = [r[1] for r in rows]
    assert sorted(files) == ["bad.png", "batch.zip:batch/zbad.png", "batch.zip:batch/zgood.png", "good.png"]
    scores = [r[2] for r in rows]
    assert scores == sorted(scores, reverse=True)
    verdict = {r[1]: r[3] for r in rows}
    assert verdict["bad.png"] == "NG" and verdict["good.png"] == "OK"
    assert len(gallery) == 4
    assert "corrupt.png" in summary and "readme.txt" in summary and "Saved as inspection" in summary
    # re-threshold without the model: everything passes at a threshold above every score
    top = pick["value"] if isinstance(pick, dict) else pick
    assert rows[0][0] == top  # the highest-scoring query is shown in detail
    t2 = _call(c, "/anomaly_rethreshold", top, 0.99, 0.99, False, 0.5)
    assert {r[3] for r in t2[0]["data"]} == {"OK"}
    paths = _call(c, "/anomaly_export_batch", 0.99, 0.99, False, 0.5)
    zpath = [p for p in paths if str(p).endswith(".zip")][0]
    zf = zipfile.ZipFile(zpath)
    res = json.loads(zf.read("results.json"))
    assert res["settings"]["image_threshold"] == 0.99 and len(res["results"]) == 4
    assert {r["verdict"] for r in res["results"]} == {"OK"}
    assert any(n.endswith("/mask.png") for n in zf.namelist())
    csv_path = [p for p in paths if str(p).endswith(".csv")][0]
    assert Path(csv_path).read_text().startswith("file,score,verdict")
    single = _call(c, "/anomaly_export_one", 1, 0.2, 0.15, False, 0.5)
    assert sorted(Path(p).name.split("_")[-1] for p in single) == ["heatmap.png", "mask.png", "overlay.png",
                                                                   "result.json"]


def test_inspections_are_stored_with_prompts(new_client, images):
    from storage.db import get_storage
    from storage.repos import anomaly as repo

    before = get_storage().read(lambda s: repo.count_inspections(s))
    c = new_client()
    _call(c, "/inspect_one", [handle_file(images / "prompt.png")], [handle_file(images / "bad.png")],
          *SETTINGS.values())
    assert get_storage().read(lambda s: repo.count_inspections(s)) == before + 1
    last = get_storage().read(lambda s: repo.get_inspection(s, s.scalar(
        __import__("sqlalchemy").select(__import__("sqlalchemy").func.max(
            __import__("storage.models", fromlist=["x"]).AnomalyInspectionRow.id)))))
    assert last["engine"] == "knn" and len(last["prompt_shas"]) == 1 and last["results"][0]["verdict"] == "NG"
    assert last["session_id"] and last["image_threshold"] == 0.2


def test_clear_errors_for_bad_input(new_client, images):
    from gradio_client.exceptions import AppError

    c = new_client()
    with pytest.raises(AppError, match="normal .*prompt image"):
        _call(c, "/inspect_batch", [], [handle_file(images / "bad.png")], *SETTINGS.values())
    with pytest.raises(AppError, match="leaves its folder"):
        _call(c, "/inspect_batch", [handle_file(images / "prompt.png")], [handle_file(images / "evil.zip")],
              *SETTINGS.values())
    with pytest.raises(AppError, match="at least one query"):
        _call(c, "/inspect_batch", [handle_file(images / "prompt.png")], [handle_file(images / "corrupt.png")],
              *SETTINGS.values())
    with pytest.raises(AppError, match="no-such-engine"):
        _call(c, "/inspect_batch", [handle_file(images / "prompt.png")], [handle_file(images / "bad.png")],
              *{**SETTINGS, "engine": "no-such-engine"}.values())
    with pytest.raises(AppError, match="Run an inspection first"):
        _call(c, "/anomaly_rethreshold", 0, 0.5, 0.5, False, 1.0)


def test_pool_save_load_and_correction_export(new_client, images, tmp_path):
    c = new_client()
    dd, msg = _call(c, "/anomaly_save_pool", [handle_file(images / "prompt.png"), handle_file(images / "good.png")],
                    "brick wall", "api pool")
    assert "brick wall / api pool" in msg
    paths, msg = _call(c, "/anomaly_load_pool", "brick wall / api pool")
    assert len(paths) == 2 and Image.open(paths[0]).size == (192, 192)
    _call(c, "/inspect_batch", [handle_file(images / "prompt.png")], [handle_file(images / "bad.png")],
          *SETTINGS.values())
    ed = _call(c, "/anomaly_start_correction", 0, 0.15)
    assert ed["background"] and ed["layers"]
    layer = np.zeros((192, 192, 4), np.uint8)
    layer[70:100, 80:120] = (255, 0, 0, 255)
    Image.fromarray(layer).save(tmp_path / "layer.png")
    editor = {"background": handle_file(images / "bad.png"), "layers": [handle_file(tmp_path / "layer.png")],
              "composite": None}
    msg = _call(c, "/anomaly_save_correction", 0, editor, "brick wall", "red block")
    assert "1200 anomalous pixels" in msg and "brick_wall" not in msg
    zpath = _call(c, "/anomaly_export_corrections", "brick wall", True, "")
    zf = zipfile.ZipFile(zpath)
    names = zf.namelist()
    assert "brick_wall/test/red_block/000.png" in names and "brick_wall/train/good/000.png" in names
    gt = np.asarray(Image.open(io.BytesIO(zf.read("brick_wall/ground_truth/red_block/000_mask.png"))))
    assert gt.shape == (192, 192) and int((gt > 0).sum()) == 1200


def test_calibration_normal_and_f1(new_client, images, tmp_path):
    c = new_client()
    goods = []
    for i, (x, y) in enumerate([(300, 300), (40, 310), (330, 20)]):
        _brick(x, y).save(tmp_path / f"g{i}.png")
        goods.append(handle_file(tmp_path / f"g{i}.png"))
    prompt = [handle_file(images / "prompt.png")]
    it, pt, msg = _call(c, "/anomaly_calibrate", prompt, goods, [], [], "knn", "256", 0, 0.5, 0.5)
    assert 0 < it < 0.5 and 0 < pt < 0.5 and "p99" in msg and "F1-optimal threshold could not" in msg
    good_only = _call(c, "/inspect_one", prompt, [goods[0]], *{**SETTINGS, "image_thr": it}.values())[3]
    assert good_only["verdict"] == "OK"  # a calibration image passes its own threshold
    mask = np.zeros((192, 192), np.uint8)
    mask[70:100, 80:120] = 255
    Image.fromarray(mask).save(tmp_path / "bad_mask.png")
    it2, pt2, msg2 = _call(c, "/anomaly_calibrate", prompt, goods, [handle_file(images / "bad.png")],
                           [handle_file(tmp_path / "bad_mask.png")], "knn", "256", 0, 0.5, 0.5)
    assert "F1-optimal over 3 good and 1 defective" in msg2 and "pixel threshold F1-optimal" in msg2
    # the F1-optimal threshold separates the labelled sets: the defect is NG, every good image OK
    bad = _call(c, "/inspect_one", prompt, [handle_file(images / "bad.png")],
                *{**SETTINGS, "image_thr": it2}.values())[3]
    assert bad["verdict"] == "NG"
    assert _call(c, "/inspect_one", prompt, [goods[1]], *{**SETTINGS, "image_thr": it2}.values())[3]["verdict"] == "OK"
