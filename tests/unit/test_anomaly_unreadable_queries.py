"""review15: when every query file is unreadable the message said "Please upload at least one query image … Skipped:
empty.png (“empty.png” is empty.)." — as if nothing had been uploaded, and with each name twice."""
from __future__ import annotations

import pytest
from PIL import Image

from backend.anomaly import actions
from backend.errors import UserError


def test_unreadable_queries_are_named_once(tmp_path):
    prompt = tmp_path / "normal.png"
    Image.new("RGB", (64, 64), (120, 120, 120)).save(prompt)
    empty, fake = tmp_path / "empty.png", tmp_path / "fake.png"
    empty.write_bytes(b"")
    fake.write_text("not a png\n" * 20)
    with pytest.raises(UserError) as ei:
        actions.inspect([str(prompt)], [str(empty), str(fake)], engine="knn", resolution="256", top_k=0,
                        view=actions.ViewSettings(0.5, 0.5, False, 1.0))
    msg = str(ei.value)
    assert msg.startswith("No query image could be read: “empty.png” is empty; “fake.png” is not an image"), msg
    assert msg.count("empty.png") == 1 and ".)." not in msg and "at least one query image" in msg
