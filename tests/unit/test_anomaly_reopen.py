"""After a page refresh a user could not get back to an inspection they ran ("Saved as inspection #N" was all they
had). "Your recent inspections" lists the session's own stored inspections and Reopen puts the stored prompt and query
images, the settings and the stored results back; another session's id, a missing id and images that are no longer
stored are each answered with a sentence."""
from __future__ import annotations

import pytest
from PIL import Image

from backend.anomaly import history
from backend.errors import UserError
from storage.repos import anomaly as repo
from storage.repos.images import image_path, store_image


def _img(v: int) -> Image.Image:
    return Image.new("RGB", (24, 16), (v, 40, 90))


def _inspect(st, session_id, *, engine="knn", names=("scratch.jpg", "good.png"), verdicts=("NG", "OK"), base=0):
    def _w(s):
        prompts = [store_image(s, _img(base + 1))]
        results = [{"filename": n, "query_sha": store_image(s, _img(base + 10 + i)), "prompt_sha": prompts[0],
                    "prompt_similarity": 0.9, "score": 0.1 * (i + 1), "verdict": v, "ms": 1.0, "regions": []}
                   for i, (n, v) in enumerate(zip(names, verdicts, strict=True))]
        return repo.add_inspection(s, session_id=session_id, engine=engine, size=512, tiled=False, retrieval_k=3,
                                   image_threshold=0.42, pixel_threshold=0.37, prompt_shas=prompts, results=results)
    return st.write(_w)


@pytest.fixture
def st(tmp_path, storage_for, monkeypatch):
    st = storage_for(f"sqlite:///{tmp_path / 'h.db'}")
    monkeypatch.setattr(history, "get_storage", lambda: st)
    return st


def test_the_list_holds_only_this_sessions_inspections_newest_first(st):
    mine = [_inspect(st, "me", base=i) for i in range(3)]
    theirs = _inspect(st, "other", base=50)
    _inspect(st, None, base=60)  # no session: nobody's
    listed = history.recent("me")
    assert [i for _, i in listed] == mine[::-1]
    assert "2 queries · 1 NG / 1 OK" in listed[0][0] and listed[0][0].startswith(f"#{mine[-1]} ·")
    assert [i for _, i in history.recent("other")] == [theirs]
    assert history.recent(None) == [] and history.recent("") == []
    for i in range(25):
        _inspect(st, "me", base=i)
    assert len(history.recent("me")) == history.RECENT_MAX == 20


def test_reopen_returns_the_stored_files_settings_and_results(st):
    iid = _inspect(st, "me")
    r = history.reopen(iid, "me")
    assert [Image.open(p).convert("RGB").getpixel((0, 0)) for p in r.prompts] == [(1, 40, 90)]
    assert [p.rsplit("/", 1)[1] for p in r.queries] == ["scratch.png", "good.png"]
    assert [Image.open(p).convert("RGB").getpixel((0, 0)) for p in r.queries] == [(10, 40, 90), (11, 40, 90)]
    assert (r.engine, r.resolution, r.top_k, r.image_threshold, r.pixel_threshold) == ("knn", "512", 3, 0.42, 0.37)
    assert r.rows == [{"filename": "scratch.jpg", "score": 0.1, "verdict": "NG"},
                      {"filename": "good.png", "score": 0.2, "verdict": "OK"}]
    assert f"Stored results of inspection #{iid}; press **Inspect** to redraw the maps" in r.message
    assert history.reopen(f"#{iid}", "me").queries == r.queries  # one copy, however often reopened


@pytest.mark.parametrize("who", ["other", None, ""])
def test_another_sessions_or_a_missing_inspection_is_refused(st, who):
    iid = _inspect(st, "me")
    with pytest.raises(UserError, match=f"Inspection #{iid} is not one of this browser session's inspections"):
        history.reopen(iid, who)
    with pytest.raises(UserError, match="Inspection #999999 is not one of"):
        history.reopen(999999, "me")  # a missing id reads exactly like another session's
    for junk in (None, "", "abc", [1], {"id": 1}, True, "1" * 40):
        with pytest.raises(UserError, match="Please choose one of your recent inspections first"):
            history.reopen(junk, "me")


def test_images_no_longer_stored_keep_the_inputs_and_say_so(st):
    iid = _inspect(st, "me", engine="some-retired-engine")
    gone = st.read(lambda s: image_path(s, repo.get_inspection(s, iid)["results"][1]["query_sha"]))
    gone.unlink()
    r = history.reopen(iid, "me")
    assert r.prompts is None and r.queries is None and r.engine is None
    assert "1 of its 3 images are no longer stored" in r.message
    assert "“some-retired-engine” is not offered here" in r.message
    assert [x["verdict"] for x in r.rows] == ["NG", "OK"]  # the stored results are still shown


def test_the_reopen_handler_fills_the_inputs_and_a_refusal_is_a_sentence(st):
    import gradio as gr

    from apps import anomaly_handlers as h

    iid = _inspect(st, "anonymous")  # an in-process call without a request is the "anonymous" session
    prompts, queries, engine, res, k, ithr, pthr, table, msg = h.reopen_inspection(iid)
    assert len(prompts) == 1 and len(queries) == 2 and (engine, res, k, ithr, pthr) == ("knn", "512", 3, 0.42, 0.37)
    assert list(table["verdict"]) == ["NG", "OK"] and "press **Inspect**" in msg
    with pytest.raises(gr.Error, match="not one of this browser session's inspections"):
        h.reopen_inspection(_inspect(st, "someone-else"))
