"""review17: an API-level attacker's review (raw HTTP against the launched app). Each test fails on the code
before the fix it names."""
from __future__ import annotations

import json

import httpx
import pytest
from PIL import Image

from tests.api.test_trust_limits import _fn_index, _join, _upload, browser_like


def _image_args(name: str, fd: dict) -> list:
    if name == "editor_changed":
        return [{"background": fd, "layers": [], "composite": fd}, ""]
    return [fd]


@pytest.mark.parametrize("name", ["check_upload", "editor_changed", "on_upload"])
def test_private_image_opening_events_are_rate_limited_before_queueing(app_url, tmp_path, monkeypatch,
                                                                        fresh_limits, name):
    """The hidden image check, the Point-Bench editor's change handler and Photo 3D Edit's new-photo handler are
    private in the UI, but a script starts them by fn_index through /queue/join; each opened the client's image
    (up to 40 MP per call) with no rate limit and in its own concurrency slot. Now they are one job class
    ("image_open"): the third call in a minute (JOB_IMAGE_OPEN=1,2 here) is refused at the door with HTTP 429."""
    monkeypatch.setenv("JOB_IMAGE_OPEN", "1,2")
    photo = tmp_path / "p.png"
    Image.new("RGB", (64, 48), (200, 30, 30)).save(photo)
    h = browser_like(app_url)
    fn = _fn_index(app_url, name)
    for i in range(2):
        out = _join(h, app_url, fn, _image_args(name, _upload(h, app_url, str(photo))), f"r17-{name}-{i}")
        assert not out.startswith("HTTP"), out[:300]
    out = _join(h, app_url, fn, _image_args(name, _upload(h, app_url, str(photo))), f"r17-{name}-x")
    assert out.startswith("HTTP 429") and "Too many" in out, out[:300]


def test_image_opening_events_share_one_small_pool():
    """Before: each of these events had its own slot of 1, so a script ran them side by side (4 decodes at once)."""
    import app as app_module

    names = ("check_upload", "editor_changed", "on_upload")
    pools = {fn.fn.__name__: (fn.concurrency_id, fn.concurrency_limit)
             for fn in app_module.demo.fns.values() if getattr(fn.fn, "__name__", None) in names}
    assert set(pools) == set(names)
    assert {p[0] for p in pools.values()} == {"image_open"}


def _call_text(h: httpx.Client, app_url: str, api: str, data_json: str) -> str:
    """POST /call/<api> with a hand-written JSON body (so `NaN` / `Infinity` go as the bare words a script can send)."""
    r = h.post(app_url + f"gradio_api/call/{api}", content=('{"data": ' + data_json + "}").encode(),
               headers={"content-type": "application/json"})
    if r.status_code != 200:
        return f"HTTP {r.status_code}: {r.text}"
    return h.get(app_url + f"gradio_api/call/{api}/{r.json()['event_id']}").text


SVG_ARGS = ['"a house"', '"Installed set/variant"', '"lucide/regular"', "null", '"outline"', "2", '"round"',
            '"round"', "2", "24", '""', '"svg-retrieval"', "2", "0"]


@pytest.mark.parametrize("index,value,label", [(5, "NaN", "Line weight"), (9, "Infinity", "Grid"),
                                               (8, "NaN", "Padding")])
def test_nan_and_infinity_are_refused_with_the_inputs_sentence(app_url, fresh_limits, index, value, label):
    """Python's JSON parser takes `NaN` and `Infinity`, and Gradio's range check lets NaN through (every comparison
    with NaN is false) and an unbounded number takes Infinity: svg_generate drew and stored icons with a NaN line
    weight or an infinite grid. Now refused before Gradio's checks, with the input's sentence and a ref."""
    h = browser_like(app_url)
    assert "event: complete" in _call_text(h, app_url, "svg_generate", "[" + ", ".join(SVG_ARGS) + "]")
    args = list(SVG_ARGS)
    args[index] = value
    out = _call_text(h, app_url, "svg_generate", "[" + ", ".join(args) + "]")
    assert "event: error" in out and f"\\u201c{label}" in out and "(ref " in out, out[:400]
    assert "Something went wrong" not in out


def test_nan_in_a_photo_edit_slider_gets_the_sliders_sentence(app_url, tmp_path, fresh_limits):
    """A NaN mask growth passed the slider's range check and reached OpenCV: "Something went wrong (ValueError)"."""
    photo = tmp_path / "p.png"
    Image.new("RGB", (160, 120), (100, 150, 200)).save(photo)
    h = browser_like(app_url)
    args = [json.dumps(_upload(h, app_url, str(photo))), '""', "null", '"20,20,80,80"', "NaN", "10", "0", "0", "0",
            "0", "0", "1", "false", "60", "0.3", "0.5", '""', '"auto"', '"auto"', '"auto"', "0", "0", "false", "0"]
    out = _call_text(h, app_url, "edit3d_render", "[" + ", ".join(args) + "]")
    assert "event: error" in out and "mask, px" in out and "got NaN" in out, out[:400]


