"""Stage 6 — every output as bytes: PNGs, 16-bit depth, transform JSON, .glb mesh, turntable GIF.

Formats follow the two papers' conventions so results can be fed to their models later:
3D-Fixup's guide image with a 3-valued mask (0 hole, 0.5 rendered object, 1 keep) and Magic
Fixup's RGBA coarse edit whose alpha marks the disoccluded pixels.
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import trimesh
from PIL import Image

from .geometry import apply, lift
from .params import EditParams

OUTPUT_FILES = ("edited.png", "guide.png", "guide_mask.png", "coarse_rgba.png", "depth.png", "transform.json",
                "object.glb")


def png_bytes(arr: np.ndarray, mode: str | None = None) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr, mode=mode).save(buf, format="PNG") if mode else Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def guide_mask_u8(gmask: np.ndarray) -> np.ndarray:
    """0 → 0, 0.5 → 128, 1 → 255 (the exact three values, nothing in between)."""
    return np.select([gmask <= 0.25, gmask <= 0.75], [0, 128], 255).astype(np.uint8)


def depth_png(depth: np.ndarray) -> tuple[bytes, dict]:
    """16-bit PNG, linear in depth between the finite min and max (recorded for decoding)."""
    d = depth.astype(np.float64)
    fin = np.isfinite(d)
    lo, hi = (float(d[fin].min()), float(d[fin].max())) if fin.any() else (0.0, 1.0)
    q = np.zeros(d.shape, np.uint16)
    q[fin] = np.round((d[fin] - lo) / max(hi - lo, 1e-9) * 65535).astype(np.uint16)
    buf = io.BytesIO()
    Image.fromarray(q).save(buf, format="PNG")
    return buf.getvalue(), {"encoding": "uint16 linear", "depth_at_0": lo, "depth_at_65535": hi}


def depth_preview(depth: np.ndarray) -> np.ndarray:
    """Near = bright, far = dark (inverse depth), 8-bit RGB through a simple warm colour ramp."""
    d = depth.astype(np.float64)
    fin = np.isfinite(d) & (d > 0)
    inv = np.zeros_like(d)
    inv[fin] = 1.0 / d[fin]
    if fin.any():
        lo, hi = np.percentile(inv[fin], 1), np.percentile(inv[fin], 99)
        inv = np.clip((inv - lo) / max(hi - lo, 1e-12), 0, 1)
    r = np.clip(1.5 * inv, 0, 1)
    g = np.clip(1.5 * inv - 0.4, 0, 1)
    b = np.clip(0.6 - inv, 0, 1) * 0.8
    return (np.dstack([r, g, b]) * 255).astype(np.uint8)


def transform_record(scene, result, depth_meta: dict | None = None, full_size: tuple[int, int] | None = None) -> dict:
    return {
        "params": result.params.to_dict(),
        "T": np.round(result.T, 8).tolist(),
        "T_convention": "4x4, camera coordinates (x right, y down, z forward), applied as P' = T·P",
        "centroid": np.round(scene.centroid, 6).tolist(),
        "intrinsics": scene.cam.to_dict(),
        "working_scale": scene.scale,
        "full_size": list(full_size) if full_size else None,
        "invented_fraction": round(float(result.invented_fraction), 6),
        "in_frame_fraction": round(float(result.in_frame_fraction), 6),
        "warnings": list(result.warnings),
        "stages": dict(result.log.stages),
        "stage_kinds": {k: result.log.kinds.get(k, "classical") for k in result.log.stages},
        "timings_s": dict(result.log.timings),
        "scene": scene.settings.to_dict(),
        "depth_png": depth_meta or {},
    }


def object_glb(scene, T: np.ndarray, max_vertices: int = 40000) -> bytes:
    """The lifted object (in its edited pose) as a vertex-coloured triangle mesh for gr.Model3D.

    Neighbouring mask pixels are joined; a quad is dropped where its depth jumps (a silhouette
    between surfaces, as in BlenderFusion's mesh building). glTF is y-up, −z forward.
    """
    mask = scene.mask
    n = int(mask.sum())
    step = max(1, int(np.ceil(np.sqrt(n / max_vertices))))
    m = mask[::step, ::step]
    H, W = m.shape
    idx = -np.ones((H, W), np.int64)
    vs, us = np.nonzero(m)
    idx[vs, us] = np.arange(len(vs))
    z = scene.depth.depth[::step, ::step][vs, us].astype(np.float64)
    P = apply(T, lift(us * step + 0.0, vs * step + 0.0, z, scene.cam))
    cols = scene.rgb[::step, ::step][vs, us]
    a, b = idx[:-1, :-1], idx[:-1, 1:]
    c, d = idx[1:, :-1], idx[1:, 1:]
    ok = (a >= 0) & (b >= 0) & (c >= 0) & (d >= 0)
    zz = scene.depth.depth[::step, ::step]
    quad = np.stack([zz[:-1, :-1], zz[:-1, 1:], zz[1:, :-1], zz[1:, 1:]], 0)
    jump = (quad.max(0) - quad.min(0)) > 0.05 * np.median(z) * step
    ok &= ~jump
    A, B, Cc, D = a[ok], b[ok], c[ok], d[ok]
    faces = np.concatenate([np.stack([A, Cc, B], 1), np.stack([B, Cc, D], 1)])
    V = (P - P.mean(0)) * np.array([1.0, -1.0, -1.0])
    mesh = trimesh.Trimesh(vertices=V, faces=faces, vertex_colors=np.c_[cols, np.full(len(cols), 255)],
                           process=False)
    data = mesh.export(file_type="glb")
    assert isinstance(data, bytes)  # binary glTF
    return data


def turntable_gif(pipe, scene, params: EditParams, degrees: float = 30.0, frames: int = 9,
                  max_side: int = 320) -> bytes:
    """Yaw sweep −deg…+deg and back around the current edit, as a looping GIF."""
    yaws = np.linspace(-degrees, degrees, frames)
    seq = list(yaws) + list(yaws[-2:0:-1])
    imgs = {}
    for y in yaws:
        p = EditParams.from_dict({**params.to_dict(), "yaw": float(params.yaw + y)})
        im = Image.fromarray(pipe.render(scene, p).image)
        im.thumbnail((max_side, max_side))
        imgs[float(y)] = im.convert("P", palette=Image.Palette.ADAPTIVE)
    out = [imgs[float(y)] for y in seq]
    buf = io.BytesIO()
    out[0].save(buf, format="GIF", save_all=True, append_images=out[1:], duration=110, loop=0)
    return buf.getvalue()


def write_all(scene, result, out_dir, *, image: np.ndarray | None = None, pipe=None, turntable: bool = False,
              full_size=None) -> dict:
    """Write the standard output set to `out_dir`; returns {filename: path}."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dbytes, dmeta = depth_png(result.depth)
    files = {
        "edited.png": png_bytes(image if image is not None else result.image),
        "guide.png": png_bytes(result.guide),
        "guide_mask.png": png_bytes(guide_mask_u8(result.guide_mask)),
        "coarse_rgba.png": png_bytes(result.rgba),
        "depth.png": dbytes,
        "transform.json": json.dumps(transform_record(scene, result, dmeta, full_size), indent=2).encode(),
        "object.glb": object_glb(scene, result.T),
    }
    if turntable and pipe is not None:
        files["turntable.gif"] = turntable_gif(pipe, scene, result.params)
    paths = {}
    for name, data in files.items():
        (out / name).write_bytes(data)
        paths[name] = str(out / name)
    return paths
