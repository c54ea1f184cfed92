"""Embedded pointers, baselines, the spatial/counting layer and the shared failure handling."""
from __future__ import annotations

import math

import numpy as np
import pytest
import skimage.data as skd
from PIL import Image, ImageDraw, ImageFont

from backend.pointing.base import BasePointer, PointingError
from backend.pointing.baselines import CenterPointer, RandomPointer
from backend.pointing.embedded import OCRPointer, query_phrase
from backend.pointing.spatial import Candidate, relations, select, wanted_count
from backend.registry import ModelEntry

# -- spatial / counting ----------------------------------------------------------------------------------
C = [Candidate(10, 50, 1.0, 400), Candidate(90, 40, 0.9, 100), Candidate(50, 5, 0.8, 900),
     Candidate(50, 95, 0.7, 50), Candidate(52, 48, 0.6, 200), Candidate(5, 5, 0.1, 10)]


@pytest.mark.parametrize("text,expected", [
    ("Point to the cup", (10, 50)), ("Point to the leftmost cup", (10, 50)), ("the cup on the right", (90, 40)),
    ("the top cup", (50, 5)), ("the cup at the bottom", (50, 95)), ("the cup in the middle", (52, 48)),
    ("the largest cup", (50, 5)), ("the smallest cup", (50, 95)),
])
def test_select_relations(text, expected):
    assert select(C, text, 100, 100) == [expected]


def test_select_counting_drops_weak_candidates():
    assert len(select(C, "Point to all the cups", 100, 100)) == 5  # the 0.1 candidate is noise
    assert select(C, "Point to the two cups", 100, 100) == [(10, 50), (90, 40)]
    assert select(C, "Point to the 2 leftmost cups", 100, 100) == [(10, 50), (50, 5)]
    assert len(select(C[:2], "Point to 4 cups", 100, 100)) == 2  # cannot invent objects
    assert select([], "Point to the cup", 100, 100) == []


def test_counting_words_and_phrases():
    assert wanted_count("Point to the cat") == 1 and wanted_count("Point to one cat") == 1
    assert wanted_count("Point to 3 apples") == 3 and wanted_count("point to both shoes") == 2
    assert wanted_count("Point to every car") == 0 and wanted_count("How many birds are there") == 0
    assert relations("the big red ball on the left") == ["largest", "left"]
    assert query_phrase("Point to the two leftmost red cups") == "red cups"
    assert OCRPointer.targets('Point to the word "EXIT"') == (["EXIT"], True)
    assert OCRPointer.targets("Point to the sign saying push")[0] == ["push"]


# -- baselines and failure handling ------------------------------------------------------------------------
IMG = Image.new("RGB", (200, 100))


def test_center_and_random_baselines():
    assert CenterPointer().point(IMG, "Point to it").points == [(100, 50)]
    assert len(CenterPointer().point(IMG, "Point to the 3 dogs").points) == 3
    r0 = RandomPointer(ModelEntry("random", "pointing", "embedded", "x:y", options={"seed": 0}))
    r1 = RandomPointer(ModelEntry("random", "pointing", "embedded", "x:y", options={"seed": 1}))
    a, b, c = (p.point(IMG, "Point to it").points for p in (r0, r0, r1))
    assert a == b and a != c and all(0 <= x < 200 and 0 <= y < 100 for x, y in a + c)


class Scripted(BasePointer):
    def __init__(self, out):
        super().__init__()
        self.out = out

    def _predict(self, img, instruction):
        if isinstance(self.out, Exception):
            raise self.out
        return "raw", self.out


@pytest.mark.parametrize("out,error", [
    ([(math.nan, 3)], "no valid point"), ([(float("inf"), 1)], "no valid point"), (None, "no coordinates"),
    (PointingError("endpoint answered HTTP 500", "oops"), "HTTP 500"), (RuntimeError("CUDA OOM"), "RuntimeError: CUDA OOM"),
])
def test_failures_become_parse_ok_false(out, error):
    res = Scripted(out).point(IMG, "Point to it")
    assert not res.parse_ok and error in res.error and res.latency_s >= 0


def test_clamping_bad_images_and_instructions():
    res = Scripted([(500, -5)]).point(IMG, "Point to it")
    assert res.parse_ok and res.points[0][0] < 200 and res.points[0][1] == 0 and res.points_norm[0][0] < 1
    bad = Scripted([(1, 1)]).point(b"definitely not an image", "Point to it")
    assert not bad.parse_ok and bad.error.startswith("cannot read the image")
    rgba = Scripted([(1, 1)]).point(Image.new("RGBA", (20, 20)), "Point to it")
    assert rgba.parse_ok
    for text in ("", "   ", None, "x" * 301):
        with pytest.raises(ValueError):
            Scripted([(1, 1)]).point(IMG, text)


