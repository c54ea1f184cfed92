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
