"""Per-icon measurements and the icon-set consistency score.

Definitions (all on the normalised geometry or a 96 px render, so any engine's output is measured alike):
- weight: line weight as a fraction of the box (stroke width for stroked icons, 2·ink/perimeter otherwise)
- mode: outline | outline-fill | solid (backend.svg.style), caps/joins of stroked paths
- padding: empty margin as a fraction of the box
- consistency score (0–100) = 100 × style agreement × (1 − min(1, weight CV / 0.5)) × (1 − min(1, padding SD / 0.1))
  where style agreement = share of icons whose (mode, cap, join) equals the most common one and weight CV =
  standard deviation / mean of the weights. A set drawn with one card scores near 100; mixing Phosphor thin
  with MDI solid scores low. It is a spread measure, not a judgement of beauty.
"""
from __future__ import annotations

from collections import Counter

import numpy as np

from backend.errors import UserError
from backend.svg.paths import parse_svg_paths
from backend.svg.sanitize import sanitize_svg
from backend.svg.style import extract_style


def icon_measures(svg: str) -> dict:
    paths, grid = parse_svg_paths(sanitize_svg(svg))
    if not paths:
        raise UserError("This SVG has no visible paths to measure.")
    card = extract_style([paths], grid=24.0)
    return {"weight": round(card.stroke_width / 24, 4), "mode": card.mode, "linecap": card.linecap,
            "linejoin": card.linejoin, "padding": round(card.padding / 24, 4), "segments": int(card.detail)}


def consistency(svgs: list[str]) -> dict:
    if not svgs:
        raise UserError("No icons to compare.")
    per = [icon_measures(s) for s in svgs]
    keys = [(m["mode"], m["linecap"], m["linejoin"]) for m in per]
    top, count = Counter(keys).most_common(1)[0]
    agreement = count / len(per)
    w = np.array([m["weight"] for m in per])
    cv = float(w.std() / w.mean()) if w.mean() > 0 else 1.0
    pad_sd = float(np.std([m["padding"] for m in per]))
    score = 100.0 * agreement * (1 - min(1.0, cv / 0.5)) * (1 - min(1.0, pad_sd / 0.1))
    return {"score": round(score, 1), "style_agreement": round(agreement, 3), "weight_cv": round(cv, 3),
            "padding_sd": round(pad_sd, 4), "majority_style": "/".join(top), "per_icon": per}
