"""Reading user zips without trusting them.

A zip from a browser can hold path traversal (`../../etc/x`, absolute names, symlinks), zip bombs
(a tiny archive that declares or really inflates to gigabytes, or millions of entries) and files
that are not images. Everything here checks the central directory first (entry count, declared
sizes, compression ratio, names) and then counts the bytes actually inflated, because declared
sizes can lie. Unsafe archives are rejected as a whole (`ZipSafetyError`, a sentence for users);
harmless junk (a README, a corrupt PNG, `__MACOSX/` metadata) is skipped and listed instead.
"""
from __future__ import annotations

import io
import os
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Union

from PIL import Image

from backend.errors import UserError
from backend.imageio import ImageInputError, open_image

ZipSource = Union[str, os.PathLike, bytes, bytearray, io.IOBase]
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif"}
_JUNK_PREFIXES = ("__MACOSX/",)
_JUNK_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}


class ZipSafetyError(UserError):
    """The archive is unsafe or unusable as a whole; str(exc) is the message to show."""


class ZipDamagedError(ZipSafetyError):
    """One entry's real bytes disagree with what the zip declares (size or CRC), or it is truncated."""


@dataclass(frozen=True)
class ZipLimits:
    """Bounds that keep one upload from filling memory or disk."""
    max_files: int = 2000
    max_total_bytes: int = 512 * 1024 * 1024   # inflated, all entries together
    max_file_bytes: int = 25 * 1024 * 1024     # inflated, one entry
    max_ratio: float = 200.0                   # inflated / compressed, per entry (PNG rarely exceeds ~20)
    max_archive_bytes: int = 256 * 1024 * 1024


