"""review14: what a demanding user and a script found in the running app, each through the real endpoint."""
from __future__ import annotations

import re

import pytest
from gradio_client import handle_file

from apps.common import _keep_accepted
from tests.api.test_trust_limits import _no_leak

pytestmark = [pytest.mark.api, pytest.mark.usefixtures("fresh_limits")]
REF = re.compile(r"\(ref [0-9a-f]{8}\)")


@pytest.fixture(scope="module")
def notes(tmp_path_factory) -> str:
    p = tmp_path_factory.mktemp("wrong-type") / "notes.txt"
    p.write_text("a text file where an image, a zip, an SVG or a JSON file belongs\n")
    return str(p)


def _file_calls(f):
    """(api_name, args) of every public endpoint that takes a file input, with `f` in that input."""
    return [
        ("/inspect_batch", [[f], [f], "knn", "256", 0, 0.5, 0.5, False, 1.0]),
        ("/anomaly_calibrate", [[f], [f], [], [], "knn", "256", 0, 0.5, 0.5]),
        ("/anomaly_evaluate", [f, "knn", "256", "0", 0]),
        ("/bench_evaluate", ["center", f, False]),
        ("/arena_import", ["test-admin-token", f, "native"]),
        ("/svg_style_card", ["Exemplar SVGs (upload)", "", [f]]),
        ("/svg_learn_style", ["mine", [f], 5]),
    ]


@pytest.mark.parametrize("call", range(7))
def test_wrong_file_type_gets_our_sentence_with_a_ref_in_every_tab(new_client, notes, call):
    """A .txt where images/.zip/.svg/.json belong: Gradio's preprocessing answered "Invalid file type. Please upload
    a file that is one of these formats: ['image', '.zip']" (a Python list, no ref id, no log line)."""
    api, args = _file_calls(handle_file(notes))[call]
    with pytest.raises(Exception) as ei:
        new_client().predict(*args, api_name=api)
    msg = str(ei.value)
    assert "“notes.txt” is not accepted here: this input takes" in msg, (api, msg)
    assert REF.search(msg), (api, msg)
    assert "Invalid file type" not in msg and "['" not in msg
    _no_leak(msg)


def test_upload_event_drops_only_the_wrong_files(caplog):
    """The upload event (what the browser calls when files are chosen) keeps the accepted files the user already
    chose and warns, with a ref id that the log line shares, about the others; names are shown, never markup."""
    good = {"path": "/x/abc/part.PNG", "orig_name": "part.PNG", "meta": {"_type": "gradio.FileData"}}
    bad = {"path": "/x/def/<img src=x onerror=alert(1)>.txt", "meta": {"_type": "gradio.FileData"}}
    warned: list[str] = []
    import gradio as gr

    orig = gr.Warning
    gr.Warning = lambda msg, **kw: warned.append(msg)  # type: ignore[assignment]
    try:
        with caplog.at_level("INFO", logger="apps.common"):
            kept = _keep_accepted(("image", ".zip"), [good, bad])
            single = _keep_accepted((".json",), bad)
    finally:
        gr.Warning = orig  # type: ignore[assignment]
    assert kept == [good] and single is None
    assert len(warned) == 2 and "<img" not in warned[0] and "&lt;img" in warned[0]
    assert "this input takes images or .zip only" in warned[0] and "takes .json only" in warned[1]
    ref = REF.search(warned[0]).group(0)[5:-1]
    assert any(ref in r.getMessage() for r in caplog.records)
    assert isinstance(_keep_accepted(("image",), [good]), type(gr.skip()))


def test_loading_a_pool_again_writes_no_new_copy(new_client, tmp_path):
    """Each load wrote the pool's images into a new folder of the system temp dir that nothing removed."""
    import random

    from PIL import Image

    from backend.tempfiles import temp_root

    img = tmp_path / "good.png"
    Image.new("RGB", (64, 64), (90, 120, 150)).save(img)
    c = new_client()
    name = f"pool {random.randint(0, 10**9)}"
    c.predict([handle_file(img)], "gadget", name, False, api_name="/anomaly_save_pool")
    c.predict(f"gadget / {name}", api_name="/anomaly_load_pool")
    before = {p for p in temp_root().iterdir() if p.name.startswith("shared-pool-")}
    for _ in range(3):
        paths, msg = c.predict(f"gadget / {name}", api_name="/anomaly_load_pool")
        assert len(paths) == 1 and "1 image(s)" in msg
    assert {p for p in temp_root().iterdir() if p.name.startswith("shared-pool-")} == before and len(before) >= 1


def test_pool_key_of_another_type_gets_a_sentence(new_client):
    """A number as the pool key: "Something went wrong (TypeError)"."""
    with pytest.raises(Exception, match="Please choose a saved prompt pool first") as ei:
        new_client().predict(-1e18, api_name="/anomaly_load_pool")
    assert REF.search(str(ei.value))


@pytest.mark.parametrize("value", [None, {"a": 1}, [[1]], "1e309", "two", 1.5, 2**70])
def test_svg_ids_of_another_type_get_a_sentence(new_client, value):
    """/svg_candidates and /svg_vote with a non-number id: "Something went wrong (TypeError/ValueError)"."""
    c = new_client()
    for api, args in (("/svg_candidates", [value]), ("/svg_vote", [value, 1, "model_a"])):
        with pytest.raises(Exception) as ei:
            c.predict(*args, api_name=api)
        msg = str(ei.value)
        assert "must be a whole number" in msg and REF.search(msg), (api, msg)