# -- the real embedded models ------------------------------------------------------------------------------
def _side_by_side(left: np.ndarray, right: np.ndarray, h: int = 300) -> Image.Image:
    a, b = Image.fromarray(left).convert("RGB"), Image.fromarray(right).convert("RGB")
    a, b = (im.resize((round(im.width * h / im.height), h)) for im in (a, b))
    out = Image.new("RGB", (a.width + b.width, h))
    out.paste(a, (0, 0))
    out.paste(b, (a.width, 0))
    return out, a.width


@pytest.fixture(scope="module")
def lite0():
    import torch

    from backend.registry import get_registry

    torch.set_num_threads(2)
    return get_registry().get("lite0-cam")


@pytest.mark.parametrize("order", ["cat-left", "cat-right"])
def test_lite0_cam_finds_the_named_object(lite0, order):
    cat, cup = skd.chelsea(), skd.coffee()
    img, split = _side_by_side(cat, cup) if order == "cat-left" else _side_by_side(cup, cat)
    cat_left = order == "cat-left"
    (x, _), = lite0.point(img, "Point to the cat").points
    assert (x < split) == cat_left
    res = lite0.point(img, "Point to the coffee cup")
    assert res.parse_ok and (res.points[0][0] >= split) == cat_left
    assert "cup" in res.raw_text and res.backend_info["kind"] == "embedded"


def test_ocr_points_at_the_named_word_and_falls_back():
    from backend.registry import get_registry

    img = Image.new("RGB", (640, 240), "white")
    d = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=56)
    d.text((40, 80), "EXIT", fill="black", font=font)
    d.text((380, 80), "PUSH", fill="black", font=font)
    ocr = get_registry().get("ocr")
    res = ocr.point(img, 'Point to the word "PUSH"')
    assert res.parse_ok, res.error
    x, y = res.points[0]
    assert 370 < x < 560 and 60 < y < 160, res.raw_text
    left = ocr.point(img, "Point to the word exit")
    assert left.parse_ok and left.points[0][0] < 260
    fb = ocr.point(Image.fromarray(skd.chelsea()), "Point to the cat")
    assert fb.parse_ok and '"fallback": "lite0-cam"' in fb.raw_text


def test_steerable_note_is_not_a_count_and_picks_near_the_reference():
    from backend.pointing.spatial import split_reference

    note = ("Point to the cup. The image contains an existing original point at pixel coordinates: [12.0, 3.5]. "
            "The query refers to this existing point.")
    assert split_reference(note) == ("Point to the cup.", (12.0, 3.5))
    assert wanted_count(note) == 1 and query_phrase(note) == "cup"
    near = note.replace("[12.0, 3.5]", "[88.0, 45.0]")
    assert select(C, near, 100, 100) == [(90, 40)]
    left_of = near.replace("Point to the cup.", "Point to the cup left of the point.")
    assert select(C, left_of, 100, 100) == [(52, 48)]


def test_point_cli(tmp_path):
    import json
    import subprocess
    import sys

    img = tmp_path / "a.png"
    Image.new("RGB", (40, 20)).save(img)
    cmd = [sys.executable, "-m", "backend.pointing.cli", "point", "--pointer", "center", "--image", str(img)]
    out = subprocess.run(cmd + ["--instruction", "Point to it"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert res["parse_ok"] and res["points"] == [[20.0, 10.0]] and res["points_norm"] == [[0.5, 0.5]]
    (tmp_path / "b.png").write_bytes(b"not an image")
    cmd[-1] = str(tmp_path / "b.png")
    bad = subprocess.run(cmd + ["--instruction", "Point to it"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "cannot read the image" in json.loads(bad.stdout)["error"]
    empty = subprocess.run(cmd + ["--instruction", " "], capture_output=True, text=True, timeout=120)
    assert empty.returncode != 0


def test_colour_and_shape_regions_count_the_right_objects():
    from backend.pointing.regions import region_candidates

    img = Image.new("RGB", (400, 300), (235, 235, 235))
    d = ImageDraw.Draw(img)
    circles = [(60, 60), (200, 80), (320, 220)]
    for x, y in circles:
        d.ellipse((x - 25, y - 25, x + 25, y + 25), fill=(220, 30, 30))
    d.rectangle((40, 180, 100, 240), fill=(220, 30, 30))     # red square: right colour, wrong shape
    d.ellipse((150, 170, 200, 220), fill=(30, 60, 220))       # blue circle: right shape, wrong colour
    pts = select(region_candidates(img, "each red circle"), "Point to each red circle", 400, 300)
    got = sorted(pts)
    assert len(got) == 3 and all(abs(x - ex) <= 3 and abs(y - ey) <= 3 for (x, y), (ex, ey) in zip(got, sorted(circles), strict=False))
    assert len(region_candidates(img, "the red square")) == 1
    blue = select(region_candidates(img, "the blue circle"), "Point to the blue circle", 400, 300)
    assert blue == [pytest.approx((175, 195), abs=3)]
    steer = "Point to the shape closest to the shape at the existing point. " \
            "The image contains an existing original point at pixel coordinates: [60.0, 60.0]."
    assert select(region_candidates(img, "the shape"), steer, 400, 300) == [pytest.approx((200, 80), abs=3)]  # 141 px away; the square is 150
