"""Each family parser on realistic raw outputs (formats as in PointArena / the model cards)."""
import json
import math
import subprocess
import sys

import pytest

from backend.pointing.parsers import canonical_family, parse, smart_resize
from backend.pointing.types import finalize_points

W, H = 640, 480


def approx(points, expected, tol=0.01):
    assert len(points) == len(expected), points
    for (x, y), (ex, ey) in zip(points, expected, strict=False):
        assert x == pytest.approx(ex, abs=tol) and y == pytest.approx(ey, abs=tol)


# -- molmo (percent) --------------------------------------------------------------------------------------
def test_molmo_single_point_tag():
    raw = ' <point x="61.5" y="40.6" alt="red mug">red mug</point>'
    approx(parse("molmo", raw, W, H).points, [(0.615 * W, 0.406 * H)])


def test_molmo_multi_points_tag_keeps_pairs_in_order():
    raw = '<points x1="10.0" y1="20.0" x2="30.5" y2="40.0" x3="90" y3="95.5" alt="coins">coins</points>'
    approx(parse("molmo", raw, W, H).points, [(64, 96), (195.2, 192), (576, 458.4)])


def test_molmo_click_and_parens():
    approx(parse("molmo", "Click(25.0, 50.0)", W, H).points, [(160, 240)])
    approx(parse("molmo", "The cup is at (50, 25).", W, H).points, [(320, 120)])


def test_molmo_out_of_range_dropped_not_clamped():
    res = parse("molmo", '<point x="250.0" y="40.0" alt="x">x</point>', W, H)
    assert not res.ok and "out of range" in res.error
    res = parse("molmo", '<points x1="250" y1="40" x2="50" y2="50" alt="x">x</points>', W, H)
    approx(res.points, [(320, 240)])


def test_molmo_prose_without_numbers():
    res = parse("molmo", "I cannot see a giraffe in this image.", W, H)
    assert not res.ok and "no coordinates" in res.error


# -- molmo2 (0–1000 coords) -------------------------------------------------------------------------------
def test_molmo2_id_x_y_triples():
    raw = '<points coords="1 109 544 2 189 469" alt="apples">apples</points>'
    approx(parse("molmo2", raw, W, H).points, [(0.109 * W, 0.544 * H), (0.189 * W, 0.469 * H)])


def test_molmo2_leading_image_index_and_single_point():
    approx(parse("molmo2", '<points coords="1 1 652 535">cup</points>', W, H).points, [(0.652 * W, 0.535 * H)])
    approx(parse("molmo2", '<point coords="1 500 500"/>', W, H).points, [(320, 240)])


def test_molmo2_without_coords_fails():
    assert not parse("molmo2", '<point x="61.5" y="40.6">', W, H).ok


# -- gemini ([y, x] 0–1000) -------------------------------------------------------------------------------
def test_gemini_fenced_json_swaps_axes():
    raw = '```json\n[\n  {"point": [250, 750], "label": "the left handle"}\n]\n```'
    approx(parse("gemini", raw, W, H).points, [(0.75 * W, 0.25 * H)])


def test_gemini_several_points_and_prose():
    raw = 'Here are the points:\n[{"point": [100, 200], "label": "a"}, {"point": [900, 800], "label": "b"}]'
    approx(parse("gemini", raw, W, H).points, [(0.2 * W, 0.1 * H), (0.8 * W, 0.9 * H)])


def test_gemini_broken_json_falls_back_to_regex():
    raw = '[{"point": [500, 250], "label": "cup"}, {"point": [10'  # truncated answer
    approx(parse("gemini", raw, W, H).points, [(0.25 * W, 0.5 * H)])


# -- qwen2.5-vl (smart-resized pixels) --------------------------------------------------------------------
def test_smart_resize_matches_transformers():
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize as ref

    for h, w in [(480, 640), (1080, 1920), (33, 1000), (4000, 3000), (57, 57)]:
        for mx in (1003520, 12845056, 200_000):
            assert smart_resize(h, w, 28, 3136, mx) == ref(h, w, 28, 3136, mx)


