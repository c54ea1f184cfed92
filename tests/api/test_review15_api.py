"""review15: a script sending the wrong JSON types, and what the app's files disclose, through the real endpoints."""
from __future__ import annotations

import json
import re

import pytest

from tests.api.test_trust_limits import _no_leak, raw_call

pytestmark = [pytest.mark.api, pytest.mark.usefixtures("fresh_limits")]
REF = re.compile(r"\(ref [0-9a-f]{8}\)")
GRADIO_WORDS = re.compile(r"Could not preprocess|validation error|pydantic|list of choices|<class|input components:"
                          r"|event handler")

# (api, args, what the sentence must say): each value is a type the input cannot take
WRONG_TYPES = [
    ("/edit3d_preset", ["spin 720°"], "“Preset” takes one of: “reset”"),
    ("/leaderboard_view", [5, ["Overall"]], "takes one of: “bt”, “elo” (input 1 of leaderboard_view, a radio; got 5)"),
    ("/svg_style_card", [5, "", None], "(input 1 of svg_style_card, a radio; got 5)"),
    ("/anomaly_detail", [None, "x", {"x": 1}, 0.5, True, 1.0], "“Image threshold (NG if score ≥)” takes a number "
                                                               "from 0 to 1 (input 3 of anomaly_detail, a slider; got {\"x\": 1})"),
    ("/bench_annotate", [{"background": {"path": 5}, "layers": [], "composite": None}, "x", "spatial", None, None,
                         None, "1,2,3,4", "t", "b", False], "(input 1 of bench_annotate, an image editor; got"),
    ("/edit3d_preset", [], "edit3d_preset takes 1 input values; this request sent 0"),
]


@pytest.mark.parametrize("case", range(len(WRONG_TYPES)))
def test_wrong_json_types_get_our_sentence_with_a_ref(app_url, case, caplog):
    """Gradio checked these values itself and answered with its internals ("Could not preprocess input component at
    index 2 (a `slider` component) of the event handler (named "detail") with input components: […]", pydantic's
    "1 validation error for EditorData … https://errors.pydantic.dev", "Value: 5 (type: <class 'int'>) is not in the
    list of choices"), with no ref id and no log line of ours."""
    api, args, expected = WRONG_TYPES[case]
    with caplog.at_level("ERROR", logger="apps.common"):
        stream = raw_call(app_url, api, args)
    assert "event: error" in stream, stream[:400]
    msg = json.loads(stream.split("event: error", 1)[1].split("data:", 1)[1].strip().splitlines()[0])["error"]
    assert expected in msg, msg[:600]
    ref = REF.search(msg)
    assert ref, msg[:600]
    assert not GRADIO_WORDS.search(msg), msg[:600]
    _no_leak(msg)
    # the detail (Gradio's own words) is in the log line carrying the same ref, for whoever reads the report
    assert any(ref.group(0)[5:-1] in r.getMessage() for r in caplog.records)


def test_our_own_input_errors_keep_their_sentence(new_client, tmp_path):
    """A refused upload already says what is wrong (apps.common.FileImage): it must not become "could not be
    read"."""
    from gradio_client import handle_file

    bad = tmp_path / "fake.png"
    bad.write_text("not a png\n" * 20)
    with pytest.raises(Exception) as ei:
        new_client().predict(handle_file(str(bad)), "Point to the cup", api_name="/new_battle")
    msg = str(ei.value)
    assert "not an image Pillow can read" in msg and "(input 1 of" not in msg, msg
    assert len(REF.findall(msg)) == 1, msg


def test_bench_images_and_examples_do_not_disclose_the_install_dir(app_url):
    """/random_bench_image and the arena's gr.Examples sent the bench image's absolute install path
    ("path": "/…/static/bench/images/x.jpg", and the same in its /file= URL): Gradio served the bench folder as a
    static path. They are now copies in the temp dir; the examples still carry their bench caption."""
    import httpx

    from backend.arena import bench_images
    from tests.api.test_trust_limits import browser_like

    install = str(bench_images.bench_dir().resolve())
    stream = raw_call(app_url, "/random_bench_image", [])
    assert "event: complete" in stream and (".jpg" in stream or ".png" in stream), stream[:400]
    assert install not in stream and "static/bench" not in stream, stream[:600]
    data = json.loads(stream.split("event: complete", 1)[1].split("data:", 1)[1].strip().splitlines()[0])
    h = browser_like(app_url)
    assert h.get(data[0]["url"]).status_code == 200  # the copy is served
    config = h.get(app_url + "config").text
    assert install not in config and "photo_coffee_handle.jpg" in config
    # the bench folder itself is no longer served by path
    item = bench_images.examples()[0]
    r = httpx.get(app_url + f"gradio_api/file={item.image_path}")
    assert r.status_code in (403, 404), r.status_code


def test_steerable_item_with_the_reference_fields_left_empty_is_refused(new_client, photo):
    """Gradio 6.31 shows and sends 0 for an empty Number, so an annotator who chose "steerable" and left the
    reference point empty saved an item whose reference point was the image's top-left corner (0, 0). The browser's
    (0, 0) now means "not typed": the item is refused with the sentence that asks for the point, and the same empty
    fields on a spatial item still save."""
    from gradio_client import handle_file

    f = handle_file(photo)
    editor = {"background": f, "layers": [], "composite": f}
    c = new_client()
    with pytest.raises(Exception) as ei:
        c.predict(editor, "Point to the ball's left.", "steerable", 0, 0, 0, "200,60,280,140", "", "", False,
                  api_name="/bench_annotate")
    assert "A steerable item needs a reference point" in str(ei.value) and REF.search(str(ei.value))
    msg = c.predict(editor, "Point to the red ball.", "spatial", 0, 0, 0, "200,60,280,140", "", "", False,
                    api_name="/bench_annotate")
    assert "Saved annotation" in msg


def test_a_server_path_in_a_file_input_gets_our_sentence(app_url):
    """A script naming a server file ({"path": "/etc/passwd"}) is refused by Gradio ("Cannot move /etc/passwd to the
    gradio cache dir because it was not uploaded by a user"): now in our words, with a ref, and nothing is read."""
    from tests.api.test_trust_limits import browser_like

    h = browser_like(app_url)
    fd = {"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}}
    r = h.post(app_url + "gradio_api/call/new_battle", json={"data": [fd, "Point to the cup", None]})
    assert r.status_code == 200, r.text
    with h.stream("GET", app_url + f"gradio_api/call/new_battle/{r.json()['event_id']}") as s:
        stream = "".join(s.iter_text())
    msg = json.loads(stream.split("event: error", 1)[1].split("data:", 1)[1].strip().splitlines()[0])["error"]
    assert "takes an uploaded file" in msg and REF.search(msg) and "root:" not in msg, msg
    assert "cache dir" not in msg and "not uploaded by a user" not in msg, msg
