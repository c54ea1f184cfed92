"""Reference pointers every real model must beat: the image centre and a seeded uniform random point.

They make the arena and Point-Bench numbers meaningful ("is this better than guessing?") and keep the
arena playable on a machine with no models at all.
"""
from __future__ import annotations

import hashlib
import random

from PIL import Image

from backend.pointing.base import BasePointer
from backend.pointing.spatial import wanted_count


class CenterPointer(BasePointer):
    label = "Baseline: image centre"
    version = "center-1"

    @classmethod
    def check_available(cls, entry=None) -> tuple[bool, str]:
        return True, "no weights needed"

    def _predict(self, img: Image.Image, instruction: str):
        n = wanted_count(instruction)
        if n <= 1:
            pts = [(img.width / 2, img.height / 2)]
        else:  # evenly along the horizontal midline, so counting answers have the asked number of points
            pts = [(img.width * (i + 1) / (n + 1), img.height / 2) for i in range(n)]
        return "center baseline", pts


class RandomPointer(BasePointer):
    label = "Baseline: uniform random point"
    version = "random-1"

    @classmethod
    def check_available(cls, entry=None) -> tuple[bool, str]:
        return True, "no weights needed"

    def _predict(self, img: Image.Image, instruction: str):
        seed = int(self.options.get("seed", 0))
        # Deterministic for a given (seed, image size, instruction): replays give the same answer.
        key = f"{seed}|{img.width}x{img.height}|{instruction}".encode()
        rng = random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))
        n = max(1, wanted_count(instruction))
        pts = [(rng.uniform(0, img.width), rng.uniform(0, img.height)) for _ in range(n)]
        return f"random baseline (seed {seed})", pts
