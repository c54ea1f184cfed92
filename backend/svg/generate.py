"""CLI: prompt (+ style) -> sanitised SVGs, PNGs and a manifest, through the same service as the tab.

    python -m backend.svg.generate --prompt "bell" --style phosphor/bold --n 4 --seed 0 --out out/
    python -m backend.svg.generate --prompt "bell" --exemplars a.svg b.svg c.svg --out out/
    python -m backend.svg.generate --list-styles | --list-engines
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from backend.svg import service
from backend.svg.corpus import load_corpus
from backend.svg.engines import list_engines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m backend.svg.generate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--prompt", help="what the icon shows, e.g. 'bell'")
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--style", help="installed set/variant, e.g. phosphor/bold (see --list-styles)")
    src.add_argument("--exemplars", nargs="+", type=Path, help="1-16 exemplar SVG (or PNG, traced) files")
    ap.add_argument("--engine", default="svg-retrieval", help="svg-engine name from models.toml")
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, help="output folder")
    ap.add_argument("--no-store", action="store_true", help="do not record the generation in the database")
    ap.add_argument("--list-styles", action="store_true")
    ap.add_argument("--list-engines", action="store_true")
    args = ap.parse_args(argv)


    if args.list_styles:
        print("\n".join(f"{s}\t{n}" for s, n in load_corpus().counts().items()))
        return 0
    if args.list_engines:
        for name, label, ok, why in list_engines():
            print(f"{name}\t{'available' if ok else 'unavailable'}\t{label}\t{why}")
        return 0
    if not args.prompt or not args.out:
        ap.error("--prompt and --out are required")
    try:
        style = args.style
        notes: list[str] = []
        if args.exemplars:
            style, notes = service.load_exemplars([(p.name, p.read_bytes()) for p in args.exemplars])
        gen = service.generate(args.prompt, style, engine=args.engine, n=args.n, seed=args.seed,
                               kind="cli", store=not args.no_store)
    except (ValueError, OSError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, c in enumerate(gen.candidates):
        stem = f"{i:02d}-" + (re.sub(r"[^a-z0-9]+", "-", (c.concept or c.prompt).lower()).strip("-") or "icon")
        (args.out / f"{stem}.svg").write_text(c.svg, encoding="utf-8")
        (args.out / f"{stem}.png").write_bytes(c.png)
        rows.append({"svg": f"{stem}.svg", "png": f"{stem}.png", **c.manifest()})
    manifest = {"prompt": args.prompt, "style": gen.style_label, "style_card": gen.card, "engine": gen.engine,
                "seed": gen.seed, "n": args.n, "elapsed_s": gen.elapsed_s, "generation_id": gen.generation_id,
                "notes": notes, "candidates": rows}
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=1, default=str), encoding="utf-8")
    for r in rows:
        print(f"{r['svg']}\t{r['concept']}\tnearest={r['nearest_id']} IoU={r['similarity']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
