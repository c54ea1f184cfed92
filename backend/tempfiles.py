"""Every temporary folder the app makes, under one root that is swept.

Two kinds:
- `request_dir(prefix)`: a context manager for work that ends with the request (an unpacked zip); the folder
  is removed on exit, also when the work fails.
- `shared_dir(key, fill)`: output files that many requests hand out alike (written once per content).
- `scratch_dir(prefix)`: files handed to Gradio as outputs (downloads, overlays). Gradio copies outputs into
  its own cache after the handler returns, so these cannot be removed by the handler; instead every call
  sweeps scratch folders older than TEMP_MAX_AGE_S (default 900 s).

Both live under `temp_root()` (the system temp dir + a name derived from DATA_DIR, so two instances with
different data never sweep each other's folders). `sweep_at_startup()` removes whatever an earlier process
left there (a crash, a kill -9) that is older than the grace period.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from backend.config import get_settings, setting

_lock = threading.Lock()
_last_sweep = [0.0]


def max_age_s() -> float:
    return float(setting("TEMP_MAX_AGE_S"))


def temp_root() -> Path:
    tag = hashlib.sha256(str(get_settings().data_dir).encode()).hexdigest()[:10]
    root = Path(tempfile.gettempdir()) / f"pbsuite-{tag}"
    root.mkdir(parents=True, exist_ok=True)
    return root


def sweep_temp(max_age: float | None = None, *, prefix: str = "") -> int:
    """Remove folders under the root older than `max_age` seconds; returns how many were removed."""
    age = max_age_s() if max_age is None else max_age
    now = time.time()
    removed = 0
    try:
        entries = list(temp_root().iterdir())
    except OSError:
        return 0
    for p in entries:
        if prefix and not p.name.startswith(prefix):
            continue
        try:
            if now - p.stat().st_mtime < age:
                continue
        except OSError:
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                p.unlink()
        removed += 1
    return removed


def _maybe_sweep() -> None:
    """Sweep at most every 30 s, so a burst of downloads does not rescan the folder each time."""
    now = time.monotonic()
    with _lock:
        if now - _last_sweep[0] < 30.0:
            return
        _last_sweep[0] = now
    sweep_temp()


def scratch_dir(prefix: str = "tmp-") -> Path:
    """A fresh folder for output files; removed by a later sweep once older than TEMP_MAX_AGE_S."""
    _maybe_sweep()
    return Path(tempfile.mkdtemp(prefix=prefix, dir=temp_root()))


def shared_dir(key: str, fill: Callable[[Path], None]) -> Path:
    """A folder of output files shared by every request that hands out the same files (`key`: a content hash).

    Public endpoints that need no model run (the anomaly example, a pool, a leaderboard CSV) used to write a fresh
    copy per call, and nothing limits how fast a script calls them: the temp disk grew by each copy until a sweep.
    `fill(folder)` writes the files once; the folder's mtime is refreshed on every use, so the sweep removes it only
    after TEMP_MAX_AGE_S without use. Two first calls at once each fill a private folder; one rename wins."""
    _maybe_sweep()
    final = temp_root() / f"shared-{key}"
    if not final.is_dir():
        tmp = Path(tempfile.mkdtemp(prefix=".fill-", dir=temp_root()))
        try:
            fill(tmp)
            os.rename(tmp, final)
        except OSError:
            if not final.is_dir():
                raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)  # gone already when the rename won
    with contextlib.suppress(OSError):
        os.utime(final)
    return final


@contextlib.contextmanager
def request_dir(prefix: str = "req-") -> Iterator[Path]:
    """A fresh folder that is removed when the `with` block ends (success or failure)."""
    d = Path(tempfile.mkdtemp(prefix=prefix, dir=temp_root()))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def sweep_at_startup() -> int:
    """Called once by app.py: everything an earlier process left behind (older than 60 s) goes."""
    return sweep_temp(60.0)


def usage() -> tuple[int, int]:
    """(number of entries, total bytes) under the temp root — for the soak benchmark and tests."""
    n = size = 0
    for dirpath, _dirnames, filenames in os.walk(temp_root()):
        n += len(filenames)
        for f in filenames:
            with contextlib.suppress(OSError):
                size += os.lstat(os.path.join(dirpath, f)).st_size
    return n, size
