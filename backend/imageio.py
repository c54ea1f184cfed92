"""The one place user images are opened.

Formats are recognised by content (magic bytes via Pillow), never by file name. Limits on file
size and pixel count guard against decompression bombs; EXIF orientation is applied; every mode
(RGBA, LA, P, 16-bit, greyscale, CMYK) becomes 8-bit RGB. Errors are `ImageInputError` with a
sentence a user understands, so the UI can show them as they are.
"""
from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from backend.config import get_settings, setting
from backend.errors import UserError

ALLOWED_FORMATS = {"PNG", "JPEG", "WEBP", "BMP", "GIF", "TIFF", "MPO"}
MIN_SIDE = 8

ImageSource = Union[str, os.PathLike, bytes, bytearray, io.IOBase, Image.Image, np.ndarray]


class ImageInputError(UserError):
    """An image the user gave cannot be used; str(exc) is the message to show."""


def _human(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def to_rgb(img: Image.Image) -> Image.Image:
    """Any Pillow mode → 8-bit RGB; transparency is composited on white."""
    if img.mode == "RGB":
        return img
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        hi = arr.max() if arr.size else 1.0
        scale = 255.0 / (65535.0 if hi > 255 else max(hi, 1.0)) if hi > 255 else 1.0
        arr8 = np.clip(arr * scale, 0, 255).astype(np.uint8)
        return Image.fromarray(arr8, "L").convert("RGB")
    if img.mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
        arr8 = ((arr - lo) / (hi - lo + 1e-12) * 255).astype(np.uint8)
        return Image.fromarray(arr8, "L").convert("RGB")
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        bg = Image.new("RGB", rgba.size, (255, 255, 255))
        bg.paste(rgba, mask=rgba.getchannel("A"))
        return bg
    return img.convert("RGB")


def _check_pixels(w: int, h: int, max_pixels: int) -> None:
    if w * h > max_pixels:
        raise ImageInputError(
            f"The image is {w}×{h} = {w * h / 1e6:.1f} megapixels; the limit is {max_pixels / 1e6:.0f} megapixels. "
            "Please upload a smaller image."
        )
    if min(w, h) < MIN_SIDE:
        raise ImageInputError(f"The image is only {w}×{h} pixels; at least {MIN_SIDE} pixels per side are needed.")


def max_frame_pixels() -> int:
    """Cap on width × height × frames read from an image header (animated GIF/PNG/WebP, multi-page TIFF)."""
    return int(setting("MAX_FRAME_PIXELS"))


def check_header(img: Image.Image, label: str, max_pixels: int) -> None:
    """Limits from the header alone, before any pixel is decoded: format, width × height, × frames."""
    fmt = img.format or "?"
    if fmt not in ALLOWED_FORMATS:
        raise ImageInputError(f"{label} is a {fmt} file; please upload PNG, JPEG, WebP, BMP, GIF or TIFF.")
    _check_pixels(img.width, img.height, max_pixels)
    try:
        frames = int(getattr(img, "n_frames", 1) or 1)  # GIF: frame headers are skipped, not decoded
    except Exception as exc:
        raise ImageInputError(f"{label} looks like an image but is corrupt or truncated.") from exc
    cap = max_frame_pixels()
    if frames > 1 and img.width * img.height * frames > cap:
        raise ImageInputError(f"{label} has {frames} frames of {img.width}×{img.height} "
                              f"({img.width * img.height * frames / 1e6:.0f} megapixels in all); the limit is "
                              f"{cap / 1e6:.0f} megapixels. Please upload a single still image.")
    if frames > 1:
        img.seek(0)


def probe_image(src: str | os.PathLike | bytes, *, name: str | None = None, max_bytes: int | None = None,
                max_pixels: int | None = None) -> tuple[str, int, int]:
    """Check size, format and header limits of an image file WITHOUT decoding it; returns (format, w, h).

    Raises ImageInputError with the same sentences as `open_image`.
    """
    settings = get_settings()
    max_bytes = max_bytes or settings.max_upload_bytes
    max_pixels = max_pixels or settings.max_image_pixels
    if isinstance(src, (bytes, bytearray)):
        label = f"“{name}”" if name else "The file"
        data = bytes(src)
        if not data:
            raise ImageInputError(f"{label} is empty.")
        if len(data) > max_bytes:
            raise ImageInputError(f"{label} is larger than the upload limit of {_human(max_bytes)}.")
        fh = io.BytesIO(data)
    else:
        path = Path(src)
        label = f"“{name or path.name}”"
        if not path.is_file():
            raise ImageInputError(f"{label} was not found.")
        size = path.stat().st_size
        if size == 0:
            raise ImageInputError(f"{label} is empty.")
        if size > max_bytes:
            raise ImageInputError(f"{label} is {_human(size)}; the upload limit is {_human(max_bytes)}.")
        fh = path.open("rb")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with fh, Image.open(fh) as img:
                check_header(img, label, max_pixels)
                return img.format or "?", img.width, img.height
        except ImageInputError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageInputError(f"{label} declares an enormous size and was refused as a decompression bomb.") from exc
        except UnidentifiedImageError as exc:
            raise ImageInputError(f"{label} is not an image Pillow can read (PNG, JPEG, WebP, BMP, GIF, TIFF).") from exc
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise ImageInputError(f"{label} looks like an image but is corrupt or truncated.") from exc


def data_url_bytes(url: str, *, max_bytes: int | None = None) -> bytes:
    """Decode a `data:` URL after checking its length against the upload limit (so a huge one is never decoded)."""
    import base64
    import binascii

    max_bytes = max_bytes or get_settings().max_upload_bytes
    head, sep, body = url.partition(",")
    if not sep or not head.startswith("data:"):
        raise ImageInputError("The image data URL is malformed.")
    if len(body) > (max_bytes * 4) // 3 + 4:
        raise ImageInputError(f"The image is larger than the upload limit of {_human(max_bytes)}.")
    if not head.endswith(";base64"):
        raise ImageInputError("The image data URL must be base64-encoded.")
    try:
        data = base64.b64decode(body, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise ImageInputError("The image data URL is not valid base64.") from exc
    if len(data) > max_bytes:
        raise ImageInputError(f"The image is larger than the upload limit of {_human(max_bytes)}.")
    return data


def open_image(src: ImageSource, *, max_bytes: int | None = None, max_pixels: int | None = None,
               name: str | None = None) -> Image.Image:
    """Open and validate an image from a path, bytes, file object, PIL image or numpy array.

    Returns an RGB `PIL.Image` fully loaded in memory. Raises `ImageInputError`.
    """
    settings = get_settings()
    max_bytes = max_bytes or settings.max_upload_bytes
    max_pixels = max_pixels or settings.max_image_pixels
    label = f"“{name}”" if name else "The file"

    if src is None:
        raise ImageInputError("No image was given. Please upload an image first.")
    if isinstance(src, np.ndarray):
        arr = src
        if arr.ndim == 2:
            arr = np.stack([arr] * 3, axis=-1)
        if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4):
            raise ImageInputError(f"Expected an H×W×3 image array, got shape {arr.shape}.")
        if arr.dtype != np.uint8:
            if np.issubdtype(arr.dtype, np.floating) and arr.size and float(np.nanmax(arr)) <= 1.0:
                arr = arr * 255.0
            arr = np.clip(np.nan_to_num(arr), 0, 255).astype(np.uint8)
        if arr.shape[2] == 1:
            arr = np.repeat(arr, 3, axis=2)
        _check_pixels(arr.shape[1], arr.shape[0], max_pixels)
        return to_rgb(Image.fromarray(arr))
    if isinstance(src, Image.Image):
        _check_pixels(src.width, src.height, max_pixels)
        return to_rgb(ImageOps.exif_transpose(src) or src)

    if isinstance(src, (str, os.PathLike)):
        path = Path(src)
        label = f"“{name or path.name}”"
        if not path.is_file():
            raise ImageInputError(f"{label} was not found.")
        size = path.stat().st_size
        if size > max_bytes:
            raise ImageInputError(f"{label} is {_human(size)}; the upload limit is {_human(max_bytes)}.")
        data = path.read_bytes()
    elif isinstance(src, (bytes, bytearray)):
        data = bytes(src)
    else:
        data = src.read(max_bytes + 1)
    if len(data) == 0:
        raise ImageInputError(f"{label} is empty.")
    if len(data) > max_bytes:
        raise ImageInputError(f"{label} is larger than the upload limit of {_human(max_bytes)}.")

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data))
            check_header(img, label, max_pixels)  # format, pixels, frames: all before the decode below
            img.load()
        except ImageInputError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageInputError(f"{label} declares an enormous size and was refused as a decompression bomb."
                                  ) from exc
        except UnidentifiedImageError as exc:
            raise ImageInputError(f"{label} is not an image Pillow can read (PNG, JPEG, WebP, BMP, GIF, TIFF)."
                                  ) from exc
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise ImageInputError(f"{label} looks like an image but is corrupt or truncated.") from exc
    try:
        img = ImageOps.exif_transpose(img) or img
    except Exception:  # broken EXIF must not lose the image
        pass
    return to_rgb(img)


def downscale(img: Image.Image, max_side: int) -> tuple[Image.Image, float]:
    """Shrink so the longer side is at most `max_side`; returns (image, scale factor applied)."""
    long = max(img.size)
    if long <= max_side:
        return img, 1.0
    s = max_side / long
    return img.resize((max(1, round(img.width * s)), max(1, round(img.height * s))), Image.Resampling.LANCZOS), s
