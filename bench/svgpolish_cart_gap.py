"""svgpolish: the white gap between the cart's basket and its rail, against the card's line weight.

Issue 18's card (red, square caps, miter joins, outline, from three exemplars) at weights 1.5 to 4, "cart" restyled
from Ionicons' cart-outline, rendered at 10 px per viewBox unit (resvg). In the columns x = 11..15 of 24 (away from
the wheels and the handle) the basket's bottom stroke and the rail are two ink runs between y = 9.5 and 18.3; the
gap is the white between them (0 where they run together), in 1/24 of the box. Printed with the pull-apart step
(backend.svg.apart, legibility.PULL_APART) off and on, and the smallest gap legibility.min_gap calls readable.
Run: .venv/bin/python bench/svgpolish_cart_gap.py
"""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PX = 10  # render pixels per viewBox unit


def basket_gap(svg: str) -> float:
    from backend.svg.render import render_alpha

    ink = render_alpha(svg, 24 * PX) > 0.5
    gaps = []
    for x in range(11 * PX, 15 * PX + 1, PX // 2):
        col = ink[int(9.5 * PX):int(18.3 * PX), x].astype(np.int8)
        edges = np.flatnonzero(np.diff(col))
        starts = [e + 1 for e in edges if col[e + 1]] + ([0] if col[0] else [])
        if len(starts) < 2:
            gaps.append(0.0)
            continue
        runs = np.split(np.arange(len(col)), edges + 1)
        white = [len(r) for r in runs if not col[r[0]] and 0 < r[0] and r[-1] < len(col) - 1]
        gaps.append(min(white) / PX if white else 0.0)
    return float(min(gaps))


def main() -> None:
    from backend.svg import legibility
    from backend.svg.engines import RetrievalEngine
    from backend.svg.style import style_from_exemplars
    from tests.e2e.test_svg_e2e import EXEMPLARS

    base = style_from_exemplars(EXEMPLARS, name="mine")
    eng = RetrievalEngine()
    print(f"card: {base.mode}, {base.linecap} caps, {base.linejoin} joins, padding {base.padding}/24; "
          "gap between the cart's basket and rail in /24 (0 = closed)")
    print("weight  min_gap  source                          pull-apart off  pull-apart on  note (on)")
    for wt in (1.5, 2.0, 2.5, 3.0, 3.5, 4.0):
        card = dataclasses.replace(base, stroke_width=wt)
        row = {}
        for on in (False, True):
            legibility.PULL_APART = on
            c = eng.generate("cart", card, 1, 0)[0]
            row[on] = (basket_gap(c.svg), c.source_id, [n for n in c.notes if "squeezed" in n])
        note = row[True][2][0].removeprefix("Legibility: ") if row[True][2] else "-"
        print(f"{wt:6.1f}  {legibility.min_gap(wt / 24) * 24:7.2f}  {row[True][1]:30s}  {row[False][0]:14.1f}  "
              f"{row[True][0]:13.1f}  {note}")
    legibility.PULL_APART = True


if __name__ == "__main__":
    main()