def test_admin_token_cannot_be_guessed_online(new_client, monkeypatch):
    """Wrong admin tokens had no limit: a script could try tokens as fast as the queue answered (and the Status
    tab's admin view told it when one was right). After ADMIN_TOKEN_TRIES wrong ones from a client IP in 10 minutes,
    every admin check from it is refused, the right token included; others are not affected."""
    from gradio_client.exceptions import AppError

    from backend.security import token_guesses

    monkeypatch.setenv("ADMIN_TOKEN_TRIES", "3")
    c = new_client()
    assert c.predict("test-admin-token", api_name="/arena_admin")  # the right token works
    for guess in ("guess-1", "guess-2", "guess-3"):
        with pytest.raises(AppError, match="Wrong admin token"):
            c.predict(guess, api_name="/arena_admin")
    for api, args in (("/arena_admin", ()), ("/bench_review_list", ("all",))):
        with pytest.raises(AppError, match="Too many wrong admin tokens"):
            c.predict("test-admin-token", *args, api_name=api)
    with pytest.raises(AppError, match="Too many wrong admin tokens"):
        c.predict("test-admin-token", api_name="/status")
    token_guesses.reset()  # the window passed
    assert c.predict("test-admin-token", api_name="/arena_admin")


def _call_v2(h: httpx.Client, app_url: str, api: str, kwargs: dict) -> str:
    """POST /gradio_api/call/v2/<api> (Gradio's keyword-argument route: the body is {parameter: value})."""
    r = h.post(app_url + f"gradio_api/call/v2/{api}", json=kwargs, timeout=120)
    if r.status_code != 200:
        return f"HTTP {r.status_code}: {r.text}"
    return h.get(app_url + f"gradio_api/call/v2/{api}/{r.json()['event_id']}", timeout=120).text


def test_the_keyword_call_route_is_rate_limited_like_the_others(app_url, monkeypatch, fresh_limits):
    """`/gradio_api/call/v2/<api>` runs the same events as `/call/<api>`, but the job gate read "v2" as the event
    name: no job class, so no rate limit and no size check for any model endpoint through it."""
    monkeypatch.setenv("JOB_SVG_LEARN", "1,2")
    h = browser_like(app_url)
    args = {"name": "x", "files": [], "budget_s": 30}
    for _ in range(2):
        out = _call_v2(h, app_url, "svg_learn_style", args)
        assert "Too many" not in out and "event: error" in out, out[:300]
    out = _call_v2(h, app_url, "svg_learn_style", args)
    assert out.startswith("HTTP 429") and "Too many" in out, out[:300]


def test_the_keyword_call_route_has_the_size_cap(app_url, fresh_limits):
    h = browser_like(app_url)
    out = _call_v2(h, app_url, "svg_generate", {"prompt": "x" * 300_000})
    assert out.startswith("HTTP 413") and "limit is 256 KB" in out, out[:300]


def test_upload_bytes_per_client_are_capped(app_url, monkeypatch):
    """Gradio's upload route took any number of 25 MB files per request, without a session, and kept them on disk
    for 30 minutes: a script could write as fast as its connection allowed. Now a client IP gets UPLOAD_MB_PER_IP per 30 minutes; the
    request that would go over is refused with HTTP 413 and a sentence before its body is read."""
    monkeypatch.setenv("UPLOAD_MB_PER_IP", "2")
    h = httpx.Client(timeout=60)
    blob = b"\0" * (700 * 1024)
    ok = h.post(app_url + "gradio_api/upload", files=[("files", ("a.bin", blob)), ("files", ("b.bin", blob))])
    assert ok.status_code == 200 and len(ok.json()) == 2
    over = h.post(app_url + "gradio_api/upload", files=[("files", ("c.bin", blob))])
    assert over.status_code == 413 and "reached 2 MB in the last 30 minutes" in over.text, over.text[:200]

    def chunks():  # no Content-Length (chunked): refused, it could not be counted before reading
        yield b"--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"d.bin\"\r\n\r\nxx\r\n--b--\r\n"

    monkeypatch.setenv("UPLOAD_MB_PER_IP", "100")
    r = h.post(app_url + "gradio_api/upload", content=chunks(), headers={"content-type": "multipart/form-data; boundary=b"})
    assert r.status_code == 411 and "Content-Length" in r.text, r.text[:200]


def test_deeply_nested_json_is_answered_without_a_traceback(app_url, caplog):
    """JSON nested 100,000 deep (200 KB) made the job gate's parser raise RecursionError, logged with its whole
    traceback on every request (a log flood); Gradio answers such a body with HTTP 400 itself."""
    h = browser_like(app_url)
    deep = "[" * 100_000 + "]" * 100_000
    for path, body in (("gradio_api/queue/join", '{"data": [' + deep + '], "fn_index": 4, "session_hash": "d"}'),
                       ("gradio_api/call/new_battle", '{"data": [' + deep + "]}")):
        r = h.post(app_url + path, content=body, headers={"content-type": "application/json"})
        assert r.status_code == 400, r.text[:200]
    assert "job gate check failed" not in caplog.text


def test_gradios_own_event_functions_answer_in_our_words(app_url):
    """gr.Examples' `load_example` (callable by fn_index) is Gradio's function, not wrapped in `user_errors`: a null
    example index was answered with Python's "cannot unpack non-iterable NoneType object", no ref, no log line."""
    cfg = httpx.get(app_url + "config", timeout=30).json()
    fn = next(d["id"] for d in cfg["dependencies"] if d.get("api_name") == "load_example")
    out = _join(browser_like(app_url), app_url, fn, [None], "r17-example")
    assert "Something went wrong (TypeError)" in out and "(ref " in out, out[:300]
    assert "unpack" not in out
