"""review19: `/anomaly_load_pool` decoded every image of the pool on every call (a shared pool of ten 6000² images:
~5 s of server CPU per call, no rate limit, and any visitor may load a shared pool). Loading now hands out copies of
the stored PNG files, byte for byte, without decoding them."""
from __future__ import annotations

import PIL.Image
from PIL import Image

from backend.anomaly import actions, collection


def test_loading_a_pool_decodes_nothing(tmp_path, storage_for, monkeypatch):
    st = storage_for(f"sqlite:///{tmp_path / 'p.db'}")
    monkeypatch.setattr(collection, "get_storage", lambda: st)
    imgs = [Image.new("RGB", (40, 30), (i * 60, 20, 30)) for i in range(3)]
    collection.save_pool("cap", "line", imgs, session_id="owner", shared=True)
    stored = [p.read_bytes() for p in collection.load_pool("cap / line", session_id="visitor")[1]]

    opened: list[str] = []
    real_open = PIL.Image.open

    def counting_open(fp, *a, **k):
        opened.append(str(fp))
        return real_open(fp, *a, **k)

    monkeypatch.setattr(PIL.Image, "open", counting_open)
    for _ in range(2):
        paths, msg = actions.load_pool("cap / line", session_id="visitor")
        assert len(paths) == 3 and "3 image(s)" in msg
    assert opened == []
    monkeypatch.setattr(PIL.Image, "open", real_open)
    assert [open(p, "rb").read() for p in paths] == stored
    assert [Image.open(p).convert("RGB").getpixel((0, 0)) for p in paths] == [(i * 60, 20, 30) for i in range(3)]
