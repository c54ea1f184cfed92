"""Shared behaviour of every pointing adapter, so each adapter only writes "image + text → raw text/points".

`BasePointer.point` is the single place that validates the instruction (the only thing allowed to raise),
normalises the image, times the call, turns any model/parse failure into `parse_ok=False` with a reason,
and clamps/normalises points via `finalize_points`. A battle therefore never crashes because one side failed.
"""
from __future__ import annotations

import time
from typing import Any

from PIL import Image

from backend.errors import UserError
from backend.imageio import open_image, to_rgb
from backend.pointing.spatial import wanted_count
from backend.pointing.types import PointResult, finalize_points

MAX_INSTRUCTION_CHARS = 300


class PointingError(RuntimeError):
    """A model call failed; `raw_text` keeps whatever the model said before failing."""

    def __init__(self, message: str, raw_text: str = "", kind: str = "model"):
        super().__init__(message)
        self.raw_text = raw_text
        self.kind = kind  # "parse" | "endpoint" | "model" | "input" (see types.PointResult.error_kind)


def check_instruction(instruction: Any) -> str:
    """The cleaned instruction, or ValueError with a sentence for the user."""
    if not isinstance(instruction, str) or not instruction.strip():
        raise UserError("Please type what the models should point at (the instruction is empty).")
    text = " ".join(instruction.split())
    if len(text) > MAX_INSTRUCTION_CHARS:
        raise UserError(f"The instruction is too long ({len(text)} characters; at most {MAX_INSTRUCTION_CHARS}).")
    return text


def is_counting(instruction: str) -> bool:
    """Whether the instruction asks for several points (PointArena keeps one point unless counting)."""
    return wanted_count(instruction) != 1


def _as_rgb(image: Any) -> Image.Image:
    if isinstance(image, Image.Image):
        img = image
    else:
        img = open_image(image)
    img.load()
    if img.width < 1 or img.height < 1:
        raise PointingError("the image is empty (0 pixels)")
    if img.mode != "RGB":
        img = to_rgb(img)
    return img


class BasePointer:
    """Subclasses set the class attributes and implement `_predict(img, instruction) -> (raw_text, points)`.

    `points` are original-image pixels, or None when the raw output held no usable coordinates.
    Raise `PointingError` for failures with a reason worth showing.
    """

    kind = "embedded"
    family = "pixel"
    label = ""
    version = "1"
    prompt_template_version = "none"
    device = "cpu"

    def __init__(self, entry=None, device: str = "cpu"):
        self.entry = entry
        self.name = getattr(entry, "name", None) or type(self).__name__.lower()
        self.options = dict(getattr(entry, "options", {}) or {})
        if getattr(entry, "label", ""):
            self.label = entry.label
        self.device = device

    def info(self) -> dict:
        return {"kind": self.kind, "label": self.label or self.name, "family": self.family,
                "version": self.version, "prompt_template_version": self.prompt_template_version,
                "prompt_template": self.prompt_template_version,
                "device": str(self.device)}

    def _predict(self, img: Image.Image, instruction: str) -> tuple[str, list | None]:
        raise NotImplementedError

    def point(self, image: Image.Image, instruction: str) -> PointResult:
        text = check_instruction(instruction)
        t0 = time.perf_counter()
        res = PointResult(model=self.name, backend_info=self.info())
        try:
            img = _as_rgb(image)
        except Exception as exc:  # unreadable image: a clear reason, never a crash
            res.error, res.error_kind = f"cannot read the image: {exc}", "input"
            res.latency_s = time.perf_counter() - t0
            return res
        try:
            raw, pts = self._predict(img, text)
            res.raw_text = raw or ""
            if pts is None:
                res.error, res.error_kind = "no coordinates found in the model output", "parse"
            else:
                res.points, res.points_norm = finalize_points(pts, img.width, img.height)
                res.parse_ok = bool(res.points)
                if not res.parse_ok:
                    res.error = "the model returned no valid point (numbers missing, out of range or not finite)"
                    res.error_kind = "parse"
        except PointingError as exc:
            res.raw_text, res.error, res.error_kind = exc.raw_text, str(exc), exc.kind
        except Exception as exc:  # noqa: BLE001 - model code may raise anything; the battle must go on
            res.error, res.error_kind = f"{type(exc).__name__}: {exc}", "model"
        res.latency_s = time.perf_counter() - t0
        return res
