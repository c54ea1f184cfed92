"""CLI: run one pointer on one image and print the PointResult as JSON.

    python -m backend.pointing.point --pointer lite0-cam --image photo.jpg --instruction "Point to the cat"
"""
from __future__ import annotations

import argparse
import json
import sys


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m backend.pointing.point", description=__doc__.split("\n")[0])
    ap.add_argument("--pointer", required=True, help="registry name (see models.toml, capability = pointing)")
    ap.add_argument("--image", required=True, help="image file")
    ap.add_argument("--instruction", required=True, help='e.g. "Point to the red mug"')
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds before giving up (default 60)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    a = ap.parse_args(argv)

    import os

    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, a.threads)))  # read by torch/onnxruntime when they load
    from backend.imageio import ImageInputError, open_image
    from backend.pointing.base import check_instruction
    from backend.pointing.service import run_pointer
    from backend.pointing.types import PointResult

    try:
        check_instruction(a.instruction)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        img = open_image(a.image)
    except (ImageInputError, OSError) as exc:
        print(json.dumps(PointResult(model=a.pointer, error=f"cannot read the image: {exc}").to_dict()))
        return 1
    try:
        res = run_pointer(a.pointer, img, a.instruction, timeout_s=a.timeout)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(res.to_dict(), ensure_ascii=False))
    return 0 if res.parse_ok else 1


if __name__ == "__main__":
    sys.exit(main())
