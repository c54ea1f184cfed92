"""review16: what a new user and an attacker found in the running app, each through the real endpoint."""
from __future__ import annotations

import random
import re

import pytest
from gradio_client import handle_file
from PIL import Image

pytestmark = [pytest.mark.api, pytest.mark.usefixtures("fresh_limits")]
REF = re.compile(r"\(ref [0-9a-f]{8}\)")


def test_a_shared_pool_cannot_be_replaced_by_another_visitor(new_client, tmp_path):
    """Visitor B shared a pool under visitor A's shared pool name; every third visitor who loaded that name got B's
    "normal" images (and the name was listed twice)."""
    good, evil = tmp_path / "good.png", tmp_path / "evil.png"
    Image.new("RGB", (64, 64), (90, 120, 150)).save(good)
    Image.new("RGB", (64, 64), (255, 0, 255)).save(evil)
    name = f"line {random.randint(0, 10**9)}"
    a, b, c = new_client(), new_client(), new_client()
    a.predict([handle_file(good)], "bottle", name, True, api_name="/anomaly_save_pool")
    with pytest.raises(Exception) as ei:
        b.predict([handle_file(evil), handle_file(evil)], "bottle", name, True, api_name="/anomaly_save_pool")
    assert "Another visitor already shares a pool under this product and pool name" in str(ei.value)
    assert REF.search(str(ei.value))
    paths, msg = c.predict(f"bottle / {name}", api_name="/anomaly_load_pool")
    assert len(paths) == 1 and "1 image(s)" in msg
    assert Image.open(paths[0]).convert("RGB").getpixel((0, 0)) == (90, 120, 150)
    # B keeps a private pool of that name if it wants one; the others still load A's
    b.predict([handle_file(evil)], "bottle", name, False, api_name="/anomaly_save_pool")
    paths, _ = c.predict(f"bottle / {name}", api_name="/anomaly_load_pool")
    assert Image.open(paths[0]).convert("RGB").getpixel((0, 0)) == (90, 120, 150)


def test_a_pool_whose_product_has_the_separator_is_refused_up_front(new_client, tmp_path):
    """Product "cap / A": saved ("Saved pool cap / A / line") and listed, but loading it said there was no such
    pool."""
    good = tmp_path / "good.png"
    Image.new("RGB", (64, 64), (90, 120, 150)).save(good)
    with pytest.raises(Exception, match="A product name cannot contain"):
        new_client().predict([handle_file(good)], "cap / A", "line", False, api_name="/anomaly_save_pool")


def test_a_bench_image_with_your_own_instruction_is_not_the_bench_item(new_client, fast_models):
    """"Random Point-Bench image", then the instruction edited: the battle was stored as the bench item (its category
    on the leaderboard, its reference-point sentence appended to the user's words, its mask used as the right
    answer when the judge's gold-item reliability was computed)."""
    from backend.arena import bench_images
    from storage.db import get_storage
    from storage.repos import arena as repo

    if not bench_images.load_items():
        pytest.skip("bundled Point-Bench sample not present")
    c = new_client()
    path, instruction, note = c.predict(api_name="/random_bench_image")
    mine = "Point to the top left corner of the picture."
    assert mine != instruction
    out = c.predict(handle_file(path), mine, api_name="/new_battle")
    assert "Category: **Your upload** (your own instruction on a bench image" in out[4], out[4]
    stored = get_storage().read(lambda s: repo.get_battle(s, out[0]))
    assert (stored["category"], stored["image_source"], stored["instruction"]) == ("upload", "upload", mine)
    # the item's own instruction (typed with other spacing) is still the bench item
    out = c.predict(handle_file(path), "  " + instruction.replace(" ", "  ") + " ", api_name="/new_battle")
    label = note.split("**Category:** ")[1].split(" ·")[0]
    assert f"Category: **{label}**." in out[4]
    assert get_storage().read(lambda s: repo.get_battle(s, out[0]))["image_source"].startswith("bench:")


def _edit3d_args(photo, box="", hints=""):
    sel = '{"points": [[300, 240, 1]]}'
    return [photo, sel, None, box, 0, 0, 0, 0, 0, 0, 0, 1, False, 55, 0.15, 0.35, hints, "auto", "auto", "auto",
            0.5, 0.0, True, 1.5]


def test_depth_hints_are_capped_before_rendering_and_storing(new_client):
    """200 KB of depth hints ("1,1,1;" × 34,000) rendered, and every history step stored all of them (a ~1.5 MB
    row per render, the case the 64 KB selection cap closed for clicks)."""
    from pathlib import Path

    import skimage

    coffee = handle_file(str(Path(skimage.__file__).parent / "data" / "coffee.png"))
    with pytest.raises(Exception) as ei:
        new_client().predict(*_edit3d_args(coffee, hints="1,1,1;" * 34_000), api_name="/edit3d_render")
    msg = str(ei.value)
    assert "34000 depth hints were given; at most 64 are used" in msg and REF.search(msg), msg[:300]


def test_a_bad_box_is_quoted_short_and_as_text(new_client):
    """The whole field was echoed into the error toast (which renders HTML): 100 KB of text made a 100 KB toast, and
    markup in it was rendered."""
    from pathlib import Path

    import skimage

    coffee = handle_file(str(Path(skimage.__file__).parent / "data" / "coffee.png"))
    for box in ("<img src=x onerror=alert(1)>", "9," * 50_000):
        with pytest.raises(Exception) as ei:
            new_client().predict(*_edit3d_args(coffee, box=box), api_name="/edit3d_render")
        msg = str(ei.value)
        assert "The box must be 4 comma-separated numbers" in msg and len(msg) < 300, msg[:300]
        assert "<img" not in msg


def test_bench_tables_name_their_columns_before_the_first_run():
    """A new user's Point-Bench tab showed an empty "Accuracy per category" table headed "1 2 3" (and the same in
    "Per-item details") until an evaluation ran."""
    import app as app_module

    tables = {b.elem_id: b for b in app_module.demo.blocks.values() if b.elem_id in ("bench-table", "bench-items")}
    assert tables["bench-table"].value["headers"][:2] == ["Model", "Affordance"]
    assert tables["bench-items"].value["headers"] == ["image_filename", "category", "success", "reason", "points"]


def test_a_refused_replacement_photo_clears_the_previous_one(tmp_path, caplog):
    """Photo 3D Edit: a photo that opens but is refused (here 4×4 px) replacing a good one only raised a toast; the
    previous photo's preview and its status line ("Photo 6000×6000. Click the object…") stayed, and a click on that
    preview answered about the new file. Now the preview, selection and outputs are cleared and the status line says
    why, with the ref of the one log line."""
    from apps import edit3d_handlers as h

    tiny = tmp_path / "tiny.png"
    Image.new("RGB", (4, 4), (1, 2, 3)).save(tiny)
    with caplog.at_level("INFO", logger="apps.common"):
        out = h.on_upload(str(tiny), None)
    preview, selection, status = out[:3]
    assert preview is None and '"points": []' in selection
    assert status.startswith("⚠ ") and "only 4×4 pixels" in status and REF.search(status)
    ref = REF.search(status).group(0)[5:-1]
    assert any(ref in r.getMessage() for r in caplog.records)
    assert out[11] == "" and out[12:15] == (None, None, None)  # box, result, depth, guide mask
