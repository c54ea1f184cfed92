import io

import numpy as np
import pytest
from PIL import Image

from backend.imageio import ImageInputError, open_image, to_rgb


def _png(img: Image.Image, fmt="PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def test_modes_become_rgb():
    for mode in ("L", "RGBA", "LA", "P", "CMYK", "I;16", "1"):
        img = Image.new(mode, (20, 10))
        out = open_image(_png(img) if mode not in ("CMYK",) else _png(img, "JPEG"))
        assert out.mode == "RGB" and out.size == (20, 10)


def test_16bit_scaled_not_clipped():
    arr = (np.arange(100, dtype=np.uint16).reshape(10, 10) * 600)
    img = Image.fromarray(arr, mode="I;16")
    out = np.asarray(to_rgb(img))
    assert out.max() > 200 and out.min() == 0


def test_rgba_composited_on_white():
    img = Image.new("RGBA", (10, 10), (255, 0, 0, 0))
    assert open_image(_png(img)).getpixel((0, 0)) == (255, 255, 255)


def test_exif_orientation_applied():
    img = Image.new("RGB", (30, 10), (0, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° CW when displayed
    out = open_image(_png(img, "JPEG", exif=exif.tobytes()))
    assert out.size == (10, 30)


def test_format_by_content_not_name(tmp_path):
    p = tmp_path / "photo.txt"
    p.write_bytes(_png(Image.new("RGB", (16, 16))))
    assert open_image(p).size == (16, 16)


@pytest.mark.parametrize("data, msg", [
    (b"", "empty"),
    (b"hello, this is not an image at all", "not an image"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not an image"),
])
def test_bad_bytes(data, msg):
    with pytest.raises(ImageInputError, match=msg):
        open_image(data)


def test_truncated_image():
    data = _png(Image.new("RGB", (200, 200), (10, 20, 30)), "JPEG")[:300]
    with pytest.raises(ImageInputError, match="corrupt|truncated|not an image"):
        open_image(data)


def test_size_limits():
    with pytest.raises(ImageInputError, match="upload limit"):
        open_image(b"x" * 2000, max_bytes=1000)
    with pytest.raises(ImageInputError, match="megapixels"):
        open_image(_png(Image.new("RGB", (300, 300))), max_pixels=10_000)
    with pytest.raises(ImageInputError, match="at least"):
        open_image(_png(Image.new("RGB", (3, 3))))


def test_decompression_bomb_header():
    # A PNG whose header claims 100k × 100k pixels but whose data is tiny.
    img = Image.new("1", (100_000, 100_000))
    with pytest.raises(ImageInputError, match="megapixels|bomb"):
        open_image(_png(img))


def test_numpy_and_missing(tmp_path):
    assert open_image(np.zeros((12, 12), dtype=np.float32)).size == (12, 12)
    with pytest.raises(ImageInputError, match="No image"):
        open_image(None)
    with pytest.raises(ImageInputError, match="not found"):
        open_image(tmp_path / "nope.png")
