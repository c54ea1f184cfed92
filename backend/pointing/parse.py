"""CLI: parse a raw model answer into original-image pixel points.

    python -m backend.pointing.parse --family molmo --width 640 --height 480 --file raw.txt
    echo '[{"point": [120, 80]}]' | python -m backend.pointing.parse --family pixel-json --width 640 --height 480
"""
from __future__ import annotations

import argparse
import json
import sys

from backend.pointing.parsers import FAMILIES, parse


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m backend.pointing.parse", description=__doc__.split("\n")[0])
    ap.add_argument("--family", required=True, help=f"one of {', '.join(FAMILIES)}")
    ap.add_argument("--width", type=int, required=True, help="original image width in pixels")
    ap.add_argument("--height", type=int, required=True, help="original image height in pixels")
    ap.add_argument("--file", help="file with the raw answer (default: read stdin)")
    ap.add_argument("--min-pixels", type=int, default=None, help="qwen2.5-vl: processor min_pixels")
    ap.add_argument("--max-pixels", type=int, default=None, help="qwen2.5-vl: processor max_pixels")
    a = ap.parse_args(argv)
    text = open(a.file, encoding="utf-8", errors="replace").read() if a.file else sys.stdin.read()
    try:
        res = parse(a.family, text, a.width, a.height, min_pixels=a.min_pixels, max_pixels=a.max_pixels)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = {"points": [[float(x), float(y)] for x, y in res.points], "parse_ok": res.ok}
    if res.error:
        out["error"] = res.error
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