@dataclass
class ZipImages:
    images: list[tuple[str, Image.Image]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (name, why)


def _human(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n}"


def _open(src: ZipSource, limits: ZipLimits) -> zipfile.ZipFile:
    if isinstance(src, (bytes, bytearray)):
        if len(src) > limits.max_archive_bytes:
            raise ZipSafetyError(f"The zip is {_human(len(src))}; the limit is {_human(limits.max_archive_bytes)}.")
        fh: io.IOBase | str = io.BytesIO(bytes(src))
        label = "The zip"
    elif isinstance(src, (str, os.PathLike)):
        p = Path(src)
        label = f"“{p.name}”"
        if not p.is_file():
            raise ZipSafetyError(f"{label} was not found.")
        if p.stat().st_size > limits.max_archive_bytes:
            raise ZipSafetyError(f"{label} is {_human(p.stat().st_size)}; the limit is "
                                 f"{_human(limits.max_archive_bytes)}.")
        fh = str(p)
    else:
        fh = src
        label = "The zip"
    try:
        return zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        raise ZipSafetyError(f"{label} is not a valid zip archive; please re-create it and upload it again.") from exc
    except OSError as exc:
        raise ZipSafetyError(f"{label} could not be read; please upload it again.") from exc


def safe_member_name(name: str) -> str:
    """Normalise an entry name to a relative POSIX path, or raise if it escapes the extraction root."""
    raw = name.replace("\\", "/")
    if raw.startswith("/") or (len(raw) > 1 and raw[1] == ":") or "\x00" in raw:
        raise ZipSafetyError(f"The zip contains an absolute path ({name!r}); it was refused.")
    parts = [p for p in PurePosixPath(raw).parts if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise ZipSafetyError(f"The zip contains a path that leaves its folder ({name!r}); it was refused.")
    return "/".join(parts)


UNREADABLE = "“{name}” is not a readable file inside the uploaded archive; file names must be plain relative paths."


def resolve_inside(root: str | os.PathLike, name: object, *, subdir: str | None = None) -> Path:
    """The regular file `name` inside `root` (optionally under `root/subdir`), or ZipSafetyError.

    Absolute names, drive letters, `..`, NUL bytes, symlinks anywhere on the way, directories, missing and
    unreadable files all get the SAME sentence, so the message is no oracle for what exists on the server.
    """
    shown = str(name)[:120]
    err = ZipSafetyError(UNREADABLE.format(name=shown))
    if not isinstance(name, str) or not name or "\x00" in name:
        raise err
    raw = name.replace("\\", "/")
    if raw.startswith("/") or (len(raw) > 1 and raw[1] == ":") or raw.startswith("~"):
        raise err
    parts = [p for p in PurePosixPath(raw).parts if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts):
        raise err
    base = Path(root)
    if subdir:
        parts = [p for p in PurePosixPath(subdir).parts if p not in ("", ".")] + parts
    cur = base
    for part in parts:
        cur = cur / part
        try:
            st = os.lstat(cur)
        except (OSError, ValueError):
            raise err from None
        if stat.S_ISLNK(st.st_mode):
            raise err
    if not stat.S_ISREG(st.st_mode) or not os.access(cur, os.R_OK):
        raise err
    real_root = base.resolve()
    if real_root not in cur.resolve().parents:
        raise err
    return cur


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16)


def _is_junk(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return name.startswith(_JUNK_PREFIXES) or base in _JUNK_NAMES or base.startswith("._")


def check_archive(zf: zipfile.ZipFile, limits: ZipLimits = ZipLimits()) -> list[zipfile.ZipInfo]:
    """Validate the central directory; return the file entries (directories and junk dropped)."""
    infos = zf.infolist()
    if len(infos) > limits.max_files:
        raise ZipSafetyError(f"The zip has {len(infos)} entries; the limit is {limits.max_files}.")
    total = 0
    files = []
    for info in infos:
        name = safe_member_name(info.filename)
        if _is_symlink(info):
            raise ZipSafetyError(f"The zip contains a symbolic link ({info.filename!r}); it was refused.")
        if info.is_dir() or not name:
            continue
        if info.flag_bits & 0x1:
            raise ZipSafetyError(f"“{name}” is encrypted; please upload an unencrypted zip.")
        if info.file_size > limits.max_file_bytes:
            raise ZipSafetyError(f"“{name}” inflates to {_human(info.file_size)}; the per-file limit is "
                                 f"{_human(limits.max_file_bytes)}.")
        if info.compress_size and info.file_size / info.compress_size > limits.max_ratio and info.file_size > 1 << 20:
            raise ZipSafetyError(f"“{name}” is compressed {info.file_size / info.compress_size:.0f}:1, which looks "
                                 "like a zip bomb; it was refused.")
        total += info.file_size
        if total > limits.max_total_bytes:
            raise ZipSafetyError(f"The zip inflates to more than {_human(limits.max_total_bytes)}; "
                                 "please upload fewer or smaller files.")
        if _is_junk(name):
            continue
        files.append(info)
    return files


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ZipLimits, budget: list[int]) -> bytes:
    """Inflate one entry, counting real bytes (declared sizes are not trusted)."""
    cap = min(limits.max_file_bytes, budget[0], max(info.file_size, 0))
    out = bytearray()
    try:
        with zf.open(info) as fh:
            while True:
                chunk = fh.read(1 << 16)
                if not chunk:
                    break
                out += chunk
                if len(out) > cap:
                    raise ZipSafetyError(f"“{info.filename}” inflates beyond its declared size or the limit "
                                         f"({_human(cap)}); the zip was refused as a possible zip bomb.")
    except ZipSafetyError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, RuntimeError, zlib.error) as exc:
        raise ZipDamagedError(f"“{info.filename}” in the zip is damaged: its real size or checksum differs from "
                              "what the zip declares. Please re-create the zip and upload it again.") from exc
    if len(out) != info.file_size:
        raise ZipDamagedError(f"“{info.filename}” in the zip is damaged: its real size or checksum differs from "
                              "what the zip declares. Please re-create the zip and upload it again.")
    budget[0] -= len(out)
    return bytes(out)


