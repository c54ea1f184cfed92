"""Unit tests of the pieces behind issue 16's limits: path resolution, header probing, zips, temp folders."""
from __future__ import annotations

import base64
import io
import os
import struct
import time
import zipfile

import pytest
from PIL import Image

from backend import tempfiles
from backend.imageio import ImageInputError, data_url_bytes, open_image, probe_image
from backend.zipsafe import ZipLimits, ZipSafetyError, extract_tree, read_images, resolve_inside


def test_resolve_inside_one_sentence_for_every_unreadable_case(tmp_path):
    root = tmp_path / "root"
    (root / "images" / "sub").mkdir(parents=True)
    (root / "images" / "ok.png").write_bytes(b"x")
    outside = tmp_path / "secret.png"
    outside.write_bytes(b"secret")
    os.symlink(outside, root / "images" / "link.png")
    os.symlink(tmp_path, root / "images" / "dirlink")
    assert resolve_inside(root, "ok.png", subdir="images") == root / "images" / "ok.png"
    messages = set()
    for bad in [str(outside), "../secret.png", "../../secret.png", "link.png", "dirlink/secret.png", "sub",
                "missing.png", "", "a\x00b", "C:/x.png", "~/x.png", "images/../../secret.png"]:
        with pytest.raises(ZipSafetyError) as ei:
            resolve_inside(root, bad, subdir="images")
        messages.add(str(ei.value).replace(f"“{bad[:120]}”", "“NAME”"))
    assert len(messages) == 1, messages


def _gif_bomb(frames: int, side: int) -> bytes:
    out = bytearray(b"GIF89a" + struct.pack("<HHBBB", side, side, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff")
    for _ in range(frames):
        out += b"\x2c" + struct.pack("<HHHHB", 0, 0, side, side, 0) + b"\x02\x01\x2c\x00"
    return bytes(out + b"\x3b")


def test_gif_frames_counted_from_the_header():
    with pytest.raises(ImageInputError, match="200 frames of 2000×2000"):
        probe_image(_gif_bomb(200, 2000), name="bomb.gif")
    with pytest.raises(ImageInputError, match="200 frames"):
        open_image(_gif_bomb(200, 2000), name="bomb.gif")
    assert probe_image(_gif_bomb(3, 100), name="small.gif") == ("GIF", 100, 100)


def test_pixel_limit_before_decode(monkeypatch):
    buf = io.BytesIO()
    Image.new("1", (9000, 5000)).save(buf, "PNG")  # 45 MP > 40 MP
    with pytest.raises(ImageInputError, match="megapixels"):
        probe_image(buf.getvalue())
    with pytest.raises(ImageInputError, match="is empty"):
        probe_image(b"")
    with pytest.raises(ImageInputError, match="not an image Pillow can read"):
        probe_image(b"<svg xmlns='http://www.w3.org/2000/svg'/>", name="x.png")


def test_data_url_sized_before_decoding():
    png = io.BytesIO()
    Image.new("RGB", (10, 10)).save(png, "PNG")
    url = "data:image/png;base64," + base64.b64encode(png.getvalue()).decode()
    assert data_url_bytes(url) == png.getvalue()
    with pytest.raises(ImageInputError, match="upload limit"):
        data_url_bytes("data:image/png;base64," + "A" * 200, max_bytes=100)
    with pytest.raises(ImageInputError, match="malformed"):
        data_url_bytes("nonsense")


def _png_bytes(side: int) -> bytes:
    b = io.BytesIO()
    Image.new("L", (side, side), 0).save(b, "PNG")
    return b.getvalue()


def test_read_images_counts_pixels_inside_the_zip_before_decoding(monkeypatch):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(5):
            zf.writestr(f"{i}.png", _png_bytes(1000))  # 1 MP each
    decoded = []
    import backend.zipsafe as zs

    real = zs.open_image
    monkeypatch.setattr(zs, "open_image", lambda *a, **k: decoded.append(1) or real(*a, **k))
    with pytest.raises(ZipSafetyError, match="more than 4 megapixels"):
        read_images(buf.getvalue(), max_total_pixels=4_000_000)
    assert decoded == []  # refused from the headers alone
    assert len(read_images(buf.getvalue(), max_total_pixels=5_000_000).images) == 5


def test_zip_size_lies_are_a_clear_message(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("a/x.bin", b"0123456789" * 10)
    raw = bytearray(buf.getvalue())
    raw[raw.find(b"0123456789") + 5] ^= 0xFF  # the CRC no longer matches the bytes
    with pytest.raises(ZipSafetyError, match="real size or checksum differs"):
        extract_tree(bytes(raw), tmp_path / "out", ZipLimits())


def test_request_dir_removed_and_scratch_swept(monkeypatch):
    with tempfiles.request_dir("t-") as d:
        (d / "f").write_bytes(b"x" * 100)
        assert d.is_dir()
    assert not d.exists()
    with pytest.raises(RuntimeError):
        with tempfiles.request_dir("t-") as d2:
            raise RuntimeError("boom")
    assert not d2.exists()
    s = tempfiles.scratch_dir("old-")
    old = time.time() - 3600
    os.utime(s, (old, old))
    fresh = tempfiles.scratch_dir("new-")
    assert tempfiles.sweep_temp(600) >= 1
    assert not s.exists() and fresh.exists()


def test_status_scrubs_absolute_paths():
    from apps.status import HIDDEN, _scrub, public_path
    from backend.config import REPO_ROOT

    assert public_path(str(REPO_ROOT / "static" / "x.pt"), False) == "static/x.pt"
    assert public_path("/etc/secret/dir", False) == HIDDEN
    assert public_path("/etc/secret/dir", True) == "/etc/secret/dir"
    assert "/etc" not in _scrub("weights not found at /etc/secret/w.bin (see docs)")
