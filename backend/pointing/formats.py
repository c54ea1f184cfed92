"""Points → raw text in a family's dialect: the inverse of parsers.py.

`serve` uses it so a local pointer can impersonate any model family over HTTP; that lets the HTTP
adapter and every parser be tested end to end against a real server.
"""
from __future__ import annotations

import json

from backend.pointing.parsers import canonical_family, smart_resize


def format_points(family: str, points: list[tuple[float, float]], width: int, height: int, label: str = "target",
                  **opts) -> str:
    fam = canonical_family(family)
    if fam == "pixel-json":
        return json.dumps([{"point": [round(x, 1), round(y, 1)]} for x, y in points])
    if fam == "normalized":
        return json.dumps([{"point": [round(x / width, 4), round(y / height, 4)]} for x, y in points])
    if fam == "gemini":
        body = json.dumps([{"point": [round(y / height * 1000), round(x / width * 1000)], "label": label}
                           for x, y in points])
        return f"```json\n{body}\n```"
    if fam == "molmo":
        if len(points) == 1:
            x, y = points[0]
            return f'<point x="{x / width * 100:.1f}" y="{y / height * 100:.1f}" alt="{label}">{label}</point>'
        attrs = " ".join(f'x{i}="{x / width * 100:.1f}" y{i}="{y / height * 100:.1f}"'
                         for i, (x, y) in enumerate(points, 1))
        return f'<points {attrs} alt="{label}">{label}</points>'
    if fam == "molmo2":
        coords = " ".join(f"{i} {round(x / width * 1000)} {round(y / height * 1000)}"
                          for i, (x, y) in enumerate(points, 1))
        return f'<points coords="{coords}">{label}</points>'
    if fam == "qwen2.5-vl":
        kw = {k: int(v) for k, v in opts.items() if k in ("min_pixels", "max_pixels") and v}
        rh, rw = smart_resize(height, width, 28, **kw)
        return json.dumps([{"point_2d": [round(x * rw / width), round(y * rh / height)], "label": label}
                           for x, y in points])
    raise ValueError(fam)
