"""Annotation collection: mask building, validation, admin check, and the bench tables on both databases."""
import io

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import inspect

from backend.arena import annotations as ann
from backend.masks import mask_from_layers
from storage.repos import bench as repo
from storage.repos.images import store_image


def test_masks_from_cells_and_layers():
    m = ann.mask_from_cells([(0, 0), (1, 2)], (100, 50))  # cell = min(100, 50)/50 = 1 px
    assert m.sum() == 2 and m[0, 0] and m[1, 2]
    m = ann.mask_from_cells([(0, 0)], (200, 100))  # 2 px cells
    assert m.sum() == 4
    with pytest.raises(ValueError, match="outside the image"):
        ann.mask_from_cells([(60, 0)], (100, 50))
    layer = np.zeros((10, 20, 4), dtype=np.uint8)
    layer[2:4, 5:8, 3] = 255
    assert mask_from_layers([layer, None], (20, 10)).sum() == 6
    assert mask_from_layers([], (20, 10)).sum() == 0
    with pytest.raises(ValueError, match="draw on the image"):
        mask_from_layers([np.zeros((5, 5, 4), np.uint8)], (20, 10), on_mismatch="error")
    # the editor can hand back a canvas-size layer: "resize" maps the stroke onto the image
    big = np.zeros((20, 40, 4), np.uint8)
    big[4:8, 10:16, 3] = 255
    m = mask_from_layers([Image.fromarray(big)], (20, 10), on_mismatch="resize")
    assert m.sum() == 6 and m[2:4, 5:8].all()
    rgb = np.zeros((10, 20, 3), np.uint8)
    rgb[0, 0] = (0, 9, 0)
    assert mask_from_layers([rgb], (20, 10)).sum() == 1


def test_check_item_rules():
    img = Image.new("RGB", (20, 10))
    m = np.zeros((10, 20), bool)
    m[2:4, 2:4] = True
    assert ann.check_item(img, "  Point to  it ", "Affordance", m)["category"] == "affordable"
    assert ann.check_item(img, "Point", "counting", m, count="3")["count"] == 3
    with pytest.raises(ValueError, match="needs the number"):
        ann.check_item(img, "Point", "counting", m)
    with pytest.raises(ValueError, match="Only counting items take a count"):
        ann.check_item(img, "Point", "spatial", m, count=2)
    with pytest.raises(ValueError, match="mask is empty"):
        ann.check_item(img, "Point", "spatial", np.zeros((10, 20), bool))
    with pytest.raises(ValueError, match="whole image"):
        ann.check_item(img, "Point", "spatial", np.ones((10, 20), bool))
    with pytest.raises(ValueError, match="reference point"):
        ann.check_item(img, "Point", "steerable", m)
    assert ann.check_item(img, "Point", "steerable", m, ref_point=(3, 4))["ref_point"] == [3.0, 4.0]
    with pytest.raises(ValueError, match="Type the instruction"):
        ann.check_item(img, " ", "spatial", m)
    with pytest.raises(ValueError, match="Choose a category"):
        ann.check_item(img, "Point", "cooking", m)


def test_check_admin(monkeypatch):
    ann.check_admin("test-admin-token")  # conftest sets ADMIN_TOKEN
    for bad in (None, "", "test-admin-tokeN", "x"):
        with pytest.raises(PermissionError, match="Wrong admin token"):
            ann.check_admin(bad)


def test_bench_tables(db_url, storage_for):
    st = storage_for(db_url)
    assert {"bench_annotations", "bench_results"} <= set(inspect(st.engine).get_table_names())
    png = io.BytesIO()
    Image.new("L", (4, 4), 255).save(png, format="PNG")

    def add(s):
        sha = store_image(s, Image.new("RGB", (4, 4), (9, 9, 9)), "test")
        return repo.add_annotation(s, session_id="sess", annotator="ann", source_battle_id=None, image_sha256=sha,
                                   user_input="Point to it.", category="spatial", count=None, ref_point=None,
                                   mask_png=png.getvalue(), mask_pixels=16, models_correct=None,
                                   models_checked=None)

    a = st.write(add)
    b = st.write(add)
    assert st.read(repo.count_annotations) == {"pending": 2, "accepted": 0, "rejected": 0}
    row = st.write(lambda s: repo.review_annotation(s, a, "accepted", "rev"))
    assert row["status"] == "accepted" and row["reviewer"] == "rev" and row["reviewed_at"]
    with pytest.raises(ValueError, match="no annotation #999"):
        st.write(lambda s: repo.review_annotation(s, 999, "accepted", "rev"))
    with pytest.raises(ValueError, match="'accepted' or 'rejected'"):
        st.write(lambda s: repo.review_annotation(s, b, "maybe", "rev"))
    acc = st.read(lambda s: repo.list_annotations(s, status="accepted", with_mask=True))
    assert [r["id"] for r in acc] == [a] and acc[0]["mask_png"] == png.getvalue()

    res = {"model": "m1", "bench": "bench", "bench_fingerprint": "f", "source": "pointer", "n": 3, "average": 50.0,
           "per_category": {"spatial": 50.0}, "items": [{"image_filename": "x"}]}
    st.write(lambda s: repo.add_result(s, res))
    st.write(lambda s: repo.add_result(s, {**res, "average": 60.0}))
    st.write(lambda s: repo.add_result(s, {**res, "model": "m2", "bench": "other"}))
    latest = st.read(lambda s: repo.latest_results(s, bench="bench"))
    assert list(latest) == ["m1"] and latest["m1"]["average"] == 60.0 and "items" not in latest["m1"]
    assert st.read(lambda s: repo.latest_results(s, with_items=True))["m1"]["items"] == [{"image_filename": "x"}]


