"""Command line for Point-Bench: `python -m backend.arena.bench_cli evaluate ...` (see --help).

Exactly one source of points: a registry pointer (`--pointer`), an OpenAI-compatible endpoint
(`--endpoint URL --model M --family F`), or a predictions file (`--predictions preds.json`, mapping
image_filename to [[x, y], ...] in pixels). Progress goes to stderr; results JSON to --out or stdout.
"""
from __future__ import annotations

import argparse
import json
import sys

import torch

from backend.arena import bench_service
from backend.arena.bench import (
    CATEGORIES,
    CATEGORY_LABELS,
    BenchError,
    evaluate_endpoint,
    evaluate_pointer,
    evaluate_predictions,
)


def _bar(done: int, total: int, desc: str) -> None:
    width = 30
    frac = done / total if total else 1.0
    fill = int(width * frac)
    sys.stderr.write(f"\r[{'#' * fill}{'.' * (width - fill)}] {done}/{total} {desc[:60]:<60}")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def format_table(res: dict) -> str:
    cols = [c for c in CATEGORIES if c in res["per_category"]]
    head = " | ".join(CATEGORY_LABELS[c] for c in cols) + " | Average | n"
    vals = " | ".join(f"{res['per_category'][c]:.2f}" for c in cols) + f" | {res['average']:.2f} | {res['n']}"
    return f"{res.get('model', '')}\n{head}\n{vals}"


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m backend.arena.bench_cli",
                                 description="Point-Bench evaluation with PointArena's scoring rules.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    ev = sub.add_parser("evaluate", help="score a pointer, an endpoint or a predictions file on a bench")
    ev.add_argument("--bench", required=True, help="bench directory (data.json, images/, masks/)")
    src = ev.add_mutually_exclusive_group(required=True)
    src.add_argument("--pointer", help="registry pointer name (see models.toml, capability 'pointing')")
    src.add_argument("--endpoint", help="OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1")
    src.add_argument("--predictions", help="JSON file: {image_filename: [[x, y], ...]} in pixels")
    ev.add_argument("--model", help="model id at the endpoint (with --endpoint); a label for --predictions")
    ev.add_argument("--family", default="pixel",
                    help="output convention at the endpoint: molmo, molmo2, gemini, qwen2.5-vl, pixel (default)")
    ev.add_argument("--out", help="write results JSON here (resumes a partial run of the same model and bench)")
    ev.add_argument("--overlays", help="write points-on-mask overlays into this directory")
    ev.add_argument("--timeout", type=float, default=60, help="seconds per item for a pointer (default 60)")
    ev.add_argument("--no-resume", action="store_true", help="ignore a partial --out file and start over")
    ev.add_argument("--quiet", action="store_true", help="no progress bar")
    fr = sub.add_parser("failed-runs", help="list (or --delete) stored results in which no item got a prediction "
                                            "(old versions stored them as a 0 %% score); uses DATABASE_URL/DATA_DIR")
    fr.add_argument("--delete", action="store_true", help="delete the listed rows (scored rows are never touched)")
    return ap


def failed_runs(delete: bool) -> int:
    rows = bench_service.failed_runs()
    for r in rows:
        print(f"#{r['id']}\t{r['created']}\t{r['model']}\t{r['bench']}\tn={r['n']}\t{r['first_reason']}")
    if delete and rows:
        gone = bench_service.delete_failed_runs([r["id"] for r in rows])
        print(f"deleted {gone} failed run(s)")
    else:
        print(f"{len(rows)} failed run(s)" + (" (re-run with --delete to remove them)" if rows else ""))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.cmd == "failed-runs":
        return failed_runs(args.delete)
    progress = None if args.quiet else _bar
    kw = dict(progress=progress, out=args.out, overlay_dir=args.overlays)
    try:
        if args.pointer:
            torch.set_num_threads(1)
            res = evaluate_pointer(args.bench, args.pointer, timeout_s=args.timeout, resume=not args.no_resume, **kw)
        elif args.endpoint:
            if not args.model:
                raise BenchError("--endpoint needs --model (the model id the server serves).")
            res = evaluate_endpoint(args.bench, args.endpoint, args.model, args.family, resume=not args.no_resume,
                                    **kw)
        else:
            res = evaluate_predictions(args.bench, args.predictions, model=args.model or "predictions", **kw)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.out:
        print(format_table(res))
        print(f"results written to {args.out}")
    else:
        json.dump(res, sys.stdout, indent=1)
        sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
