"""Point-Bench through the public API: evaluate, bench↔arena, and the annotation round trip
annotate → accept → export → evaluate on the exported bench."""
import json
import zipfile
from pathlib import Path

import pytest
from gradio_client import handle_file
from PIL import Image

from backend.arena.bench import evaluate_predictions, load_bench

pytestmark = pytest.mark.api
TOKEN = "test-admin-token"


def test_evaluate_center_on_sample(client):
    summary, table, gallery, items = client.predict("center", None, True, api_name="/bench_evaluate")
    assert "average **2.67%** over 75 items" in summary
    row = dict(zip(table["headers"], table["data"][0], strict=False))
    assert row["Model"] == "center" and row["Average"] == 2.67 and row["Counting"] == 0.0
    assert len(gallery["value"]) == 75 and len(items["data"]) == 75


def test_bench_vs_arena_lists_bundled_pointers(client):
    stats_md, pairs, per_cat, _plot = client.predict(api_name="/bench_vs_arena")
    models = {r[0] for r in per_cat["data"]}
    assert {"center", "random", "lite0-cam", "ocr"} <= models
    assert "Correlation" in stats_md or "Pearson" in stats_md


def test_unknown_pointer_is_a_clear_error(client):
    with pytest.raises(Exception, match="takes one of: “lite0-cam”"):
        client.predict("nope", None, False, api_name="/bench_evaluate")


def test_annotation_round_trip(new_client, tmp_path):
    c = new_client()
    img_path = tmp_path / "photo.png"
    Image.new("RGB", (120, 80), (200, 180, 150)).save(img_path)
    editor = {"background": handle_file(str(img_path)), "layers": [], "composite": handle_file(str(img_path))}
    # a box around the image centre (60, 40): the `center` baseline must score on the exported bench
    msg = c.predict(editor, "Point to the middle of the card.", "spatial", None, None, None, "50,30,70,50", "tester",
                    "battle-123", False, api_name="/bench_annotate")
    assert "Saved annotation" in msg and "pending" in msg
    ann_id = int(msg.split("#")[1].split("*")[0])

    with pytest.raises(Exception, match="Wrong admin token"):
        c.predict("wrong", ann_id, "me", api_name="/bench_accept")
    with pytest.raises(Exception, match="Only counting items take a count"):
        c.predict(editor, "Point to it.", "spatial", 3, None, None, "1,1,5,5", "", "", False,
                  api_name="/bench_annotate")

    counts, listing = c.predict(TOKEN, "pending", api_name="/bench_review_list")
    row = next(r for r in listing["data"] if r[0] == ann_id)
    assert row[1] == "pending" and row[7] == "battle-123" and row[5] == "tester"
    assert "is now **accepted**" in c.predict(TOKEN, ann_id, "rev", api_name="/bench_accept")

    zpath, note = c.predict(TOKEN, False, api_name="/bench_export")
    assert "Exported" in note
    out = tmp_path / "bench"
    with zipfile.ZipFile(zpath) as zf:
        zf.extractall(out)
    data = json.loads((out / "data.json").read_text())
    mine = next(d for d in data if d["image_filename"] == f"ann_{ann_id:05d}.png")
    assert mine["category"] == "spatial" and mine["source_battle_id"] == "battle-123" and "count" not in mine
    bench = load_bench(out)
    res = evaluate_predictions(out, {mine["image_filename"]: [[60, 40]]} |
                               {it.image_filename: [] for it in bench.items if it.image_filename != mine["image_filename"]})
    assert next(r for r in res["items"] if r["image_filename"] == mine["image_filename"])["success"]

    summary, table, _g, items = c.predict("center", handle_file(str(zpath)), False, api_name="/bench_evaluate")
    by = {r[0]: r for r in items["data"]}
    assert by[mine["image_filename"]][2] is True
    assert Path(zpath).name == "point-bench-annotations.zip"


def test_load_battle_into_annotation(new_client, tmp_path):
    c = new_client()
    photo = tmp_path / "b.png"
    Image.new("RGB", (64, 48), (10, 120, 200)).save(photo)
    battle_id = c.predict(handle_file(str(photo)), "Point to the blue card.", api_name="/new_battle")[0]
    editor, instruction, category, ref_x, ref_y = c.predict(battle_id, api_name="/bench_load_battle")
    assert instruction == "Point to the blue card." and ref_x is None and ref_y is None  # an upload has no ref point
    bg = editor["background"]
    assert Image.open(bg["path"] if isinstance(bg, dict) else bg).size == (64, 48)
    with pytest.raises(Exception, match="There is no battle"):
        c.predict("nope", api_name="/bench_load_battle")
