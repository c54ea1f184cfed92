"""SVG studio figures: style-card transfer quality on paired ground truth, retrieval hit rates, timings.

    .venv/bin/python bench/svg.py [--concepts 60] [--queries 200]

1. Paired ground truth (research/svg.md §6): concepts drawn in both tabler/outline and phosphor/<w>. Restyle the
   Tabler icon with the phosphor/<w> card and compare with the real Phosphor icon: raster IoU at 64 px and the
   relative error of the measured line weight. Baseline: the unstyled Tabler icon (same comparison).
2. Retrieval: prompt = concept name -> top-1 is that concept (in the target style); prompt = one of its tags
   -> concept in top-5.
3. Timings, each with a ratio against a baseline run in the same process.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.svg.corpus import load_corpus  # noqa: E402
from backend.svg.paths import parse_svg_paths, paths_to_svg  # noqa: E402
from backend.svg.render import mask_iou, render_alpha  # noqa: E402
from backend.svg.style import apply_style, extract_style, style_from_set  # noqa: E402


def paired(concepts: int, seed: int = 0) -> None:
    c = load_corpus()
    tab = {ic.concept: ic for ic in c.of_style("tabler/outline")}
    print("## Style-card transfer, tabler/outline -> phosphor/<weight> (paired ground truth)")
    print("| target | n | IoU restyled | IoU unstyled (baseline) | weight rel. error restyled | baseline |")
    print("|---|---|---|---|---|---|")
    src = style_from_set("tabler/outline")
    for w in ("thin", "regular", "bold", "fill"):
        style = f"phosphor/{w}"
        card = style_from_set(style)
        phos = {ic.concept: ic for ic in c.of_style(style)}
        both = sorted(set(tab) & set(phos))
        pick = random.Random(seed).sample(both, min(concepts, len(both)))
        iou_r, iou_b, err_r, err_b = [], [], [], []
        for k in pick:
            truth = phos[k].svg
            restyled = paths_to_svg(apply_style(tab[k].paths, card, src), grid=card.grid)
            t = render_alpha(truth, 64)
            iou_r.append(mask_iou(t, render_alpha(restyled, 64)))
            iou_b.append(mask_iou(t, render_alpha(tab[k].svg, 64)))
            wt = extract_style([phos[k].paths], grid=24).stroke_width
            err_r.append(abs(extract_style([parse_svg_paths(restyled)[0]], grid=24).stroke_width - wt) / wt)
            err_b.append(abs(extract_style([tab[k].paths], grid=24).stroke_width - wt) / wt)
        print(f"| {style} | {len(pick)} | {np.mean(iou_r):.3f} | {np.mean(iou_b):.3f} | "
              f"{np.median(err_r):.2f} | {np.median(err_b):.2f} |")


def retrieval(queries: int, seed: int = 0) -> None:
    from backend.svg.engines import get_engine

    c = load_corpus()
    eng = get_engine("svg-retrieval")
    icons = random.Random(seed).sample(c.of_style("phosphor/bold"), queries)
    t0 = time.perf_counter()
    top1 = sum(eng.generate(ic.concept, "phosphor/bold", 1, 0)[0].source_id == ic.id for ic in icons)
    dt = (time.perf_counter() - t0) / queries
    tagged = [ic for ic in icons if ic.tags]
    hit5 = 0
    for ic in tagged:
        tag = random.Random(ic.id).choice(ic.tags)
        hit5 += ic.concept in [x.concept for x in eng.generate(tag, "phosphor/bold", 5, 0)]
    print("\n## Retrieval in phosphor/bold")
    print(f"prompt = concept name: top-1 exact icon {top1}/{queries} = {top1 / queries:.1%}")
    print(f"prompt = one random tag: concept in top-5 {hit5}/{len(tagged)} = {hit5 / max(1, len(tagged)):.1%}")
    print(f"latency per 1-candidate generate (incl. render + copying check): {dt * 1000:.0f} ms")


def timings() -> None:
    import defusedxml.ElementTree as DET

    from backend.svg.sanitize import sanitize_svg

    c = load_corpus()
    svgs = [ic.svg for ic in c.icons[:500]]
    t0 = time.perf_counter()
    for s in svgs:
        DET.fromstring(s)
    base = time.perf_counter() - t0
    t0 = time.perf_counter()
    for s in svgs:
        sanitize_svg(s)
    san = time.perf_counter() - t0
    print("\n## Timings")
    print(f"sanitise: {san / len(svgs) * 1000:.2f} ms/icon; defusedxml parse alone {base / len(svgs) * 1000:.2f} "
          f"ms/icon; ratio {san / base:.1f}x")
    card = style_from_set("phosphor/bold")
    src = style_from_set("tabler/outline")
    icons = c.of_style("tabler/outline")[:100]
    t0 = time.perf_counter()
    for ic in icons:
        paths_to_svg(ic.paths, grid=24)
    base = time.perf_counter() - t0
    t0 = time.perf_counter()
    for ic in icons:
        paths_to_svg(apply_style(ic.paths, card, src), grid=card.grid)
    app = time.perf_counter() - t0
    print(f"apply phosphor/bold card: {app / len(icons) * 1000:.1f} ms/icon; plain re-serialisation "
          f"{base / len(icons) * 1000:.2f} ms/icon; ratio {app / base:.0f}x")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--concepts", type=int, default=60)
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args()
    t0 = time.perf_counter()
    c = load_corpus()
    print(f"corpus: {len(c)} icons, {len(c.styles())} styles, load {time.perf_counter() - t0:.2f} s")
    paired(args.concepts)
    retrieval(args.queries)
    timings()


if __name__ == "__main__":
    main()