def read_images(src: ZipSource, limits: ZipLimits = ZipLimits(), max_images: int | None = None,
                max_total_pixels: int | None = None) -> ZipImages:
    """All images in the zip, in name order; other and broken files are skipped and listed.

    With `max_total_pixels`, every entry's header is read first (nothing decoded) and the archive is refused
    when its images hold more pixels together than that — a batch cap counted per image inside the zip.
    """
    result = ZipImages()
    with _open(src, limits) as zf:
        files = check_archive(zf, limits)
        if max_total_pixels is not None:
            _check_total_pixels(zf, files, limits, max_images, max_total_pixels)
        budget = [limits.max_total_bytes]
        for info in sorted(files, key=lambda i: i.filename):
            name = safe_member_name(info.filename)
            if Path(name).suffix.lower() not in IMAGE_SUFFIXES:
                result.skipped.append((name, "not an image file"))
                continue
            if max_images is not None and len(result.images) >= max_images:
                result.skipped.append((name, f"over the limit of {max_images} images per batch"))
                continue
            try:
                data = _read_member(zf, info, limits, budget)
            except ZipDamagedError as exc:
                result.skipped.append((name, str(exc)))
                continue
            except (zipfile.BadZipFile, EOFError, OSError, RuntimeError) as exc:
                result.skipped.append((name, f"could not be unpacked ({exc})"))
                continue
            except Exception as exc:  # zlib.error and friends: a damaged entry, not a hostile archive
                if isinstance(exc, ZipSafetyError):
                    raise
                result.skipped.append((name, f"could not be unpacked ({type(exc).__name__})"))
                continue
            try:
                result.images.append((name, open_image(data, name=name)))
            except ImageInputError as exc:
                result.skipped.append((name, str(exc)))
    return result


def _check_total_pixels(zf: zipfile.ZipFile, files: list[zipfile.ZipInfo], limits: ZipLimits,
                        max_images: int | None, max_total_pixels: int) -> None:
    from backend.imageio import probe_image

    budget = [limits.max_total_bytes]
    total, n = 0, 0
    for info in sorted(files, key=lambda i: i.filename):
        name = safe_member_name(info.filename)
        if Path(name).suffix.lower() not in IMAGE_SUFFIXES:
            continue
        if max_images is not None and n >= max_images:
            break
        try:
            data = _read_member(zf, info, limits, budget)
            _fmt, w, h = probe_image(data, name=name)
        except (ZipDamagedError, ImageInputError):
            continue  # skipped (and listed) by the decoding pass
        n += 1
        total += w * h
        if total > max_total_pixels:
            raise ZipSafetyError(f"The images in the zip hold more than {max_total_pixels / 1e6:.0f} megapixels "
                                 "together; please split the batch.")


def extract_tree(src: ZipSource, dest: str | os.PathLike, limits: ZipLimits = ZipLimits()) -> Path:
    """Extract every safe entry under `dest`; return the directory that holds the data.

    When the archive wraps everything in one top folder (the usual "zip a folder"), that folder is
    returned, so an MVTec tree zipped as `mvtec/bottle/...` or as `bottle/...` both work.
    """
    root = Path(dest).resolve()
    root.mkdir(parents=True, exist_ok=True)
    with _open(src, limits) as zf:
        files = check_archive(zf, limits)
        budget = [limits.max_total_bytes]
        for info in files:
            name = safe_member_name(info.filename)
            target = (root / name).resolve()
            if root not in target.parents:
                raise ZipSafetyError(f"The zip contains a path that leaves its folder ({info.filename!r}).")
            data = _read_member(zf, info, limits, budget)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    top = [p for p in root.iterdir() if not p.name.startswith(".")]
    if not top:
        raise ZipSafetyError("The zip holds no files.")
    if len(top) == 1 and top[0].is_dir() and _looks_like_wrapper(top[0]):
        return top[0]
    return root


def _looks_like_wrapper(folder: Path) -> bool:
    """A folder is a wrapper when it is not itself a class folder (has no train/ or test/)."""
    return not ((folder / "train").is_dir() or (folder / "test").is_dir())
