"""Spatial and counting words → which candidate points to keep.

The embedded pointers produce candidate peaks/regions with a score and an area; this layer reads the
instruction for "left/right/top/bottom/center", "largest/smallest", "all"/"every" and number words and
chooses among them. It is pure logic (no models), so it is cheap and fully unit-tested.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

NUMBER_WORDS = {
    "one": 1, "single": 1, "two": 2, "both": 2, "pair": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
}
ALL_WORDS = ("all", "every", "each", "count", "how many")
RELATIONS = {
    "left": ("left", "leftmost"), "right": ("right", "rightmost"),
    "top": ("top", "upper", "topmost", "above", "highest"), "bottom": ("bottom", "lower", "lowest", "below"),
    "center": ("center", "centre", "middle", "central"),
    "largest": ("largest", "biggest", "big", "large", "tallest"), "smallest": ("smallest", "tiny", "small", "little"),
}
MAX_POINTS = 20
_NUM = r"[-+]?\d+(?:\.\d+)?"
REF_NOTE = re.compile(rf"\s*The image contains an existing original point at pixel coordinates:\s*\[\s*({_NUM})\s*,"
                      rf"\s*({_NUM})\s*\]\.?\s*(?:The query refers to this existing point\.?)?", re.I)


def split_reference(instruction: str) -> tuple[str, tuple[float, float] | None]:
    """PointArena's steerable note ("… existing original point at pixel coordinates: [x, y] …") split off.

    The note's numbers must not be read as a count, nor its words as the object to find.
    """
    m = REF_NOTE.search(instruction)
    if not m:
        return instruction, None
    return (instruction[:m.start()] + " " + instruction[m.end():]).strip(), (float(m.group(1)), float(m.group(2)))


@dataclass
class Candidate:
    x: float
    y: float
    score: float = 1.0
    area: float = 0.0
    label: str = ""


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+|\d+", text.lower())


def wanted_count(instruction: str) -> int:
    """1 for a single point, k when a number is asked for, 0 for "all …" (as many as found)."""
    text = split_reference(instruction)[0].lower()
    words = _words(text)
    for w in words:
        if w.isdigit() and 1 <= int(w) <= MAX_POINTS:
            return int(w)
    for w in words:
        if w in NUMBER_WORDS and w not in ("one", "single"):
            return NUMBER_WORDS[w]
    text = re.sub(r"\ball (?:of )?(?:the )?others\b", "", text)  # "different from all the others" is singular
    if any(re.search(rf"\b{re.escape(a)}\b", text) for a in ALL_WORDS):
        return 0
    return 1


def relations(instruction: str) -> list[str]:
    """Relation keys in the order they appear in the instruction."""
    words = _words(split_reference(instruction)[0])
    found: list[tuple[int, str]] = []
    for key, syns in RELATIONS.items():
        idx = [i for i, w in enumerate(words) if w in syns]
        if idx:
            found.append((idx[0], key))
    return [k for _, k in sorted(found)]


def _rank_key(rel: str, w: float, h: float):
    cx, cy = w / 2, h / 2
    return {
        "left": lambda c: c.x, "right": lambda c: -c.x, "top": lambda c: c.y, "bottom": lambda c: -c.y,
        "center": lambda c: ((c.x - cx) / w) ** 2 + ((c.y - cy) / h) ** 2,
        "largest": lambda c: -c.area, "smallest": lambda c: c.area,
    }[rel]


def _near_reference(cands: list[Candidate], ref: tuple[float, float], rels: list[str]) -> tuple[float, float]:
    """Steerable: the candidate nearest the marked point, on the asked side, other than the marked object."""
    def dist(c):
        return math.hypot(c.x - ref[0], c.y - ref[1])

    others = [c for c in cands if dist(c) > 0.5 * math.sqrt(max(c.area, 1.0))] or cands  # not the marked one
    side = {"left": (lambda c: c.x < ref[0], 1), "right": (lambda c: c.x > ref[0], 1),
            "top": (lambda c: c.y < ref[1], 0), "bottom": (lambda c: c.y > ref[1], 0)}
    if rels and rels[0] in side:
        keep, horizontal = side[rels[0]]
        pool = [c for c in others if keep(c)] or others
        # "directly right of": along the axis, penalising the sideways offset
        best = min(pool, key=lambda c: dist(c) + 2 * (abs(c.y - ref[1]) if horizontal else abs(c.x - ref[0])))
    else:
        best = min(others, key=dist)
    return (best.x, best.y)


def select(cands: list[Candidate], instruction: str, width: float, height: float,
           min_rel_score: float = 0.35) -> list[tuple[float, float]]:
    """Points answering the instruction from candidates (best-scored first).

    Weak candidates (< min_rel_score × best) are dropped first, so spatial words choose among real
    detections rather than noise; a relation then picks the extreme candidate; counting keeps the top-k.
    """
    if not cands:
        return []
    cands = sorted(cands, key=lambda c: -c.score)
    best = cands[0].score
    strong = [c for c in cands if best <= 0 or c.score >= min_rel_score * best] or cands[:1]
    n = wanted_count(instruction)
    rels = relations(instruction)
    ref = split_reference(instruction)[1]
    if n == 1 and ref is not None:
        return [_near_reference(strong, ref, rels)]
    if n == 1:
        if rels:
            pool = sorted(strong, key=_rank_key(rels[0], width, height))
            return [(pool[0].x, pool[0].y)]
        return [(strong[0].x, strong[0].y)]
    pool = strong if n == 0 else (cands if len(strong) < n else strong)
    chosen = pool[:MAX_POINTS] if n == 0 else pool[:n]
    if rels and n > 1 and len(pool) > n:  # "the two leftmost …"
        chosen = sorted(pool, key=_rank_key(rels[0], width, height))[:n]
    return [(c.x, c.y) for c in chosen]