def test_qwen_point_2d_rescaled_from_resized_image():
    w, h = 4000, 3000
    rh, rw = smart_resize(h, w, 28, 3136, 1003520)
    raw = f'```json\n[{{"point_2d": [{rw // 2}, {rh // 4}], "label": "dog"}}]\n```'
    approx(parse("qwen2.5-vl", raw, w, h, max_pixels=1003520).points, [(w * (rw // 2) / rw, h * (rh // 4) / rh)])
    assert (rh, rw) != (h, w)  # the rescale matters for this image


def test_qwen_xml_points_and_plain_brackets():
    rh, rw = smart_resize(H, W)
    res = parse("qwen2.5-vl", '<points x1="100" y1="200" x2="300" y2="100" alt="cups">cups</points>', W, H)
    approx(res.points, [(100 * W / rw, 200 * H / rh), (300 * W / rw, 100 * H / rh)])
    approx(parse("qwen2.5-vl", "The answer is [56, 112].", W, H).points, [(56 * W / rw, 112 * H / rh)])


def test_qwen_bbox_center_and_out_of_range():
    rh, rw = smart_resize(H, W)
    approx(parse("qwen2.5-vl", '[{"bbox_2d": [0, 0, 100, 200], "label": "x"}]', W, H).points,
           [(50 * W / rw, 100 * H / rh)])
    assert not parse("qwen2.5-vl", '{"point_2d": [99999, 5]}', W, H).ok


# -- pixel json (GPT / Claude / Grok) ---------------------------------------------------------------------
def test_pixel_json_in_prose_and_fences():
    raw = 'Sure! The handle is here:\n```json\n[{"point": [412, 233]}]\n```\nLet me know.'
    approx(parse("pixel-json", raw, W, H).points, [(412, 233)])
    approx(parse("pixel-json", '[{"point": [10.5, 20]}, {"point": [30, 40]}]', W, H).points, [(10.5, 20), (30, 40)])


def test_pixel_json_nan_and_out_of_range():
    assert not parse("pixel-json", '[{"point": [NaN, 20]}]', W, H).ok
    res = parse("pixel-json", '[{"point": [5000, 20]}, {"point": [100, 100]}]', W, H)
    approx(res.points, [(100, 100)])
    assert not parse("pixel-json", "", W, H).ok


# -- normalized ---------------------------------------------------------------------------------------------
def test_normalized():
    approx(parse("normalized", "[0.25, 0.5]", W, H).points, [(160, 240)])
    approx(parse("normalized", '{"point": [1.0, 0.0]}', W, H).points, [(640, 0)])
    assert not parse("normalized", "[3, 4]", W, H).ok


def test_finalize_clamps_and_drops_non_finite():
    pts, norm = finalize_points([(700, -3), (math.nan, 1), (math.inf, 2), ("a", 1), (10, 10)], W, H)
    assert len(pts) == 2 and pts[0][0] < W and pts[0][1] == 0 and norm[1] == (10 / W, 10 / H)


def test_unknown_family_and_aliases():
    assert canonical_family("GPT") == "pixel-json" and canonical_family("qwen") == "qwen2.5-vl"
    with pytest.raises(ValueError, match="Unknown output family"):
        parse("llama", "[1, 2]", W, H)


def test_huge_garbage_does_not_hang():
    assert not parse("molmo", "(" * 100_000 + "x", W, H).ok
    assert not parse("gemini", "[" * 50_000, W, H).ok


def test_cli_stdin_and_file(tmp_path):
    cmd = [sys.executable, "-m", "backend.pointing.cli", "parse", "--family", "gemini", "--width", "1000", "--height", "500"]
    out = subprocess.run(cmd, input='[{"point": [500, 250]}]', capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == {"points": [[250.0, 250.0]], "parse_ok": True}
    f = tmp_path / "raw.txt"
    f.write_text("no numbers here")
    out = subprocess.run(cmd[:5] + ["molmo", "--width", "10", "--height", "10", "--file", str(f)],
                         capture_output=True, text=True, check=True)
    assert json.loads(out.stdout)["parse_ok"] is False