def test_hard_items_filter_and_export_layout():
    """PointArena keeps an item when ≤ 1 of 3 models is right; the export is a loadable Point-Bench."""
    import json
    import zipfile

    img = Image.new("RGB", (60, 40), (50, 60, 70))
    centre = np.zeros((40, 60), bool)
    centre[15:25, 25:35] = True            # the `center` baseline lands here
    corner = np.zeros((40, 60), bool)
    corner[0:5, 0:5] = True                # no baseline lands here
    easy = ann.save_annotation(img, "Point to the middle.", "spatial", centre, check_with=["center", "center", "random"])
    hard = ann.save_annotation(img, "Point to the corner.", "spatial", corner, check_with=["center", "center", "random"])
    assert easy["models_correct"] >= 2 and easy["models_checked"] == 3
    assert hard["models_correct"] == 0
    for row in (easy, hard):
        ann.review(row["id"], "accept", "test-admin-token", reviewer="t")
    with pytest.raises(PermissionError):
        ann.export_zip("nope")
    data, n = ann.export_zip("test-admin-token", hard_only=True)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        items = json.loads(zf.read("data.json"))
        assert [it["user_input"] for it in items] == ["Point to the corner."]
        assert sorted(zf.namelist()) == sorted(["data.json", f"images/ann_{hard['id']:05d}.png",
                                                f"masks/ann_{hard['id']:05d}_mask.png"])
    _, n_all = ann.export_zip("test-admin-token")
    assert n_all >= 2 and n == 1


def test_export_loads_as_bench(tmp_path):
    import zipfile

    from backend.arena.bench import load_bench

    img = Image.new("RGB", (30, 20))
    m = np.zeros((20, 30), bool)
    m[5:10, 5:10] = True
    row = ann.save_annotation(img, "Point to each square.", "counting", m, count=1)
    ann.review(row["id"], "accepted", "test-admin-token")
    data, _ = ann.export_zip("test-admin-token")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        zf.extractall(tmp_path)
    bench = load_bench(tmp_path)
    it = next(i for i in bench.items if i.image_filename == f"ann_{row['id']:05d}.png")
    assert it.count == 1 and it.category == "counting"


def test_steerable_battle_round_trip_sends_the_reference_sentence_once(tmp_path):
    """Battle from a steerable bench item → annotate → accept → export → Point-Bench: the item keeps the query and
    its reference point, and the models are told about the point once (the battle's instruction already held the
    sentence, so it used to be stored in user_input and appended again at evaluation)."""
    import zipfile

    from backend.arena import service as arena
    from backend.arena.bench import STEER_NOTE, load_bench
    from backend.arena.bench_service import sample_bench_dir

    src = next(i for i in load_bench(sample_bench_dir()).items if i.category == "steerable")
    img = Image.open(src.image_path).convert("RGB")
    b = arena.start_battle(img, src.user_input, session_id="steer-round-trip", client_ip="10.9.8.7",
                           bench_file=src.image_filename, seed=1)
    assert b["category"] == "steerable" and b["ref_point"] == src.ref_point
    loaded, instruction, cat = ann.battle_input(b["battle_id"], "steer-round-trip")
    assert instruction == src.user_input and cat == "steerable"
    mask = np.zeros((img.height, img.width), bool)
    mask[10:30, 20:50] = True
    row = ann.save_annotation(loaded, instruction, cat, mask, ref_point=b["ref_point"],
                              session_id="steer-round-trip", source_battle_id=b["battle_id"])
    ann.review(row["id"], "accept", "test-admin-token")
    data, _ = ann.export_zip("test-admin-token")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        zf.extractall(tmp_path)
    it = next(i for i in load_bench(tmp_path).items if i.image_filename == f"ann_{row['id']:05d}.png")
    note = STEER_NOTE.format(x=src.ref_point[0], y=src.ref_point[1])
    assert it.user_input == src.user_input and it.ref_point == src.ref_point
    assert it.instruction == f"{src.user_input} {note}" and it.instruction.count("existing original point") == 1
    from backend.arena.bench import load_mask
    assert (load_mask(it) == mask).all()
    # an upload battle's instruction is left as typed, even when it happens to end with such a sentence
    assert ann.annotator_instruction(f"x {note}", None) == f"x {note}"
