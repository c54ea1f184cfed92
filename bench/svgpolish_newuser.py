"""svgpolish: the studio as a new user, every installed style x 10 everyday prompts (retrieval engine, 4 candidates,
seed 0, as the UI's Generate), with the checks a script can make on every candidate:
- spill: share of ink outside the viewBox (legibility.outside_share) over 0.1 %;
- weight: a stroked candidate whose stroke-width (per viewBox side) differs from the card's by over 2 %;
- colour: a colour that is not in the card's palette;
- heavy: for line cards (outline, outline-fill), a visual line weight (style.visual_weight) over 1.15 x the
  family's own icons' median (blobs: lines run together; the family's own glyphs are the yardstick). Solid cards are
  not measured so: a filled glyph's "line weight" is its size.
The first candidates were also looked at, rendered at 64 and 24 px (what was seen is in docs/svg_studio.md).
Run: .venv/bin/python bench/svgpolish_newuser.py
"""
from __future__ import annotations

import os
import random
import re
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
PROMPTS = ["cat", "rocket", "coffee cup", "bicycle", "house", "umbrella", "camera", "tree", "heart", "shopping cart"]


def main() -> None:
    os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="svgpolish-"))
    from backend.svg import service, studio
    from backend.svg.corpus import load_corpus
    from backend.svg.legibility import outside_share
    from backend.svg.paths import paths_to_svg
    from backend.svg.style import visual_weight

    corpus = load_corpus()
    totals = {"candidates": 0, "spill": 0, "weight": 0, "colour": 0, "heavy": 0}
    print("style                first candidate's source per prompt; flags over all 4 candidates")
    for st in sorted(corpus.styles()):
        own = float(np.median([visual_weight(paths_to_svg(ic.paths, grid=24.0))[0]
                               for ic in random.Random(0).sample(corpus.of_style(st), 32)]))
        flags: dict[str, list[str]] = {k: [] for k in totals if k != "candidates"}
        firsts = []
        for p in PROMPTS:
            v = studio.generate(p, studio.StyleRequest(studio.SOURCE_SET, st), engine=service.DEFAULT_ENGINE, n=4,
                                seed=0)
            card = v.generation.card or {}
            firsts.append(v.candidates[0].get("source_id") or "?")
            for k, c in enumerate(v.candidates):
                svg, tag = c["svg"], f"{p}#{k + 1}"
                totals["candidates"] += 1
                side = float(re.search(r'viewBox="[-\d.]+ [-\d.]+ ([\d.]+)', svg).group(1))
                widths = {float(x) / side for x in re.findall(r'stroke-width="([\d.]+)"', svg)}
                want = card["stroke_width"] / card["grid"]
                if outside_share(svg) > 1e-3:
                    flags["spill"].append(tag)
                if card.get("mode") == "outline" and any(abs(x - want) > 0.02 * want for x in widths):
                    flags["weight"].append(tag)
                colours = set(re.findall(r'(?:fill|stroke)="(#[0-9a-fA-F]{3,6}|currentColor)"', svg))
                if colours - set(card.get("palette") or []):
                    flags["colour"].append(tag)
                if card.get("mode") != "solid" and visual_weight(svg)[0] > 1.15 * own:
                    flags["heavy"].append(tag)
        for k, v in flags.items():
            totals[k] += len(v)
        print(f"{st:20s} {', '.join(f.split('/')[0] + '/' + f.split('/')[-1] for f in firsts)}")
        print(f"{'':20s} own weight {own:.3f}; " + "; ".join(f"{k} {len(v)}" + (f" ({', '.join(v)})" if v else "")
                                                           for k, v in flags.items()))
    print("totals: " + ", ".join(f"{k} {v}" for k, v in totals.items()))


if __name__ == "__main__":
    main()
