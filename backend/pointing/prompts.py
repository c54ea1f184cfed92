"""Per-family prompt templates (PointArena's are the reference), versioned so battles log what was asked.

Pixel families are told the image size and to return exactly one point unless the request counts;
Gemini is asked for its native [y, x] 0–1000 JSON; Molmo gets its "pointing:" trigger; Qwen2.5-VL the
XML format used by PointArena. `extract_query` inverts a template, so `serve` can answer any client.
"""
from __future__ import annotations

import re

from backend.pointing.parsers import canonical_family

TEMPLATE_VERSION = "pointarena-1"
ONE = "Return EXACTLY ONE POINT."
MANY = "Return one point per matching object."

TEMPLATES = {
    "pixel-json": ('Point to: {query}\nThe image is {width} pixels wide and {height} pixels high. '
                   'Answer only with JSON in the form [{{"point": [x, y]}}, ...] where [x, y] are PIXEL COORDINATES '
                   '(not normalized): x from the left edge, y from the top edge. {rule}'),
    "gemini": ('Point to: {query}\nThe answer should follow the json format: '
               '[{{"point": <point>, "label": <label1>}}, ...]. '
               'The points are in [y, x] format normalized to 0-1000. {rule}'),
    "molmo": "pointing: {query}",
    "molmo2": "Point to: {query}",
    "qwen2.5-vl": "Point to: {query}\nOutput its coordinates in XML format <points x y>object</points>. {rule}",
    "normalized": ('Point to: {query}\nAnswer only with JSON [{{"point": [x, y]}}, ...] where x and y are fractions '
                   'of the image width and height between 0 and 1. {rule}'),
}


def build_prompt(family: str, query: str, width: int, height: int, counting: bool = False) -> str:
    fam = canonical_family(family)
    return TEMPLATES[fam].format(query=query, width=width, height=height, rule=MANY if counting else ONE).strip()


def extract_query(prompt: str) -> str:
    """The user's instruction inside one of our templates, or the whole prompt when it is not ours."""
    text = prompt.strip()
    m = re.match(r"(?:Point to:|pointing:)\s*(.+?)(?:\n|$)", text, flags=re.S)
    return (m.group(1).strip() if m else text)[:300]
