"""Zip safety: traversal, links, bombs and junk are handled before anything touches disk or memory."""
import io
import stat
import zipfile

import numpy as np
import pytest
from PIL import Image

from backend.anomaly.zipsafe import ZipLimits, ZipSafetyError, extract_tree, read_images, safe_member_name


def png(color=(10, 200, 30), size=(32, 24)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


def make_zip(entries: dict, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_reads_images_and_lists_skipped_files():
    z = make_zip({"b.png": png((0, 0, 255)), "a.png": png(), "notes.txt": b"hello",
                  "broken.png": b"\x89PNG\r\n\x1a\nxx",
                  "__MACOSX/._a.png": b"junk", "sub/.DS_Store": b"x", "sub/c.jpg": png()})
    res = read_images(z)
    assert [n for n, _ in res.images] == ["a.png", "b.png", "sub/c.jpg"]
    assert res.images[1][1].getpixel((0, 0)) == (0, 0, 255)
    skipped = dict(res.skipped)
    assert set(skipped) == {"notes.txt", "broken.png"}
    assert "not an image" in skipped["notes.txt"] and "not an image Pillow can read" in skipped["broken.png"]


@pytest.mark.parametrize("name", ["../evil.png", "a/../../evil.png", "/etc/evil.png", "C:/evil.png", "..\\evil.png"])
def test_path_traversal_is_rejected(name, tmp_path):
    z = make_zip({"ok.png": png(), name: png()})
    with pytest.raises(ZipSafetyError, match="absolute|leaves its folder"):
        read_images(z)
    with pytest.raises(ZipSafetyError):
        extract_tree(z, tmp_path / "out")
    assert not (tmp_path / "evil.png").exists()


def test_safe_member_name_normalises():
    assert safe_member_name("./a//b/./c.png") == "a/b/c.png"
    assert safe_member_name("dir\\x.png") == "dir/x.png"


def test_symlink_entry_is_rejected():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("link.png")
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(ZipSafetyError, match="symbolic link"):
        read_images(buf.getvalue())


def test_zip_bomb_by_ratio_is_rejected():
    z = make_zip({"bomb.png": b"\0" * (4 * 1024 * 1024)})
    assert len(z) < 50_000
    with pytest.raises(ZipSafetyError, match="zip bomb"):
        read_images(z)


def test_per_file_and_total_limits():
    z = make_zip({"a.png": png(size=(300, 300)), "b.png": png(size=(300, 300))}, compression=zipfile.ZIP_STORED)
    one = len(png(size=(300, 300)))
    with pytest.raises(ZipSafetyError, match="per-file limit"):
        read_images(z, ZipLimits(max_file_bytes=one - 1))
    with pytest.raises(ZipSafetyError, match="inflates to more than"):
        read_images(z, ZipLimits(max_total_bytes=one + 10))
    assert len(read_images(z, ZipLimits(max_total_bytes=2 * one + 10)).images) == 2


def test_too_many_entries_and_archive_size():
    z = make_zip({f"{i}.png": png() for i in range(6)})
    with pytest.raises(ZipSafetyError, match="6 entries"):
        read_images(z, ZipLimits(max_files=5))
    with pytest.raises(ZipSafetyError, match="the limit is"):
        read_images(z, ZipLimits(max_archive_bytes=100))


def test_not_a_zip_and_encrypted_flag():
    with pytest.raises(ZipSafetyError, match="not a valid zip"):
        read_images(b"this is not a zip at all")
    z = bytearray(make_zip({"a.png": png()}))
    # set the "encrypted" bit in the central directory entry
    cd = z.rfind(b"PK\x01\x02")
    z[cd + 8] |= 0x1
    with pytest.raises(ZipSafetyError, match="encrypted"):
        read_images(bytes(z))


def test_max_images_caps_batch():
    z = make_zip({f"{i}.png": png() for i in range(4)})
    res = read_images(z, max_images=2)
    assert len(res.images) == 2 and len(res.skipped) == 2 and "limit of 2" in res.skipped[0][1]


def test_extract_tree_unwraps_single_top_folder(tmp_path):
    z = make_zip({"mvtec/bottle/train/good/000.png": png(), "mvtec/bottle/test/good/000.png": png()})
    root = extract_tree(z, tmp_path / "x")
    assert root.name == "mvtec" and (root / "bottle" / "train" / "good" / "000.png").is_file()
    z2 = make_zip({"bottle/train/good/000.png": png(), "bottle/test/good/000.png": png()})
    root2 = extract_tree(z2, tmp_path / "y")
    assert (root2 / "bottle" / "train").is_dir()
    with pytest.raises(ZipSafetyError, match="no files"):
        extract_tree(make_zip({"empty/": b""}), tmp_path / "z")
    arr = np.asarray(Image.open(root / "bottle" / "train" / "good" / "000.png"))
    assert arr.shape == (24, 32, 3)
