"""Photo 3D Edit endpoints through gradio_client on a real photo (scikit-image coffee, CC0)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import skimage
from gradio_client.exceptions import AppError
from PIL import Image

pytestmark = pytest.mark.api
COFFEE = str(Path(skimage.__file__).parent / "data" / "coffee.png")
SCENE = [55, 0.15, 0.35, "", "auto", "auto", "auto"]  # fov, thickness, horizon, hints, seg, depth, fill
COMP = [0.5, 0.0, True, 1.5]  # harmonize, shadow, occlusion, feather
SEL = json.dumps({"points": [[300, 240, 1]]})


def motion(yaw=0.0, tx=0.0, ty=0.0):
    return [yaw, 0, 0, tx, ty, 0, 1, False]


def args(photo, sel=SEL, mask=None, box="", yaw=0.0, tx=0.0, ty=0.0):
    return [photo, sel, mask, box, 0, *motion(yaw, tx, ty), *SCENE, *COMP]


def hist_args(photo, sel=SEL):
    return [photo, sel, None, "", 0, *COMP, *SCENE]


def test_render_history_undo_redo_export(new_client):
    from gradio_client import handle_file

    c = new_client()
    photo = handle_file(COFFEE)
    pick, result, depth, gmask, status, history = c.predict(*args(photo), api_name="/edit3d_render")
    assert "GrabCut" in status and "Invented pixels" in status
    assert "ran classically: selection, depth, fill" in status and "ran with a model: none" in status
    assert len(history["data"]) == 1 and history["data"][0][2] == "edit"
    _, result, _, gmask, status, history = c.predict(*args(photo, yaw=20, tx=0.3), api_name="/edit3d_render")
    assert len(history["data"]) == 2 and history["data"][0][3] == 20 and history["data"][0][-1] > 0
    before, after = (np.asarray(Image.open(x["path"] if isinstance(x, dict) else x)) for x in result)
    assert before.shape == after.shape and not np.array_equal(before, after)
    g = np.asarray(Image.open(gmask))
    assert set(np.unique(g)) == {0, 128, 255}

    out = c.predict(*hist_args(photo), api_name="/edit3d_undo")
    assert out[0] == 0 and out[3] == 0  # yaw, tx restored
    assert out[-1]["data"][0][2] == "undo"
    out = c.predict(*hist_args(photo), api_name="/edit3d_redo")
    assert out[0] == 20 and out[3] == pytest.approx(0.3)

    files, edited, glb, gif, note = c.predict(*args(photo, yaw=20, tx=0.3), api_name="/edit3d_export")
    names = sorted(Path(f).name for f in files)
    assert names == sorted(["edited.png", "guide.png", "guide_mask.png", "coarse_rgba.png", "depth.png",
                            "transform.json", "object.glb", "turntable.gif"])
    assert Image.open(edited).size == (600, 400)
    meta = json.loads(Path([f for f in files if f.endswith("transform.json")][0]).read_text())
    assert 0 < meta["invented_fraction"] < 0.5 and meta["params"]["yaw"] == 20
    assert "invented" in note


def test_history_is_per_session(new_client):
    from gradio_client import handle_file

    a, b = new_client(), new_client()
    photo = handle_file(COFFEE)
    a.predict(*args(photo, yaw=5), api_name="/edit3d_render")
    *_, hist_b = b.predict(*args(photo, yaw=7), api_name="/edit3d_render")
    assert [r[3] for r in hist_b["data"]] == [7]


def test_bad_inputs_have_clear_messages(client, tmp_path):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    photo = handle_file(COFFEE)
    with pytest.raises(AppError, match="No object is selected"):
        client.predict(*args(photo, sel="{}"), api_name="/edit3d_render")
    white = tmp_path / "white.png"
    Image.new("L", (600, 400), 255).save(white)
    with pytest.raises(AppError, match="covers"):
        client.predict(*args(photo, sel="{}", mask=handle_file(str(white))), api_name="/edit3d_render")
    with pytest.raises(AppError, match="leaves the frame"):
        client.predict(*args(photo, tx=3.0, ty=3.0), api_name="/edit3d_render")
    with pytest.raises(AppError, match="box"):
        client.predict(*args(photo, box="1,2,3"), api_name="/edit3d_render")
    with pytest.raises(AppError, match="No refine model"):
        client.predict(*args(photo), 1, 0, 0.5, api_name="/edit3d_refine")


def test_presets_are_absolute(client):
    """'turn right 20°' means yaw 20° whatever the sliders say now (issue 19: it used to add)."""
    vals = client.predict("turn right 20°", api_name="/edit3d_preset")
    assert list(vals) == [20, 0, 0, 0, 0, 0, 1, False]
    assert list(client.predict("mirror", api_name="/edit3d_preset")) == [0, 0, 0, 0, 0, 0, 1, True]
    assert list(client.predict("reset", api_name="/edit3d_preset")) == [0, 0, 0, 0, 0, 0, 1, False]
    with pytest.raises(AppError, match="Unknown preset|takes one of: “reset”"):
        client.predict("spin 720°", api_name="/edit3d_preset")
