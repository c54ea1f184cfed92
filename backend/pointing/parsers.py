"""Raw model text → points in original-image pixels, one parser per output convention ("family").

Every model family speaks its own coordinate dialect (research/arena.md §1.5). Getting one wrong silently
moves every point, so each parser is small, explicit about its scale and axis order, and unit-tested on
realistic outputs. Values outside the family's range (beyond a small tolerance) are dropped, not clamped:
a Molmo "x=250" is an error, not the right edge. `finalize_points` (types.py) clamps what is left.

Families: molmo (percent 0–100), molmo2 (0–1000 `coords`), gemini ([y, x] 0–1000 JSON),
qwen2.5-vl (pixels of the smart-resized image), pixel-json (original pixels), normalized (0–1).
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

from backend.errors import UserError

NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
TOLERANCE = 0.02  # fraction of the scale a coordinate may overshoot before it counts as out of range
FAMILIES = ("molmo", "molmo2", "gemini", "qwen2.5-vl", "pixel-json", "normalized")


@dataclass
class Parsed:
    points: list[tuple[float, float]] = field(default_factory=list)  # original-image pixels
    error: str | None = None

    @property
    def ok(self) -> bool:
        return bool(self.points)


def _f(v) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _in_range(v: float, scale: float) -> bool:
    return -TOLERANCE * scale <= v <= scale * (1 + TOLERANCE)


def _scaled(pairs, sx: float, sy: float, range_x: float, range_y: float) -> Parsed:
    """Keep finite in-range pairs and scale them to pixels; explain what went wrong otherwise."""
    pts, bad = [], 0
    for x, y in pairs:
        x, y = _f(x), _f(y)
        if x is None or y is None or not (_in_range(x, range_x) and _in_range(y, range_y)):
            bad += 1
            continue
        pts.append((x * sx, y * sy))
    if pts:
        return Parsed(pts)
    if bad:
        return Parsed(error=f"{bad} coordinate pair(s) out of range (0–{range_x:g}) or not finite")
    return Parsed(error="no coordinates found in the model output")


# -- JSON helpers ---------------------------------------------------------------------------------------

def _json_candidates(text: str) -> list:
    """JSON values found in fenced blocks, then the outermost [...] / {...} span of the text."""
    chunks = re.findall(r"```(?:json|JSON)?\s*(.*?)```", text, flags=re.S)
    for o, c in (("[", "]"), ("{", "}")):
        i, j = text.find(o), text.rfind(c)
        if 0 <= i < j:
            chunks.append(text[i:j + 1])
    out = []
    for ch in chunks:
        try:
            out.append(json.loads(ch))
        except (ValueError, RecursionError):
            continue
    return out


def _json_pairs(text: str, keys: tuple[str, ...]) -> list[tuple]:
    """Pairs under any of `keys` (e.g. "point", "point_2d"), in document order; bboxes → centre."""
    pairs: list[tuple] = []

    def walk(v):
        if isinstance(v, dict):
            for k, val in v.items():
                if k in keys and isinstance(val, (list, tuple)) and len(val) >= 2:
                    pairs.append((val[0], val[1]))
                elif k == "bbox_2d" and isinstance(val, (list, tuple)) and len(val) == 4:
                    try:
                        pairs.append(((float(val[0]) + float(val[2])) / 2, (float(val[1]) + float(val[3])) / 2))
                    except (TypeError, ValueError):
                        pass
                else:
                    walk(val)
        elif isinstance(v, list):
            if len(v) == 2 and all(isinstance(t, (int, float)) for t in v) and "" in keys:
                pairs.append((v[0], v[1]))
            else:
                for item in v:
                    walk(item)

    for cand in _json_candidates(text):
        walk(cand)
        if pairs:
            break
    return pairs


def _regex_pairs(text: str, pattern: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in re.finditer(pattern, text)]


def _key_regex_pairs(text: str, key: str) -> list[tuple[str, str]]:
    return _regex_pairs(text, rf'"{key}"\s*:\s*\[\s*({NUM})\s*,\s*({NUM})')


def _bracket_pairs(text: str) -> list[tuple[str, str]]:
    return _regex_pairs(text, rf"\[\s*({NUM})\s*,\s*({NUM})\s*\]")


def _paren_pairs(text: str) -> list[tuple[str, str]]:
    return _regex_pairs(text, rf"\(\s*({NUM})\s*,\s*({NUM})\s*\)")


def _xml_pairs(text: str) -> list[tuple[str, str]]:
    """x="…" y="…" and x1="…" y1="…" x2=… (the index must match)."""
    pat = rf'\bx(\d*)\s*=\s*"?\s*({NUM})\s*"?\s+y\1\s*=\s*"?\s*({NUM})'
    return [(m.group(2), m.group(3)) for m in re.finditer(pat, text)]


# -- families ---------------------------------------------------------------------------------------------

def parse_molmo(text: str, width: int, height: int) -> Parsed:
    """Molmo-0924: percent 0–100, as <point x y>, <points x1 y1 …>, Click(x, y), (x, y) or p=ddd,ddd."""
    for finder in (_xml_pairs, lambda t: _regex_pairs(t, rf"Click\(\s*({NUM})\s*,\s*({NUM})\s*\)"), _paren_pairs):
        pairs = finder(text)
        if pairs:
            return _scaled(pairs, width / 100, height / 100, 100, 100)
    pairs = _regex_pairs(text, r"(?:\bp|\d)\s*=\s*(\d{3})\s*,\s*(\d{3})")
    if pairs:  # per-mille written without a point: 615 → 61.5 %
        return _scaled(pairs, width / 1000, height / 1000, 1000, 1000)
    return Parsed(error="no coordinates found in the Molmo output")


def _molmo2_coords(seq: str) -> list[tuple[float, float]]:
    out = []
    for group in (g for g in re.split(r"[;\n]", seq) if g.strip()) if ";" in seq else [seq]:
        nums = [float(n) for n in re.findall(NUM, group)]
        if len(nums) % 3 == 1 and len(nums) >= 4 and nums[0].is_integer():
            nums = nums[1:]  # leading image/frame index: "1 1 652 535"
        if len(nums) >= 3 and len(nums) % 3 == 0 and all(nums[i].is_integer() for i in range(0, len(nums), 3)):
            out += [(nums[i + 1], nums[i + 2]) for i in range(0, len(nums), 3)]
        elif len(nums) % 2 == 0:
            out += [(nums[i], nums[i + 1]) for i in range(0, len(nums), 2)]
    return out


def parse_molmo2(text: str, width: int, height: int) -> Parsed:
    """Molmo2 / MolmoPoint: <points coords="id x y id x y …"> with x, y on 0–1000."""
    pairs = []
    for m in re.finditer(r'<points?\b[^>]*?\bcoords\s*=\s*"([^"]*)"', text):
        pairs += _molmo2_coords(m.group(1))
    if not pairs:
        return Parsed(error="no <points coords=…> found in the Molmo2 output")
    return _scaled(pairs, width / 1000, height / 1000, 1000, 1000)


def parse_gemini(text: str, width: int, height: int) -> Parsed:
    """Gemini: [{"point": [y, x], "label": …}] normalised to 0–1000, often inside ```json fences."""
    pairs = _json_pairs(text, ("point",)) or _key_regex_pairs(text, "point") or _bracket_pairs(text)
    if not pairs:
        return Parsed(error="no [y, x] point found in the Gemini output")
    return _scaled([(x, y) for y, x in pairs], width / 1000, height / 1000, 1000, 1000)


def smart_resize(height: int, width: int, factor: int = 28, min_pixels: int = 56 * 56,
                 max_pixels: int = 14 * 14 * 4 * 16384) -> tuple[int, int]:
    """Qwen2.5-VL's input size: sides multiples of `factor`, area within [min_pixels, max_pixels].

    Same arithmetic as transformers' `qwen2_vl.image_processing_qwen2_vl.smart_resize`.
    """
    if height <= 0 or width <= 0:
        raise ValueError("image has no pixels")
    h_bar = max(factor, round(height / factor) * factor)
    w_bar = max(factor, round(width / factor) * factor)
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


def parse_qwen(text: str, width: int, height: int, min_pixels: int = 56 * 56,
               max_pixels: int = 14 * 14 * 4 * 16384, factor: int = 28,
               resized: tuple[int, int] | None = None) -> Parsed:
    """Qwen2.5-VL: absolute pixels of the smart-resized input → rescaled to the original image.

    `resized` = (height, width) the processor really used (from image_grid_thw); otherwise recomputed.
    """
    rh, rw = resized or smart_resize(height, width, factor, min_pixels, max_pixels)
    pairs = (_json_pairs(text, ("point_2d", "point")) or _key_regex_pairs(text, "point_2d") or _xml_pairs(text)
             or _bracket_pairs(text) or _regex_pairs(text, rf"({NUM})\s*,\s*({NUM})"))
    if not pairs:
        return Parsed(error="no point_2d / <points x1 y1> / [x, y] found in the Qwen output")
    return _scaled(pairs, width / rw, height / rh, rw, rh)


def parse_pixel_json(text: str, width: int, height: int) -> Parsed:
    """GPT-4o/4.1, Claude, Grok: [{"point": [x, y]}] in original pixels, possibly wrapped in prose."""
    pairs = _json_pairs(text, ("point", "point_2d")) or _key_regex_pairs(text, "point") or _bracket_pairs(text)
    if not pairs:
        return Parsed(error="no [x, y] point found in the output")
    return _scaled(pairs, 1.0, 1.0, width, height)


def parse_normalized(text: str, width: int, height: int) -> Parsed:
    """[x, y] (or (x, y) / {"point": [x, y]}) with both coordinates in 0–1."""
    pairs = (_json_pairs(text, ("point", "point_2d")) or _key_regex_pairs(text, "point") or _bracket_pairs(text)
             or _paren_pairs(text))
    if not pairs:
        return Parsed(error="no [x, y] point found in the output")
    return _scaled(pairs, width, height, 1.0, 1.0)


PARSERS = {
    "molmo": parse_molmo, "molmo2": parse_molmo2, "gemini": parse_gemini, "qwen2.5-vl": parse_qwen,
    "pixel-json": parse_pixel_json, "normalized": parse_normalized,
}
ALIASES = {"pixel": "pixel-json", "openai": "pixel-json", "gpt": "pixel-json", "claude": "pixel-json",
           "grok": "pixel-json", "qwen": "qwen2.5-vl", "qwen2_5_vl": "qwen2.5-vl", "molmopoint": "molmo2"}


def canonical_family(family: str) -> str:
    fam = (family or "").strip().lower()
    fam = ALIASES.get(fam, fam)
    if fam not in PARSERS:
        raise UserError(f"Unknown output family {family!r}; choose one of {', '.join(FAMILIES)}.")
    return fam


def parse(family: str, text: str, width: int, height: int, **opts) -> Parsed:
    """Dispatch to the family parser; never raises on odd text (only on an unknown family/bad size)."""
    fam = canonical_family(family)
    if width <= 0 or height <= 0:
        raise ValueError("image width and height must be positive")
    if not isinstance(text, str) or not text.strip():
        return Parsed(error="the model returned an empty answer")
    text = text[:200_000]
    kw = ({k: int(v) for k, v in opts.items() if k in ("min_pixels", "max_pixels", "factor") and v}
          if fam == "qwen2.5-vl" else {})
    return PARSERS[fam](text, width, height, **kw)
