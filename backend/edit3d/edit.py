"""CLI: select an object in a photo, move it in 3D, write every output.

    python -m backend.edit3d.edit --image photo.jpg --point 300,240 --yaw 20 --tx 0.3 --out out/

Writes edited.png, guide.png, guide_mask.png (0/128/255), coarse_rgba.png, depth.png (16-bit),
transform.json (T, intrinsics, invented_fraction, stages, warnings) and object.glb; with
--turntable also turntable.gif. Uses the same components as the tab (models.toml), without the
database: nothing is recorded.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from backend.edit3d import exports
from backend.edit3d.fill import CLASSICAL
from backend.edit3d.params import DepthHint, EditParams, SceneSettings, Selection
from backend.edit3d.service import PREVIEW_SIDE, Backends, build_pipeline, carry_selection_label
from backend.imageio import ImageInputError, open_image


def _pair(s: str, n: int, what: str) -> tuple[float, ...]:
    try:
        vals = tuple(float(v) for v in s.split(","))
    except ValueError:
        vals = ()
    if len(vals) != n:
        raise SystemExit(f"--{what} needs {n} comma-separated numbers, got {s!r}")
    return vals


def _hint(s: str):
    x, y, d = _pair(s, 3, "hint")
    return DepthHint(x, y, d)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m backend.edit3d.edit", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--image", required=True, help="input photo (PNG/JPEG/WebP/...)")
    sel = p.add_mutually_exclusive_group(required=True)
    sel.add_argument("--point", action="append", help="x,y on the object (repeatable); original pixels")
    sel.add_argument("--box", help="x0,y0,x1,y1 around the object")
    sel.add_argument("--mask", help="mask image: white (or opaque) = object")
    p.add_argument("--neg", action="append", default=[], help="x,y on the background (with --point)")
    for k in ("yaw", "pitch", "roll"):
        p.add_argument(f"--{k}", type=float, default=0.0, help=f"{k} in degrees about the object's centroid")
    for k in ("tx", "ty", "tz"):
        p.add_argument(f"--{k}", type=float, default=0.0, help=f"translation {k[1]} in scene units (≈ metres)")
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--mirror", action="store_true")
    p.add_argument("--fov", type=float, default=55.0, help="horizontal field of view (degrees)")
    p.add_argument("--thickness", type=float, default=0.15, help="inflation depth / object width")
    p.add_argument("--hint", action="append", default=[], type=_hint, help="x,y,depth user depth hint (repeatable)")
    p.add_argument("--fill", default="auto",
                   help="auto (= sized, as the app) | sized | telea | ns | biharmonic | texture | exemplar | a models.toml inpaint name")
    p.add_argument("--depth", default="auto", help="auto | depth-proxy | a models.toml depth name")
    p.add_argument("--segmenter", default="auto", help="auto | grabcut | sam-vit-b")
    p.add_argument("--shadow", type=float, default=0.0, help="approximate contact shadow opacity 0..1")
    p.add_argument("--preview", action="store_true", help="work at 512 px instead of full resolution")
    p.add_argument("--turntable", action="store_true", help="also write turntable.gif (yaw ±30°)")
    p.add_argument("--out", required=True, help="output directory")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)

    try:
        img = open_image(args.image)
        upl = None
        if args.mask:
            upl = np.asarray(open_image(args.mask))
        clicks = [(_pair(s, 2, "point"), 1) for s in (args.point or ())] + [(_pair(s, 2, "neg"), 0) for s in args.neg]
        pts = tuple((xy[0], xy[1], lab) for xy, lab in clicks)
        box = _pair(args.box, 4, "box") if args.box else None
        selection = Selection(points=pts, box=(box[0], box[1], box[2], box[3]) if box else None,
                              mask_sha="cli" if upl is not None else None)
        settings = SceneSettings(fov_deg=args.fov, thickness=args.thickness, hints=tuple(args.hint),
                                 fill=args.fill if args.fill in CLASSICAL else "sized")
        params = EditParams(yaw=args.yaw, pitch=args.pitch, roll=args.roll, tx=args.tx, ty=args.ty, tz=args.tz,
                            scale=args.scale, mirror=args.mirror, shadow=args.shadow)
        pipe = build_pipeline(Backends(args.segmenter, args.depth, args.fill))
        t0 = time.perf_counter()
        prev = pipe.prepare(img, selection, settings, max_side=PREVIEW_SIDE, uploaded_mask=upl)
        scene = prev if args.preview else pipe.prepare(img, selection, settings, max_side=None, mask=prev.mask)
        carry_selection_label(prev, scene)
        result = pipe.render(scene, params)
        paths = exports.write_all(scene, result, args.out, full_size=img.size)
        if args.turntable:
            paths_gif = f"{args.out}/turntable.gif"
            with open(paths_gif, "wb") as fh:
                fh.write(exports.turntable_gif(pipe, prev, params))
            paths["turntable.gif"] = paths_gif
    except (ImageInputError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    summary = {"outputs": sorted(paths), "invented_fraction": round(result.invented_fraction, 5),
               "stages": result.log.stages, "warnings": result.warnings,
               "seconds": round(time.perf_counter() - t0, 3), "size": [scene.cam.width, scene.cam.height]}
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
