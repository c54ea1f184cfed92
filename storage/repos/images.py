"""Images stored once by sha256 under DATA_DIR/images/ab/abcdef....png.

The bytes written are a PNG re-encoding of the decoded RGB image, which also strips EXIF
(location, camera serials) from anything users upload.
"""
from __future__ import annotations

import hashlib
import io
import os
import tempfile
from pathlib import Path

from PIL import Image
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.config import get_settings
from storage.models import ImageRow


def encode_png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def image_sha256(img: Image.Image) -> str:
    """Content hash of the decoded pixels (mode + size + raw bytes), independent of file format."""
    h = hashlib.sha256()
    h.update(f"{img.mode}:{img.width}x{img.height}:".encode())
    h.update(img.tobytes())
    return h.hexdigest()


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def store_image(s: Session, img: Image.Image, source: str | None = None) -> str:
    """Store `img` (already validated RGB) once; return its sha256."""
    sha = image_sha256(img)
    if s.get(ImageRow, sha) is not None:
        return sha
    settings = get_settings()
    rel = Path("images") / sha[:2] / f"{sha}.png"
    full = settings.data_dir / rel
    data = encode_png(img)
    if not full.exists():
        _atomic_write(full, data)
    try:
        with s.begin_nested():  # another request may insert the same image concurrently
            s.add(ImageRow(sha256=sha, path=str(rel), width=img.width, height=img.height, bytes=len(data),
                           source=(source or "")[:256] or None))
    except IntegrityError:
        pass
    return sha


def image_path(s: Session, sha: str) -> Path | None:
    row = s.get(ImageRow, sha)
    return (get_settings().data_dir / row.path) if row else None


def load_image(s: Session, sha: str) -> Image.Image | None:
    p = image_path(s, sha)
    if p is None or not p.exists():
        return None
    with Image.open(p) as im:
        return im.convert("RGB")
