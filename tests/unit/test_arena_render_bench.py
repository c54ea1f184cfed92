"""Server-side drawing of battle outputs and the bundled Point-Bench picker (with a tiny bench in tmp)."""
import json

import numpy as np
import pytest
from PIL import Image

from backend.arena import bench_images, render


def _near(img, xy, colour, r=3):
    arr = np.asarray(img).astype(int)
    x, y = int(xy[0]), int(xy[1])
    patch = arr[max(0, y - r): y + r + 1, max(0, x - r): x + r + 1]
    return bool((np.abs(patch - np.array(colour)).sum(axis=2) < 40).any())


def test_sides_use_their_own_colour_and_scale():
    img = Image.new("RGB", (800, 600), (128, 128, 128))
    a = render.render_side(img, [(400, 300)], "A")
    b = render.render_side(img, [(400, 300)], "B")
    assert a.size == (800, 600)
    assert _near(a, (400 - 10, 300), render.COLOR_A) and not _near(a, (390, 300), render.COLOR_B)
    assert _near(b, (400 - 8, 300), render.COLOR_B)
    assert render.marker_radius(800, 600) > render.marker_radius(200, 150) - 1


def test_overlay_big_image_is_downscaled_and_points_follow():
    img = Image.new("RGB", (2048, 1024), (128, 128, 128))
    ov = render.render_overlay(img, [(1024, 512)], [(200, 100)], ref_point=(1800, 900))
    assert ov.size == (1024, 512)
    assert _near(ov, (512 - 10, 256), render.COLOR_A) and _near(ov, (100, 50), render.COLOR_B)
    r = render.marker_radius(1024, 512) + 2
    assert _near(ov, (900 - r, 450), render.COLOR_REF)


def test_tiny_image_is_enlarged_for_display():
    out = render.render_side(Image.new("RGB", (64, 32)), [(1, 1), (60, 30)], "A")
    assert max(out.size) == render.DISPLAY_MIN_SIDE


@pytest.fixture
def tiny_bench(tmp_path):
    (tmp_path / "images").mkdir()
    Image.new("RGB", (40, 30), (10, 200, 10)).save(tmp_path / "images" / "g.png")
    Image.new("RGB", (40, 30), (200, 10, 10)).save(tmp_path / "images" / "r.png")
    data = [{"image_filename": "g.png", "user_input": "Point to the green", "category": "affordable",
             "mask_filename": "g.png"},
            {"image_filename": "r.png", "user_input": "Point to the dot left of the marked one", "category": "steerable",
             "mask_filename": "r.png", "ref_point": [20, 15]},
            {"image_filename": "missing.png", "user_input": "x", "category": "spatial", "mask_filename": "m.png"}]
    (tmp_path / "data.json").write_text(json.dumps(data))
    return tmp_path


def test_bench_items_and_random_pick(tiny_bench):
    items = bench_images.load_items(tiny_bench)
    assert [i.image_filename for i in items] == ["g.png", "r.png"]  # missing image skipped
    assert items[0].category == "affordance" and items[0].category_label == "Affordance"
    assert items[1].ref_point == (20.0, 15.0)
    picks = {bench_images.random_item(np.random.default_rng(s), tiny_bench).image_filename for s in range(20)}
    assert picks == {"g.png", "r.png"}
    a = bench_images.random_item(np.random.default_rng(5), tiny_bench)
    assert a == bench_images.random_item(np.random.default_rng(5), tiny_bench)


def test_missing_bench_says_what_to_do(tmp_path):
    with pytest.raises(ValueError, match="Upload a photo instead"):
        bench_images.random_item(np.random.default_rng(0), tmp_path / "nope")


def test_bench_category_only_when_the_image_really_is_the_bench_image(tiny_bench, monkeypatch):
    from backend.arena import service

    monkeypatch.setenv("ARENA_BENCH_DIR", str(tiny_bench))
    green = Image.open(tiny_bench / "images" / "r.png").convert("RGB")
    own = "Point to the dot left of the marked one"
    assert service._resolve_input(green, "r.png", own) == ("steerable", "bench:r.png", (20.0, 15.0))
    other = Image.new("RGB", (40, 30), (1, 2, 3))
    assert service._resolve_input(other, "r.png", own) == ("upload", "upload", None)
    assert service._resolve_input(green, None, own) == ("upload", "upload", None)


def test_bench_category_only_with_the_items_own_instruction(tiny_bench, monkeypatch):
    """review16: the bench image with the user's own instruction was stored as the bench item (its category, its
    reference-point sentence appended, its mask taken as the right answer for the judge's gold reliability)."""
    from backend.arena import service

    monkeypatch.setenv("ARENA_BENCH_DIR", str(tiny_bench))
    green = Image.open(tiny_bench / "images" / "r.png").convert("RGB")
    assert service._resolve_input(green, "r.png", "Point to the top edge") == ("upload", "upload", None)
    assert service._resolve_input(green, "r.png", "Point to the dot left of the marked") == ("upload", "upload", None)


def test_marker_labels_read_on_a_dark_photo():
    """review18: "B1", "B2" were blue text with a black outline, lost on a dark photo; each label's outline is now
    the one of black / white that contrasts more with its side's colour (white for B's blue)."""
    img = Image.new("RGB", (800, 600), (15, 15, 15))
    out = render.render_side(img, [(200, 300), (500, 300)], "B")
    arr = np.asarray(out).astype(int)
    r = render.marker_radius(*out.size)
    label = arr[300 - r - 2: 300 + r, 200 + r + 2: 200 + 4 * r]  # right of the first marker, where "B1" is drawn
    assert (label.min(axis=2) > 200).sum() > 20  # a white outline around the blue letters
    assert render.halo_for(render.COLOR_B) == (255, 255, 255) and render.halo_for(render.COLOR_A) == (0, 0, 0)
