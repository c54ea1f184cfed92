"""The annotator editor's change and upload events both fire for one upload; an image the app refuses (1×10000 px)
failed both and its sentence showed twice ("(2)" on the toast). apps.bench_handlers.editor_listener says it once
per session within REPORT_WINDOW_S (the browser side: tests/e2e/test_polish_e2e.py)."""
from __future__ import annotations

from types import SimpleNamespace

import gradio as gr
import pytest
from PIL import Image

from apps import bench_handlers as h
from apps.common import editor_input


def _payload(path) -> dict:
    return {"background": {"path": str(path), "orig_name": path.name, "meta": {"_type": "gradio.FileData"}},
            "layers": [], "composite": None, "id": None}


@pytest.fixture
def editor():
    return editor_input(type="pil", format="png", image_mode="RGBA", transforms=(), layers=False)


def test_a_refused_image_is_reported_once_per_session(tmp_path, editor):
    tall = tmp_path / "tall.png"
    Image.new("RGB", (1, 10000)).save(tall)
    on_editor = h.editor_listener(editor)
    alice, bob = SimpleNamespace(session_hash="alice-1"), SimpleNamespace(session_hash="bob-1")
    with pytest.raises(gr.Error, match=r"only 1×10000 pixels.*\(ref [0-9a-f]{8}\)"):
        on_editor(_payload(tall), "", alice)  # the change event
    repeat = on_editor(_payload(tall), "", alice)  # the upload event: nothing changes, nothing is said
    assert len(repeat) == 4 and all(isinstance(x, dict) for x in repeat)
    with pytest.raises(gr.Error, match="only 1×10000 pixels"):
        on_editor(_payload(tall), "", bob)  # another session is told


def test_the_window_expires(monkeypatch):
    t = [1000.0]
    monkeypatch.setattr(h.time, "monotonic", lambda: t[0])
    assert h.first_report("s-window", "Too big. (ref 0123abcd)")
    assert not h.first_report("s-window", "Too big. (ref 89abcdef)")  # same sentence, another ref
    assert h.first_report("s-window", "Too small. (ref 89abcdef)")  # another sentence
    t[0] += h.REPORT_WINDOW_S + 0.1
    assert h.first_report("s-window", "Too big. (ref 0123abcd)")  # later: said again


def test_a_usable_image_still_reaches_the_click_view(tmp_path, editor):
    good = tmp_path / "good.png"
    Image.new("RGB", (40, 30), (10, 200, 30)).save(good)
    note, pick, clicks, key = h.editor_listener(editor)(_payload(good), "", SimpleNamespace(session_hash="c"))
    assert "Nothing marked yet" in note and pick.shape == (30, 40, 3) and clicks == "[]" and key
    empty = h.editor_listener(editor)(None, key, SimpleNamespace(session_hash="c"))
    assert all(isinstance(x, dict) for x in empty)


def test_a_copied_session_hash_does_not_silence_another_visitors_report(tmp_path, editor):
    """The once-per-session key held only the client's `session_hash`: a script that sent a refused image under a
    copied hash made the visitor's own report of the same refusal be swallowed for REPORT_WINDOW_S. The key also
    holds the server-issued session (apps.common.tab_key)."""
    from backend.identity import COOKIE_NAME, new_session

    def req(cookie: str) -> gr.Request:
        return gr.Request(session_hash="copied-hash", headers={"cookie": f"{COOKIE_NAME}={cookie}"})

    tall = tmp_path / "tall.png"
    Image.new("RGB", (1, 10000)).save(tall)
    on_editor = h.editor_listener(editor)
    victim, attacker = req(new_session()[1]), req(new_session()[1])
    with pytest.raises(gr.Error, match="only 1×10000 pixels"):
        on_editor(_payload(tall), "", attacker)
    with pytest.raises(gr.Error, match="only 1×10000 pixels"):
        on_editor(_payload(tall), "", victim)  # the visitor is still told
    assert len(on_editor(_payload(tall), "", victim)) == 4  # and told once
