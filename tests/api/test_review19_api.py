"""review19: an API-level attacker's review (raw HTTP against the launched app) and database failure modes. Each
test fails on the code before the fix it names."""
from __future__ import annotations

import pytest
from gradio_client.exceptions import AppError
from PIL import Image

from tests.api.test_trust_limits import _fn_index, _join, _upload, browser_like


def test_saving_an_anomaly_correction_is_rate_limited_before_its_editor_image_is_decoded(app_url, tmp_path,
                                                                                           monkeypatch, fresh_limits):
    """`anomaly_save_correction` takes an image-editor value, which Gradio decodes (background, layers and
    composite, up to 40 MP each) before the handler's own save limit runs, in the default pool of 4: a script sent
    a 36 MP editor value 25 times in a row and every call decoded it (1.5-5 s of CPU each) with no refusal. Now it
    is an `image_open` job: the third call in a minute (JOB_IMAGE_OPEN=1,2 here) is refused at the door, HTTP 429."""
    monkeypatch.setenv("JOB_IMAGE_OPEN", "1,2")
    photo = tmp_path / "q.png"
    Image.new("RGB", (64, 48), (120, 130, 140)).save(photo)
    h = browser_like(app_url)
    fn = _fn_index(app_url, "anomaly_save_correction")

    def editor() -> dict:
        fd = _upload(h, app_url, str(photo))
        return {"background": fd, "layers": [], "composite": fd}

    for i in range(2):
        out = _join(h, app_url, fn, [None, None, editor(), "widget", "scratch"], f"r19-corr-{i}")
        assert not out.startswith("HTTP") and "Run an inspection first" in out, out[:300]
    out = _join(h, app_url, fn, [None, None, editor(), "widget", "scratch"], "r19-corr-x")
    assert out.startswith("HTTP 429") and "Too many" in out, out[:300]


def test_every_event_that_decodes_an_image_editor_value_is_a_job():
    """The events whose inputs Gradio decodes before any handler runs (image editors) are all job classes, so none
    opens a client's image outside the job gate's rate limits."""
    import app as app_module
    from apps.common import CheckedImageEditor
    from backend.config import job_pools

    loose = [fn.api_name or getattr(fn.fn, "__name__", "?") for fn in app_module.demo.fns.values()
             if any(isinstance(b, CheckedImageEditor) for b in fn.inputs) and fn.concurrency_id not in job_pools()]
    assert loose == []


def test_an_svg_vote_is_only_on_one_blind_comparisons_pair(new_client):
    """`/svg_vote` took any two of the session's own candidates from different engines and stored the vote as blind,
    counted in the SVG engine ratings: candidates of two plain generations, whose engines the user picked and saw
    (and, with n candidates each, n x n votes from two calls), or of two prompts. Now only the two candidates of one
    comparison (`/svg_compare`, which draws the shown order) take a vote."""
    style = ["Installed set/variant", "phosphor/bold", None, "outline", 2.0, "round", "round", 2.0, 24,
             "currentColor"]
    c = new_client()
    c.predict("bell", *style, "svg-retrieval", 1, 0, api_name="/svg_generate")
    c.predict("cat", *style, "svg-pathdiffusion", 1, 0, api_name="/svg_generate")
    g2, g1 = (int(row[0]) for row in c.predict(api_name="/svg_history")["data"][:2])
    a = c.predict(g1, api_name="/svg_candidates")[0]["id"]
    b = c.predict(g2, api_name="/svg_candidates")[0]["id"]
    with pytest.raises(AppError, match="one blind comparison"):
        c.predict(a, b, "model_a", api_name="/svg_vote")
    c.predict("bell", *style, "svg-retrieval", "svg-pathdiffusion", 0, api_name="/svg_compare")
    cands = c.predict(int(c.predict(api_name="/svg_history")["data"][0][0]), api_name="/svg_candidates")
    from storage.db import get_storage
    from storage.repos.svg import get_candidate

    # the engines are hidden until the vote (svgapi): the test reads them from storage, which a client cannot
    retrieval = next(x["id"] for x in cands
                     if get_storage().read(lambda s, i=x["id"]: get_candidate(s, i))["engine"] == "svg-retrieval")
    with pytest.raises(AppError, match="one blind comparison"):  # the pair's retrieval icon with a plain one
        c.predict(retrieval, b, "model_a", api_name="/svg_vote")  # b: svg-pathdiffusion, of the "cat" generation
    assert "saved" in c.predict(*(x["id"] for x in cands), "tie", api_name="/svg_vote")


