"""Fixtures shared by the API tests: fast builtin contestants, a photo with one red ball, and empty rate limiters
(`fresh_limits`, for the files that probe limits and hostile input)."""
from __future__ import annotations

import pytest
from PIL import Image, ImageDraw


@pytest.fixture
def fast_models(monkeypatch):
    # The builtin baselines answer in milliseconds; the embedded CAM/OCR pointers are exercised elsewhere.
    monkeypatch.setenv("ARENA_MODELS", "center,random")
    monkeypatch.setenv("ARENA_MIN_DWELL_S", "0")


@pytest.fixture
def photo(tmp_path):
    img = Image.new("RGB", (320, 240), (200, 220, 240))
    ImageDraw.Draw(img).ellipse((200, 60, 280, 140), fill=(220, 30, 30))
    p = tmp_path / "ball.png"
    img.save(p)
    return str(p)


@pytest.fixture
def fresh_limits():
    """Every rate limiter empty before and after the test (the app runs in this process)."""
    from backend.security import limiter

    limiter.reset()
    yield
    limiter.reset()
