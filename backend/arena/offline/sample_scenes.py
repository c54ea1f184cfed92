"""Procedurally rendered bench scenes whose target masks are exact.

Each generator takes a seeded numpy Generator and returns a Scene: the RGB image, the target
primitives (the mask is rendered from exactly these), the instruction, and count/ref point where the
category needs them. Instructions only ask what the picture answers unambiguously: grid neighbours for
spatial relations, a unique colour/kind for counting, distinct numbers or words for reasoning, a
handle or knob for affordance, and for steerable items a reference point placed on one shape.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from backend.arena.offline.sample_shapes import (
    COLOURS,
    CORNERS,
    KINDS,
    background,
    centred_text,
    draw_shape,
    kind_shape,
    place_centres,
    regular_polygon,
)

SIZE = (480, 360)
INK = (40, 40, 40)
WOOD = (150, 100, 55)
METAL = (170, 175, 182)


@dataclass
class Scene:
    image: Image.Image
    shapes: list
    text: str
    count: int | None = None
    ref: tuple[float, float] | None = None
    minus: tuple = ()


def _choice(rng, seq):
    return seq[int(rng.integers(len(seq)))]


def _grid(rng, rows: int, cols: int, r: float = 30):
    """A rows x cols grid of shapes, every (colour, kind) pair distinct; returns cells and the image."""
    img = background(rng, SIZE)
    d = ImageDraw.Draw(img)
    combos = [(c, k) for c in COLOURS for k in KINDS]
    idx = rng.permutation(len(combos))[: rows * cols]
    w, h = SIZE
    cells = {}
    for n, i in enumerate(idx):
        row, col = divmod(n, cols)
        cx = w * (col + 0.5) / cols + float(rng.uniform(-8, 8))
        cy = h * (row + 0.5) / rows + float(rng.uniform(-8, 8))
        colour, kind = combos[int(i)]
        shp = kind_shape(kind, round(cx, 1), round(cy, 1), r)
        draw_shape(d, shp, COLOURS[colour], outline=INK)
        cells[(row, col)] = (colour, kind, shp, (round(cx, 1), round(cy, 1)))
    return img, cells


# --- counting -----------------------------------------------------------------------------------------
def counting_shapes(rng) -> Scene:
    colour, kind = _choice(rng, list(COLOURS)), _choice(rng, KINDS)
    n = int(rng.integers(1, 8))
    n_distract = int(rng.integers(3, 7))
    r = 22
    centres = place_centres(rng, n + n_distract, SIZE, r)
    img = background(rng, SIZE)
    d = ImageDraw.Draw(img)
    targets = []
    for i, (cx, cy) in enumerate(centres):
        if i < n:
            c, k = colour, kind
        elif rng.random() < 0.5:  # same kind, other colour
            c, k = _choice(rng, [x for x in COLOURS if x != colour]), kind
        else:  # same colour, other kind
            c, k = colour, _choice(rng, [x for x in KINDS if x != kind])
        shp = kind_shape(k, cx, cy, r)
        draw_shape(d, shp, COLOURS[c], outline=INK)
        if i < n:
            targets.append(shp)
    return Scene(img, targets, f"Point to each {colour} {kind} in the image.", count=n)


def counting_letters(rng) -> Scene:
    letters = "ABEKMRTX"
    target = _choice(rng, letters)
    n = int(rng.integers(1, 7))
    total = n + int(rng.integers(3, 7))
    centres = place_centres(rng, total, SIZE, 24)
    img = background(rng, SIZE)
    d = ImageDraw.Draw(img)
    targets = []
    for i, (cx, cy) in enumerate(centres):
        ch = target if i < n else _choice(rng, [c for c in letters if c != target])
        box = ("rect", cx - 22, cy - 22, cx + 22, cy + 22)
        draw_shape(d, box, (250, 250, 245), outline=INK)
        centred_text(d, cx, cy, ch, 28, INK)
        if i < n:
            targets.append(box)
    return Scene(img, targets, f"Point to each card showing the letter {target}.", count=n)


# --- spatial ------------------------------------------------------------------------------------------
_DIRS = {"above": (-1, 0), "below": (1, 0), "to the left of": (0, -1), "to the right of": (0, 1)}


def _neighbour_pair(rng, rows: int = 3, cols: int = 4):
    """A 3×4 shape grid plus a random (relation, anchor cell, target cell) whose target exists."""
    img, cells = _grid(rng, rows, cols)
    while True:
        rel = _choice(rng, list(_DIRS))
        dr, dc = _DIRS[rel]
        anchor = (int(rng.integers(rows)), int(rng.integers(cols)))
        tgt = (anchor[0] + dr, anchor[1] + dc)
        if tgt in cells:
            return img, cells, rel, anchor, tgt


def spatial_grid(rng) -> Scene:
    img, cells, rel, anchor, tgt = _neighbour_pair(rng)
    a = cells[anchor]
    return Scene(img, [cells[tgt][2]], f"Point to the shape directly {rel} the {a[0]} {a[1]}.")


def spatial_table(rng) -> Scene:
    """A table (a support) with one ball on it and one under it, both the same colour."""
    img = background(rng, SIZE)
    d = ImageDraw.Draw(img)
    w, h = SIZE
    x0 = float(rng.uniform(60, 140))
    x1 = x0 + float(rng.uniform(220, 300))
    top_y = float(rng.uniform(150, 190))
    floor = h - 30
    d.rectangle([0, floor, w, h], fill=(205, 195, 180))
    d.rectangle([x0, top_y, x1, top_y + 14], fill=WOOD, outline=INK)
    for lx in (x0 + 10, x1 - 26):
        d.rectangle([lx, top_y + 14, lx + 16, floor], fill=WOOD, outline=INK)
    colour = _choice(rng, list(COLOURS))
    r = 20
    on_x = float(rng.uniform(x0 + 40, x1 - 40))
    under_x = float(rng.uniform(x0 + 50, x1 - 50))
    on = ("ellipse", on_x, top_y - r, r, r)
    under = ("ellipse", under_x, floor - r, r, r)
    for shp in (on, under):
        draw_shape(d, shp, COLOURS[colour], outline=INK)
    which = _choice(rng, ["on", "under"])
    target = on if which == "on" else under
    text = "Point to the ball resting on top of the table." if which == "on" else "Point to the ball under the table."
    return Scene(img, [target], text)


def spatial_shelves(rng) -> Scene:
    """A shelf unit: three boards (supports), each holding a box, a ball and a bottle in random order."""
    img = background(rng, SIZE)
    d = ImageDraw.Draw(img)
    w, h = SIZE
    left, right = 80, 400
    boards = [120, 220, 320]
    d.rectangle([left - 12, 20, left, 330], fill=WOOD, outline=INK)
    d.rectangle([right, 20, right + 12, 330], fill=WOOD, outline=INK)
    names = ["top", "middle", "bottom"]
    objs: dict[tuple[int, str], tuple] = {}
    shp: tuple
    for bi, by in enumerate(boards):
        d.rectangle([left, by, right, by + 10], fill=WOOD, outline=INK)
        kinds = list(rng.permutation(["box", "ball", "bottle"]))
        for j, k in enumerate(kinds):
            cx = left + 55 + j * 105 + float(rng.uniform(-12, 12))
            colour = COLOURS[_choice(rng, list(COLOURS))]
            if k == "box":
                shp = ("rect", cx - 24, by - 46, cx + 24, by - 1)
            elif k == "ball":
                shp = ("ellipse", cx, by - 21, 20, 20)
            else:
                shp = ("poly", [(cx - 12, by - 1), (cx - 12, by - 40), (cx - 5, by - 48), (cx - 5, by - 62),
                                (cx + 5, by - 62), (cx + 5, by - 48), (cx + 12, by - 40), (cx + 12, by - 1)])
            draw_shape(d, shp, colour, outline=INK)
            objs[(bi, str(k))] = shp
    bi = int(rng.integers(3))
    k = _choice(rng, ["box", "ball", "bottle"])
    return Scene(img, [objs[(bi, k)]], f"Point to the {k} on the {names[bi]} shelf.")


# --- steerable ----------------------------------------------------------------------------------------
def steerable_neighbour(rng) -> Scene:
    img, cells, rel, anchor, tgt = _neighbour_pair(rng)
    ref = cells[anchor][3]
    return Scene(img, [cells[tgt][2]], f"Point to the shape directly {rel} the shape at the existing point.",
                 ref=ref)


def steerable_same_colour(rng) -> Scene:
    """Exactly two shapes share a colour; the reference point marks one, the answer is the other."""
    img = background(rng, SIZE)
    d = ImageDraw.Draw(img)
    colours = list(rng.permutation(list(COLOURS)))
    pair, others = colours[0], colours[1:]
    n_other = int(rng.integers(3, 6))
    centres = place_centres(rng, 2 + n_other, SIZE, 24)
    shapes = []
    for i, (cx, cy) in enumerate(centres):
        c = pair if i < 2 else others[(i - 2) % len(others)]
        shp = kind_shape(_choice(rng, KINDS), cx, cy, 24)
        draw_shape(d, shp, COLOURS[str(c)], outline=INK)
        shapes.append(shp)
    return Scene(img, [shapes[1]], "Point to the other shape that has the same colour as the shape at the "
                                   "existing point.", ref=centres[0])


def steerable_nearest(rng) -> Scene:
    """The reference point is on one shape; the nearest other shape is clearly nearer than the rest."""
    for _ in range(200):
        img = background(rng, SIZE)
        centres = place_centres(rng, int(rng.integers(5, 8)), SIZE, 22)
        ref = centres[0]
        dist = sorted((math.dist(ref, c), i) for i, c in enumerate(centres) if i)
        if dist[1][0] - dist[0][0] > 40:
            break
    d = ImageDraw.Draw(img)
    shapes = []
    for cx, cy in centres:
        shp = kind_shape(_choice(rng, KINDS), cx, cy, 22)
        draw_shape(d, shp, COLOURS[_choice(rng, list(COLOURS))], outline=INK)
        shapes.append(shp)
    return Scene(img, [shapes[dist[0][1]]], "Point to the shape closest to the shape at the existing point.",
                 ref=ref)


# --- reasoning ----------------------------------------------------------------------------------------
def reasoning_numbers(rng) -> Scene:
    n = int(rng.integers(4, 7))
    values = [int(v) for v in rng.choice(np.arange(2, 100), size=n, replace=False)]
    centres = place_centres(rng, n, SIZE, 32)
    img = background(rng, SIZE)
    d = ImageDraw.Draw(img)
    boxes = []
    for (cx, cy), v in zip(centres, values, strict=False):
        box = ("rect", cx - 32, cy - 26, cx + 32, cy + 26)
        draw_shape(d, box, (250, 250, 245), outline=INK)
        centred_text(d, cx, cy, str(v), 28, INK)
        boxes.append(box)
    if rng.random() < 0.5:
        return Scene(img, [boxes[values.index(max(values))]], "Point to the card showing the largest number.")
    return Scene(img, [boxes[values.index(min(values))]], "Point to the card showing the smallest number.")


_WORDS = {"animal": ["horse", "tiger", "rabbit", "eagle"], "fruit": ["apple", "banana", "cherry", "mango"],
          "tool": ["hammer", "wrench", "saw", "drill"]}


def reasoning_words(rng) -> Scene:
    group = _choice(rng, list(_WORDS))
    other = [g for g in _WORDS if g != group]
    answer = _choice(rng, _WORDS[group])
    distract = [_choice(rng, _WORDS[_choice(rng, other)]) for _ in range(6)]
    words = [answer] + list(dict.fromkeys(distract))[:4]
    centres = place_centres(rng, len(words), SIZE, 44)
    img = background(rng, SIZE)
    d = ImageDraw.Draw(img)
    target = None
    for i, ((cx, cy), w) in enumerate(zip(centres, words, strict=False)):
        box = ("rect", cx - 52, cy - 20, cx + 52, cy + 20)
        draw_shape(d, box, (250, 250, 245), outline=INK)
        centred_text(d, cx, cy, w, 22, INK)
        target = box if i == 0 else target
    article = "an" if group[0] in "aeiou" else "a"
    return Scene(img, [target], f"Point to the word that names {article} {group}.")


def reasoning_corners(rng) -> Scene:
    kinds = list(rng.permutation(list(CORNERS)))[:4]
    centres = place_centres(rng, 4, SIZE, 34)
    img = background(rng, SIZE)
    d = ImageDraw.Draw(img)
    colour = COLOURS[_choice(rng, list(COLOURS))]
    shapes = {}
    for (cx, cy), k in zip(centres, kinds, strict=False):
        shp = ("poly", regular_polygon(cx, cy, 34, CORNERS[str(k)]))
        draw_shape(d, shp, colour, outline=INK)
        shapes[str(k)] = shp
    most = max(shapes, key=lambda k: CORNERS[k])
    fewest = min(shapes, key=lambda k: CORNERS[k])
    if rng.random() < 0.5:
        return Scene(img, [shapes[most]], "Point to the shape with the most corners.")
    return Scene(img, [shapes[fewest]], "Point to the shape with the fewest corners.")


def reasoning_odd_one(rng) -> Scene:
    colour = _choice(rng, list(COLOURS))
    kind = _choice(rng, KINDS)
    odd_kind = _choice(rng, [k for k in KINDS if k != kind])
    n = int(rng.integers(5, 9))
    centres = place_centres(rng, n, SIZE, 24)
    img = background(rng, SIZE)
    d = ImageDraw.Draw(img)
    target = None
    for i, (cx, cy) in enumerate(centres):
        shp = kind_shape(odd_kind if i == 0 else kind, cx, cy, 24)
        draw_shape(d, shp, COLOURS[colour], outline=INK)
        target = shp if i == 0 else target
    return Scene(img, [target], "Point to the one shape that is different from all the others.")


# --- affordable ---------------------------------------------------------------------------------------
def _mirror(shapes, cx: float, flip: bool):
    if not flip:
        return shapes
    out: list[tuple] = []
    for s in shapes:
        if s[0] == "poly":
            out.append(("poly", [(2 * cx - x, y) for x, y in s[1]]))
        elif s[0] == "rect":
            out.append(("rect", 2 * cx - s[3], s[2], 2 * cx - s[1], s[4]))
        else:
            out.append(("ellipse", 2 * cx - s[1], s[2], s[3], s[4]))
    return out


def _tool_parts(kind: str, x: float, y: float, s: float):
    """(parts to draw as (shape, colour), handle shapes, shapes cut from the handle) for a tool whose reference
    corner is (x, y)."""
    if kind == "mug":
        body = ("rect", x, y, x + 90 * s, y + 110 * s)
        outer = ("ellipse", x + 90 * s, y + 55 * s, 34 * s, 34 * s)
        hole = ("ellipse", x + 90 * s, y + 55 * s, 18 * s, 18 * s)
        # the visible handle is exactly: outer disc minus hole minus body (the same draw order)
        return [(outer, "body"), (hole, "bg"), (body, "body")], [outer], [hole, body]
    if kind == "knife":
        blade = ("poly", [(x, y + 20 * s), (x + 170 * s, y), (x + 170 * s, y + 30 * s), (x, y + 30 * s)])
        handle = ("rect", x + 172 * s, y - 2 * s, x + 262 * s, y + 32 * s)
        return [(blade, METAL), (handle, "body")], [handle], []
    if kind == "hammer":
        head = ("rect", x, y, x + 110 * s, y + 40 * s)
        handle = ("rect", x + 40 * s, y + 42 * s, x + 70 * s, y + 210 * s)
        return [(head, METAL), (handle, WOOD)], [handle], []
    if kind == "pan":
        pan = ("ellipse", x + 80 * s, y + 80 * s, 80 * s, 80 * s)
        inner = ("ellipse", x + 80 * s, y + 80 * s, 66 * s, 66 * s)
        handle = ("rect", x + 162 * s, y + 68 * s, x + 290 * s, y + 92 * s)
        return [(pan, (60, 60, 60)), (inner, (95, 95, 95)), (handle, "body")], [handle], []
    if kind == "door":
        door = ("rect", x, y, x + 130 * s, y + 240 * s)
        knob = ("ellipse", x + 108 * s, y + 125 * s, 11 * s, 11 * s)
        return [(door, WOOD), (knob, (212, 175, 55))], [knob], []
    raise ValueError(kind)


_TOOL_TEXT = {
    "mug": "Point to the part of the mug you would hold to drink from it.",
    "knife": "Point to where you would safely hold the knife.",
    "hammer": "Point to where you would grip the hammer to use it.",
    "pan": "Point to where you would hold the frying pan.",
    "door": "Point to the part of the door you would turn to open it.",
}
_EXTENT = {"mug": (160, 130), "knife": (270, 40), "hammer": (120, 220), "pan": (300, 170), "door": (140, 250)}


def affordance_tool(rng, kind: str | None = None) -> Scene:
    kind = kind or _choice(rng, list(_TOOL_TEXT))
    img = background(rng, SIZE)
    d = ImageDraw.Draw(img)
    s = float(rng.uniform(0.8, 1.15)) if kind != "door" else float(rng.uniform(0.9, 1.2))
    ew0, eh0 = _EXTENT[kind]
    ew, eh = min(ew0 * s, SIZE[0] - 40), min(eh0 * s, SIZE[1] - 40)
    x = float(rng.uniform(20, SIZE[0] - ew - 20))
    y = float(rng.uniform(20, SIZE[1] - eh - 20))
    parts, handle, minus = _tool_parts(kind, x, y, s)
    flip = bool(rng.random() < 0.5) and kind != "door"
    cx = x + ew / 2
    body = COLOURS[_choice(rng, list(COLOURS))]
    bg = img.getpixel((0, 0))
    for shp, colour in parts:
        fill = body if colour == "body" else bg if colour == "bg" else colour
        draw_shape(d, _mirror([shp], cx, flip)[0], fill, outline=INK if colour != "bg" else None)
    return Scene(img, _mirror(handle, cx, flip), _TOOL_TEXT[kind], minus=tuple(_mirror(minus, cx, flip)))


def _tool_scene(kind: str) -> Callable[[np.random.Generator], Scene]:
    return lambda r: affordance_tool(r, kind)


GENERATORS: dict[str, list[Callable[[np.random.Generator], Scene]]] = {
    "affordable": [_tool_scene(k) for k in _TOOL_TEXT],
    "spatial": [spatial_grid, spatial_table, spatial_shelves],
    "counting": [counting_shapes, counting_letters],
    "steerable": [steerable_neighbour, steerable_same_colour, steerable_nearest],
    "reasoning": [reasoning_numbers, reasoning_words, reasoning_corners, reasoning_odd_one],
}