@pytest.mark.parametrize("api,args", [("anomaly_save_pool", lambda many: [many, "w", "long-list", False]),
                                      ("inspect_one", lambda many: [many[:1], many, "knn", "256", 0, 0.2, 0.15,
                                                                    False, 0.5])])
def test_a_list_of_thousands_of_files_is_refused_before_queueing(app_url, tmp_path, fresh_limits, api, args):
    """One uploaded file named 50,000 times in a list (5 MB of JSON): Gradio checked every entry before the
    handler's own cap ("at most 100 …"), ~25 s of server time per request, for the non-job `anomaly_save_pool`
    (whose save limit runs in the handler) as for jobs. Now any list over 1,000 items is refused at the door."""
    import time

    photo = tmp_path / "p.png"
    Image.new("RGB", (16, 16), (1, 2, 3)).save(photo)
    h = browser_like(app_url)
    many = [_upload(h, app_url, str(photo))] * 1500
    t0 = time.monotonic()
    r = h.post(app_url + f"gradio_api/call/{api}", json={"data": args(many)})
    assert r.status_code == 413 and "1500 items; the limit is 1000" in r.json()["detail"], r.text[:300]
    assert time.monotonic() - t0 < 5


def test_loading_a_battle_into_the_annotator_is_rate_limited_before_queueing(app_url, client, photo, monkeypatch,
                                                                              fresh_limits):
    """`bench_load_battle` decodes the stored battle photo and re-encodes it as the editor's value (~1.3 s for a
    36 MP photo) in the default pool, with no limit: one battle, then the same id again and again. Now it is an
    `image_open` job: the third call in a minute (JOB_IMAGE_OPEN=1,2 here) is refused at the door, HTTP 429."""
    from gradio_client import handle_file

    bid = client.predict(handle_file(photo), "Point to the ball", api_name="/new_battle")[0]
    monkeypatch.setenv("JOB_IMAGE_OPEN", "1,2")
    h = browser_like(app_url)
    h.cookies.update(dict(client.cookies))  # the battle's own session
    outs = []
    for _ in range(3):
        r = h.post(app_url + "gradio_api/call/bench_load_battle", json={"data": [bid]})
        outs.append(f"HTTP {r.status_code}: {r.text}" if r.status_code != 200 else
                    h.get(app_url + f"gradio_api/call/bench_load_battle/{r.json()['event_id']}").text)
    assert all("event: complete" in o for o in outs[:2]), outs[:2]
    assert outs[2].startswith("HTTP 429") and "Too many" in outs[2], outs[2][:300]


def test_rerendering_a_kept_anomaly_run_is_a_job_of_its_own(app_url, monkeypatch, fresh_limits):
    """Re-threshold, detail and exports re-render a kept run with no model call, but a 100-query run re-rendered
    every overlay (~40 s per call on the 2-core box) and the handler allowed 240 a minute, in the default pool of 4
    that every other quick event shares. Now they are one job class, `anomaly_view` (its own small pool), and the
    third call in a minute (JOB_ANOMALY_VIEW=1,2 here) is refused at the door with HTTP 429."""
    import app as app_module
    from apps import anomaly_handlers as ah

    viewers = [fn for fn in app_module.demo.fns.values()
               if getattr(fn.fn, "__wrapped__", fn.fn) in (ah.rethreshold.__wrapped__, ah.detail.__wrapped__,
                                                          ah.export_batch.__wrapped__, ah.export_one.__wrapped__)]
    assert len(viewers) >= 8 and {fn.concurrency_id for fn in viewers} == {"anomaly_view"}

    monkeypatch.setenv("JOB_ANOMALY_VIEW", "1,2")
    h = browser_like(app_url)
    outs = []
    for _ in range(3):
        r = h.post(app_url + "gradio_api/call/anomaly_rethreshold", json={"data": ["0", 0.3, 0.2, False, 0.5]})
        outs.append(f"HTTP {r.status_code}: {r.text}" if r.status_code != 200 else
                    h.get(app_url + f"gradio_api/call/anomaly_rethreshold/{r.json()['event_id']}").text)
    assert all("Run an inspection first" in o for o in outs[:2]), outs[:2]
    assert outs[2].startswith("HTTP 429") and "Too many" in outs[2], outs[2][:300]
