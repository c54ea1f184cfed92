"""Command line for the pointing package: parse a raw answer, run one pointer, serve a pointer over HTTP.

    python -m backend.pointing.cli parse --family molmo --width 640 --height 480 --file raw.txt
    echo '[{"point": [120, 80]}]' | python -m backend.pointing.cli parse --family pixel-json --width 640 --height 480
    python -m backend.pointing.cli point --pointer lite0-cam --image photo.jpg --instruction "Point to the cat"
    python -m backend.pointing.cli serve --pointer lite0-cam --port 8009 [--family gemini] [--api-key-env KEY]

`parse` prints {"points", "parse_ok", "error"?}; `point` prints the PointResult as JSON (exit 1 when the model
found nothing usable, 2 on a bad instruction); `serve` runs an OpenAI-compatible endpoint (see serve.py).
"""
from __future__ import annotations

import argparse
import json
import sys

import uvicorn

from backend.config import limit_threads, secret
from backend.imageio import ImageInputError, open_image
from backend.pointing.base import check_instruction
from backend.pointing.parsers import FAMILIES, parse
from backend.pointing.serve import create_app
from backend.pointing.service import run_pointer
from backend.pointing.types import PointResult
from backend.registry import get_registry


def _parse(a: argparse.Namespace) -> int:
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


def _point(a: argparse.Namespace) -> int:
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


def _serve(a: argparse.Namespace) -> int:
    get_registry().get(a.pointer)  # load before serving: a typo fails now, and /v1/models answers only when ready
    app = create_app(a.pointer, a.family, a.model_id, a.delay_s, a.fail_first, secret(a.api_key_env))
    uvicorn.run(app, host=a.host, port=a.port, log_level="warning")
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m backend.pointing.cli", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("parse", help="raw model answer → original-image pixel points")
    p.add_argument("--family", required=True, help=f"one of {', '.join(FAMILIES)}")
    p.add_argument("--width", type=int, required=True, help="original image width in pixels")
    p.add_argument("--height", type=int, required=True, help="original image height in pixels")
    p.add_argument("--file", help="file with the raw answer (default: read stdin)")
    p.add_argument("--min-pixels", type=int, default=None, help="qwen2.5-vl: processor min_pixels")
    p.add_argument("--max-pixels", type=int, default=None, help="qwen2.5-vl: processor max_pixels")
    p.set_defaults(run=_parse)

    p = sub.add_parser("point", help="run one pointer on one image, print the PointResult as JSON")
    p.add_argument("--pointer", required=True, help="registry name (see models.toml, capability = pointing)")
    p.add_argument("--image", required=True, help="image file")
    p.add_argument("--instruction", required=True, help='e.g. "Point to the red mug"')
    p.add_argument("--timeout", type=float, default=60.0, help="seconds before giving up (default 60)")
    p.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    p.set_defaults(run=_point)

    p = sub.add_parser("serve", help="serve a local pointer as an OpenAI-compatible endpoint")
    p.add_argument("--pointer", required=True, help="registry name of a local pointer, e.g. lite0-cam, center")
    p.add_argument("--port", type=int, default=8009)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--family", default="pixel-json", help=f"answer dialect: {', '.join(FAMILIES)}")
    p.add_argument("--model-id", default=None, help="model id reported by /v1/models (default: the pointer name)")
    p.add_argument("--api-key-env", default=None, help="require 'Authorization: Bearer $VAR' on every request")
    p.add_argument("--delay-s", type=float, default=0.0, help="testing: sleep before answering each chat request")
    p.add_argument("--fail-first", type=int, default=0, help="testing: answer HTTP 500 to the first N chat requests")
    p.add_argument("--threads", type=int, default=1, help="torch threads")
    p.set_defaults(run=_serve)
    return ap


def main(argv: list[str] | None = None) -> int:
    a = build_parser().parse_args(argv)
    if hasattr(a, "threads"):
        limit_threads(a.threads)  # before any model (torch, onnxruntime) loads
    return int(a.run(a))


if __name__ == "__main__":
    raise SystemExit(main())