def test_leaderboard_refresh_no_longer_exports_every_battle(new_client, monkeypatch):
    """Every refresh of the Leaderboard tab (opening it, changing method or category, the public
    /leaderboard_view) built every voted battle as one list and a JSON file: 3.5 s and 15.6 MB at 20k battles, per
    visitor. The export now runs on request, streamed to one file that serves everyone for a minute."""
    import json as _json

    from backend.arena import service

    calls = []
    real = service.iter_clean_battle

    def counting(*a, **kw):
        calls.append(1)
        return real(*a, **kw)

    monkeypatch.setattr(service, "iter_clean_battle", counting)
    c = new_client()
    out = c.predict("bt", "overall", api_name="/leaderboard_view")
    assert len(out) == 6 and calls == []
    path, note = c.predict(api_name="/arena_battles_export")
    assert isinstance(_json.loads(open(path, encoding="utf-8").read()), list) and "as of" in note
    path2, _ = new_client().predict(api_name="/arena_battles_export")
    assert len(calls) == 1 and open(path2, "rb").read() == open(path, "rb").read()  # reused within the minute
    monkeypatch.setattr(service, "EXPORT_MAX_AGE_S", 0.0)
    monkeypatch.setattr(service.battles_export_file, "__defaults__", (0.0,))
    c.predict(api_name="/arena_battles_export")
    assert len(calls) == 2


def test_kept_anomaly_runs_expire_and_stay_under_a_budget(app_url):
    """A run's maps (≈ 4 MB per query at 768 px, up to 100 queries) live in the session's gr.State; Gradio keeps
    10,000 sessions and a script's session never closes, so runs were never freed. Now the state expires and all
    kept runs together stay under a budget (the oldest give their maps back)."""
    import gc
    from dataclasses import dataclass, field

    import numpy as np
    from gradio.components import State

    import app as app_module
    from apps import anomaly_handlers as h

    ttls = [b.time_to_live for b in app_module.demo.blocks.values() if isinstance(b, State)]
    assert h.RUN_TTL_S in ttls and h.RUN_TTL_S <= 3600

    @dataclass
    class Rec:
        query: np.ndarray = field(default_factory=lambda: np.zeros((100, 100, 3), np.uint8))  # 30 KB
        amap: np.ndarray = field(default_factory=lambda: np.zeros((100, 100), np.float32))   # 40 KB

    @dataclass
    class FakeRun:
        records: list = field(default_factory=lambda: [Rec() for _ in range(10)])  # 700 KB
        prompts: list = field(default_factory=list)

    h._kept.clear()
    runs = [FakeRun() for _ in range(4)]
    for r in runs:
        h.keep(r, budget=2_000_000)
    assert [len(r.records) for r in runs] == [0, 0, 10, 10]  # 4 × 700 KB > 2 MB: the two oldest gave theirs back
    del runs[2:], r
    gc.collect()
    newest = FakeRun()
    h.keep(newest, budget=2_000_000)
    assert len(h._kept) == 1 and len(newest.records) == 10  # runs Gradio freed are forgotten
    h._kept.clear()


def test_anomaly_rerenders_and_exports_are_rate_limited(new_client, monkeypatch):
    """Re-thresholding re-renders every overlay of a run and an export zips them: CPU work with no model, so no
    job pool limited them; a script could loop /anomaly_rethreshold or /anomaly_export_batch on the workers."""
    from apps import anomaly_handlers as h

    monkeypatch.setattr(h, "VIEWS_PER_MIN", 2)
    monkeypatch.setattr(h, "EXPORTS_PER_MIN", 1)
    c = new_client()
    prompts, queries = c.predict(api_name="/anomaly_example")
    c.predict([handle_file(p) for p in prompts], [handle_file(q) for q in queries], "knn", "256", 0, 0.5, 0.5,
              False, 1.0, api_name="/inspect_batch")
    for _ in range(2):
        c.predict(0, 0.3, 0.3, False, 1.0, api_name="/anomaly_rethreshold")
    with pytest.raises(Exception, match=r"Too many re-render requests.*\(ref [0-9a-f]{8}\)"):
        c.predict(0, 0.3, 0.3, False, 1.0, api_name="/anomaly_detail")
    c.predict(0.3, 0.3, False, 1.0, api_name="/anomaly_export_batch")
    with pytest.raises(Exception, match="Too many export requests"):
        c.predict(0, 0.3, 0.3, False, 1.0, api_name="/anomaly_export_one")


def test_pool_saves_are_rate_limited(new_client, tmp_path, monkeypatch):
    """Saving a pool stores a version each time, and shared ones reach every visitor's list: not limited before."""
    from PIL import Image

    from apps import anomaly_handlers as h

    monkeypatch.setattr(h, "POOL_SAVES_PER_MIN", 1)
    img = tmp_path / "good.png"
    Image.new("RGB", (32, 32), (1, 2, 3)).save(img)
    c = new_client()
    c.predict([handle_file(img)], "rate", "one", True, api_name="/anomaly_save_pool")
    with pytest.raises(Exception, match=r"Too many pool save requests.*\(ref "):
        c.predict([handle_file(img)], "rate", "two", True, api_name="/anomaly_save_pool")
