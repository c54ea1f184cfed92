"""The canonical pointing result and the protocol every pointing adapter implements.

Points are in original-image pixels (x right, y down), clamped to the image; `points_norm` are the
same points divided by (width, height). The raw model text is always kept, also when parsing failed.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Protocol, runtime_checkable

from PIL import Image


@dataclass
class PointResult:
    points: list[tuple[float, float]] = field(default_factory=list)   # original-image pixels
    points_norm: list[tuple[float, float]] = field(default_factory=list)  # 0–1
    raw_text: str = ""
    parse_ok: bool = False
    error: str | None = None
    # Why it failed: "parse" (the model answered but no valid point could be read: a fair loss in a battle),
    # "endpoint" / "timeout" / "model" / "input" (the system failed: the battle is invalid, the model sits out).
    error_kind: str | None = None
    latency_s: float = 0.0
    model: str = ""
    backend_info: dict = field(default_factory=dict)  # kind, label, version, family, device, prompt_template

    def to_dict(self) -> dict:
        d = asdict(self)
        d["points"] = [list(p) for p in self.points]
        d["points_norm"] = [list(p) for p in self.points_norm]
        return d


SYSTEM_FAILURES = ("endpoint", "timeout", "model", "input")


def is_system_failure(res: PointResult) -> bool:
    """True when the failure is the system's (unreachable, hung, crashed), not a wrong answer."""
    return bool(res.error) and (res.error_kind or "model") in SYSTEM_FAILURES


def finalize_points(points, width: int, height: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """Drop non-finite points, clamp to the image, and compute normalised copies."""
    px, norm = [], []
    for x, y in points:
        try:
            x, y = float(x), float(y)
        except (TypeError, ValueError):
            continue
        if not (math.isfinite(x) and math.isfinite(y)):
            continue
        x = min(max(x, 0.0), width - 1e-6)
        y = min(max(y, 0.0), height - 1e-6)
        px.append((x, y))
        norm.append((x / width, y / height))
    return px, norm


@runtime_checkable
class Pointer(Protocol):
    name: str

    def point(self, image: Image.Image, instruction: str) -> PointResult: ...
