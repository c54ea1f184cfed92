"""Photo 3D Edit: Gradio fires a replaced photo's `.change` twice (review15)."""
from __future__ import annotations

import gradio as gr


def test_a_repeated_photo_change_is_skipped_once():
    """apps.edit3d_handlers.on_upload: the same photo's second `.change` within a few seconds does nothing; another
    tab, another photo, or the same photo after a removal is handled."""
    from apps import edit3d_handlers as h

    a, b = gr.Request(session_hash="tab-a"), gr.Request(session_hash="tab-b")
    assert not h._repeated("/p/1.png", a) and h._repeated("/p/1.png", a)
    assert not h._repeated("/p/1.png", b) and not h._repeated("/p/2.png", a)
    assert not h._repeated(None, a) and not h._repeated("/p/2.png", a)
    assert not h._repeated("/p/3.png", None) and not h._repeated("/p/3.png", None)


def test_a_copied_session_hash_does_not_skip_another_visitors_upload():
    """The tab key is the client's `session_hash`; two visitors (different server-issued cookies) sending the same
    hash and the same photo path are two tabs, so neither upload is skipped."""
    from apps import edit3d_handlers as h
    from backend.identity import COOKIE_NAME, new_session

    def req(cookie: str) -> gr.Request:
        return gr.Request(session_hash="copied-hash", headers={"cookie": f"{COOKIE_NAME}={cookie}"})

    victim, attacker = req(new_session()[1]), req(new_session()[1])
    assert not h._repeated("/p/shared.png", attacker)
    assert not h._repeated("/p/shared.png", victim)
    assert h._repeated("/p/shared.png", victim)  # the victim's own second `.change` is still skipped
