"""Optional ZeroGPU support: `from backend.gpu import gpu` then `@gpu(duration=60)`.

On a Hugging Face ZeroGPU Space the `spaces` package provides `spaces.GPU`; everywhere else this
is a no-op decorator, so the same code runs locally, in CI and on Spaces.
"""
from __future__ import annotations

try:  # pragma: no cover - depends on the hosting environment
    import spaces as _spaces

    HAVE_SPACES = True
except Exception:  # ImportError, or spaces refusing to start outside a Space
    _spaces = None
    HAVE_SPACES = False


def gpu(fn=None, **kwargs):
    if HAVE_SPACES and _spaces is not None:
        return _spaces.GPU(fn, **kwargs) if fn is not None else _spaces.GPU(**kwargs)
    if fn is not None:
        return fn
    return lambda f: f
