"""anomaly2: a batch with one unusable query still inspects the others (found running the tab end to end).

An 8×8 query opened fine (the shared image reader needs 8 px per side) but the engine needs 16, so the whole batch of
14 queries failed with "The query image #1 is only 8×8 pixels" — "#1" because the inspector calls the engine one query
at a time, so every query is #1. The tiny query is now listed among the skipped files, by name, and the rest run."""
from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from backend.anomaly import actions, exports
from backend.errors import UserError


def _img(seed: int, size=(64, 48)) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(90, 110, (size[1], size[0], 3), dtype=np.uint8))


def test_tiny_query_is_skipped_by_name_and_the_batch_runs(tmp_path):
    prompt, good, tiny = tmp_path / "normal.png", tmp_path / "good.png", tmp_path / "tiny.png"
    _img(0).save(prompt)
    _img(1).save(good)
    _img(2, (8, 8)).save(tiny)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        b = io.BytesIO()
        _img(3, (12, 40)).save(b, format="PNG")
        zf.writestr("parts/thin.png", b.getvalue())
    (tmp_path / "more.zip").write_bytes(buf.getvalue())
    out = actions.inspect([str(prompt)], [str(tiny), str(good), str(tmp_path / "more.zip")], engine="knn",
                          resolution="256", top_k=0, view=actions.ViewSettings(0.5, 0.5, False, 1.0))
    assert [r.name for r in out.run.records] == ["good.png"]
    why = dict(out.run.skipped)
    assert "8×8 pixels" in why["tiny.png"] and "16 pixels per side" in why["tiny.png"]
    assert "12×40 pixels" in why["more.zip:parts/thin.png"]
    assert "tiny.png" in out.views.summary and "more.zip:parts/thin.png" in out.views.summary


def test_only_tiny_queries_say_so(tmp_path):
    prompt, tiny = tmp_path / "normal.png", tmp_path / "tiny.png"
    _img(0).save(prompt)
    _img(2, (8, 8)).save(tiny)
    with pytest.raises(UserError, match=r"No query image could be read: “tiny.png” is only 8×8 pixels"):
        actions.inspect([str(prompt)], [str(tiny)], engine="knn", resolution="256", top_k=0,
                        view=actions.ViewSettings(0.5, 0.5, False, 1.0))


def test_an_unusable_prompt_beside_good_ones_is_reported_not_dropped(tmp_path):
    """A prompt that cannot be used (too small, or not an image) next to usable ones was dropped without a word."""
    prompt, bad, good = tmp_path / "normal.png", tmp_path / "p_tiny.png", tmp_path / "good.png"
    _img(0).save(prompt)
    _img(2, (8, 8)).save(bad)
    _img(1).save(good)
    out = actions.inspect([str(prompt), str(bad)], [str(good)], engine="knn", resolution="256", top_k=0,
                          view=actions.ViewSettings(0.5, 0.5, False, 1.0))
    assert [n for n, _ in out.run.prompts] == ["normal.png"]
    assert "8×8 pixels" in dict(out.run.skipped)["prompt p_tiny.png"] and "p_tiny.png" in out.views.summary


def test_an_animated_query_says_only_its_first_frame_was_inspected(tmp_path):
    prompt, anim = tmp_path / "normal.png", tmp_path / "anim.gif"
    _img(0).save(prompt)
    frames = [_img(i) for i in range(3)]
    frames[0].save(anim, save_all=True, append_images=frames[1:], duration=100, loop=0)
    out = actions.inspect([str(prompt)], [str(anim)], engine="knn", resolution="256", top_k=0,
                          view=actions.ViewSettings(0.5, 0.5, False, 1.0))
    assert [r.name for r in out.run.records] == ["anim.gif"]
    assert "anim.gif (animated (3 frames): only its first frame was inspected)" in out.views.summary
    res = exports.results_json(out.run, 0.5, 0.5)
    assert res["settings"]["read_in_part"] == [{"file": "anim.gif",
                                                "why": "animated (3 frames): only its first frame was inspected"}]


def test_tiled_runs_report_progress_per_tile():
    """Tiled mode gives every tile its own prompt features: a large query ran minutes with the bar standing still at
    "Inspecting big.png" (one update per query). Now each tile moves it."""
    from backend.anomaly import inspector as insp

    calls = []
    insp.inspect_batch([("p.png", _img(0, (400, 300)))], [("q.png", _img(1, (400, 300)))], engine="metauas",
                       resolution="tiled", progress=lambda i, n, name: calls.append((i, n, name)))
    tiles = [c for c in calls if "tile" in c[2]]
    assert [c[2] for c in tiles] == [f"q.png (image 1/1: tile {k}/4)" for k in range(1, 5)]
    assert [c[0] for c in tiles] == sorted(c[0] for c in tiles) and 0 < tiles[0][0] < tiles[-1][0] < 1
    assert calls[-1] == (1, 1, "done")
