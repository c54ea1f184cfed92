"""Command-line twin of the Anomaly Inspector tab: prompts + queries → sorted table and a results zip.

    python -m backend.anomaly.batch --prompts good.png --queries parts/ more.zip --engine knn --out results.zip

Queries may be image files, folders (searched recursively) or zips (read through `zipsafe`). The zip
has the same layout as the tab's "Export all" (results.csv/json, per-image heatmap/overlay/mask PNGs).
Thresholds not given are calibrated from the prompts (`inspector.calibrate_from_prompts`, the tab's defaults).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from backend.anomaly import exports
from backend.anomaly import inspector as insp
from backend.anomaly.zipsafe import IMAGE_SUFFIXES, read_images
from backend.errors import UserError
from backend.imageio import ImageInputError, open_image


def collect(paths: list[str]) -> tuple[list, list]:
    images, skipped = [], []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES)
            for f in files:
                try:
                    images.append((f.relative_to(p).as_posix(), open_image(f)))
                except ImageInputError as exc:
                    skipped.append((str(f), str(exc)))
            continue
        elif p.suffix.lower() == ".zip":
            z = read_images(p)
            images += [(f"{p.name}:{n}", im) for n, im in z.images]
            skipped += z.skipped
            continue
        else:
            try:
                images.append((p.name, open_image(p)))
            except ImageInputError as exc:
                skipped.append((str(p), str(exc)))
    return images, skipped


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m backend.anomaly.batch", description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", nargs="+", required=True, help="normal image(s), folders or zips")
    ap.add_argument("--queries", nargs="+", required=True, help="query image(s), folders or zips")
    ap.add_argument("--engine", default="knn", help="metauas | knn | ensemble")
    ap.add_argument("--resolution", default="256", choices=sorted(insp.RESOLUTIONS))
    ap.add_argument("--top-k", type=int, default=0, help="0 = use every prompt; k = retrieve k per query")
    ap.add_argument("--image-thr", type=float, default=None, help="default: calibrated from the prompts")
    ap.add_argument("--pixel-thr", type=float, default=None)
    ap.add_argument("--out", default=None, help="write the results zip here")
    args = ap.parse_args(argv)
    d = insp.engine_defaults(args.engine)
    try:
        prompts, bad_prompts = collect(args.prompts)
        if bad_prompts:
            raise UserError("; ".join(why for _, why in bad_prompts))
        queries, skipped = collect(args.queries)
        cal = None
        if args.image_thr is None or args.pixel_thr is None:  # the tab's defaults: calibrated from the prompts
            cal = insp.calibrate_from_prompts([p for _, p in prompts], engine=args.engine,
                                              resolution=args.resolution, retrieval_k=args.top_k)
        if cal is not None and not cal.calibrated:
            print(f"thresholds not calibrated: {cal.method}", file=sys.stderr)
        if cal is not None and cal.warning:
            print(f"warning: {cal.warning}", file=sys.stderr)
        it = cal.image if args.image_thr is None and cal else args.image_thr
        pt = cal.pixel if args.pixel_thr is None and cal else args.pixel_thr
        run = insp.inspect_batch(prompts, queries, engine=args.engine, resolution=args.resolution,
                                 retrieval_k=args.top_k, skipped=skipped,
                                 progress=lambda i, n, name: print(f"\r{i}/{n} {name[:40]:40s}", end="",
                                                                   file=sys.stderr))
    except (ValueError, RuntimeError) as exc:  # ImageInputError, ZipSafetyError, ModelUnavailable
        print(f"\nerror: {exc}", file=sys.stderr)
        return 2
    print(file=sys.stderr)
    rows = sorted(insp.summary_rows(run, it, pt), key=lambda r: -r["score"])
    print(f"{'score':>7}  verdict  regions  file")
    for r in rows:
        print(f"{r['score']:7.4f}  {r['verdict']:^7}  {r['regions']:>7}  {r['file']}"
              + (f"   ⚠ {r['warning']}" if r["warning"] else ""))
    for name, why in run.skipped:
        print(f"skipped {name}: {why}")
    print(f"{len(rows)} image(s), {sum(r['verdict'] == 'NG' for r in rows)} NG at image threshold {it}, "
          f"pixel threshold {pt}; {run.ms_total / 1000:.1f} s")
    if args.out:
        Path(args.out).write_bytes(exports.batch_zip(run, it, pt, vmax=d["vmax"]))
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
