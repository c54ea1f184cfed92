"""Pinhole lifting, rigid 3D transforms and forward z-buffer re-projection (pure numpy).

Why forward splatting: the edit is defined on the source pixels (what we can see), and we need
the inverse map "which source pixel lands where" to report disocclusions honestly; backward
warping (kornia's warp_frame_depth) would need depth in the edited view, which we do not have.
Supersampling: every source pixel is split into ss×ss sub-points that all carry the pixel's own
colour and depth, splatted to an ss-times finer grid and box-averaged back, so an identity edit
reproduces the source exactly and magnified objects get fewer cracks.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from backend.errors import UserError

from .params import EditParams


@dataclass(frozen=True)
class Camera:
    """Pinhole intrinsics; pixel centres sit at integer coordinates."""

    f: float
    cx: float
    cy: float
    width: int
    height: int

    @classmethod
    def from_fov(cls, width: int, height: int, fov_deg: float) -> Camera:
        if not 5.0 <= fov_deg <= 170.0:
            raise UserError(f"The field of view must be between 5° and 170°, got {fov_deg:g}°.")
        f = (width / 2.0) / math.tan(math.radians(fov_deg) / 2.0)
        return cls(f=f, cx=(width - 1) / 2.0, cy=(height - 1) / 2.0, width=width, height=height)

    @property
    def K(self) -> np.ndarray:
        return np.array([[self.f, 0, self.cx], [0, self.f, self.cy], [0, 0, 1.0]])

    def to_dict(self) -> dict:
        return {"fx": self.f, "fy": self.f, "cx": self.cx, "cy": self.cy, "width": self.width, "height": self.height,
                "K": self.K.tolist()}


def lift(u: np.ndarray, v: np.ndarray, z: np.ndarray, cam: Camera) -> np.ndarray:
    """P = Z · K⁻¹ [u, v, 1]ᵀ for arrays of pixel coordinates; returns (N, 3)."""
    x = (u - cam.cx) / cam.f * z
    y = (v - cam.cy) / cam.f * z
    return np.stack([x, y, z], axis=-1)


def project(P: np.ndarray, cam: Camera) -> tuple[np.ndarray, np.ndarray]:
    z = P[:, 2]
    return cam.f * P[:, 0] / z + cam.cx, cam.f * P[:, 1] / z + cam.cy


def rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """R = Ry(yaw) · Rx(pitch) · Rz(roll), degrees; camera axes x right, y down, z forward."""
    a, b, c = (math.radians(t) for t in (yaw, pitch, roll))
    ry = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    rx = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
    rz = np.array([[math.cos(c), -math.sin(c), 0], [math.sin(c), math.cos(c), 0], [0, 0, 1]])
    return ry @ rx @ rz


def transform_matrix(p: EditParams, centroid: np.ndarray) -> np.ndarray:
    """4×4 homogeneous T = Tr(c + t) · R · S · M · Tr(−c): rotate/scale/mirror about the centroid."""
    if not (0.05 <= p.scale <= 20):
        raise UserError(f"Scale must be between 0.05 and 20, got {p.scale:g}.")
    lin = rotation(p.yaw, p.pitch, p.roll) @ np.diag([(-1.0 if p.mirror else 1.0) * p.scale, p.scale, p.scale])
    T = np.eye(4)
    T[:3, :3] = lin
    c = np.asarray(centroid, dtype=np.float64)
    T[:3, 3] = c + np.array([p.tx, p.ty, p.tz]) - lin @ c
    return T


def apply(T: np.ndarray, P: np.ndarray) -> np.ndarray:
    """T applied to (N, 3) points (column-wise: numpy's small-matrix matmul is slow on big N)."""
    out = np.empty_like(P)
    for i in range(3):
        out[:, i] = P[:, 0] * T[i, 0] + P[:, 1] * T[i, 1] + P[:, 2] * T[i, 2] + T[i, 3]
    return out


def _first_per_key(key: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Indices of the nearest (smallest z) element for each distinct integer key: one float sort
    on key + normalised depth (cheaper than a two-key lexsort)."""
    lo, hi = float(z.min()), float(z.max())
    frac = (z - lo) / (hi - lo + 1e-12) * 0.999
    order = np.argsort(key.astype(np.float64) + frac, kind="stable")
    ks = key[order]
    first = np.ones(len(order), bool)
    first[1:] = ks[1:] != ks[:-1]
    return order[first]


@dataclass
class Splat:
    """Result of re-projecting the object: colours, coverage, depth and source coordinates."""

    rgb: np.ndarray  # H×W×3 float32 (valid where coverage > 0)
    coverage: np.ndarray  # H×W float32 in [0, 1]: fraction of sub-pixels hit
    depth: np.ndarray  # H×W float32, +inf where empty
    src_xy: np.ndarray  # H×W×2 float32 source pixel (x, y) of the nearest hit, -1 where empty
    n_points: int  # sub-points splatted
    n_in_frame: int  # of those, how many landed inside the frame in front of the camera

    @property
    def in_frame_fraction(self) -> float:
        return self.n_in_frame / self.n_points if self.n_points else 0.0


def subpixel_offsets(ss: int) -> np.ndarray:
    o = (np.arange(ss) + 0.5) / ss - 0.5
    return np.stack(np.meshgrid(o, o), axis=-1).reshape(-1, 2)  # (ss², 2) as (du, dv)


@dataclass
class SubPoints:
    """The object's pixels split into ss×ss lifted sub-points; built once per scene."""

    P: np.ndarray  # (N·ss², 3) float32 lifted positions
    src: np.ndarray  # (N·ss², 2) float32 source pixel of each sub-point
    col: np.ndarray  # (N·ss², 3) float32 colour
    ss: int


def make_subpoints(u0: np.ndarray, v0: np.ndarray, z: np.ndarray, colors: np.ndarray, cam: Camera,
                   ss: int = 2) -> SubPoints:
    offs = subpixel_offsets(ss)
    u = (u0[:, None] + offs[None, :, 0]).ravel()
    v = (v0[:, None] + offs[None, :, 1]).ravel()
    zz = np.repeat(z, len(offs))
    src = np.repeat(np.stack([u0, v0], axis=-1), len(offs), axis=0).astype(np.float32)
    col = np.repeat(colors, len(offs), axis=0).astype(np.float32)
    return SubPoints(lift(u, v, zz, cam).astype(np.float32), src, col, ss)


def splat(P_src_px: tuple[np.ndarray, np.ndarray] | SubPoints, z: np.ndarray | None, colors: np.ndarray | None,
          T: np.ndarray, cam: Camera, ss: int = 2, near: float = 1e-3) -> Splat:
    """Forward-project object pixels (u, v, depth z, colour) — or prepared `SubPoints` — moved by T.

    The nearest sub-point wins each fine cell (sort on cell + depth); coverage is the fraction of
    an output pixel's ss×ss cells that were hit, used later as alpha.
    """
    if isinstance(P_src_px, SubPoints):
        sub = P_src_px
    else:
        if z is None or colors is None:
            raise ValueError("splat needs depth and colours unless given prepared SubPoints")
        sub = make_subpoints(*P_src_px, z, colors, cam, ss)
    ss, src, col = sub.ss, sub.src, sub.col
    u = sub.P  # only its length is used below
    P = apply(T.astype(np.float32), sub.P)
    H, W = cam.height, cam.width
    rgb = np.zeros((H, W, 3), np.float32)
    cov = np.zeros((H, W), np.float32)
    dep = np.full((H, W), np.inf, np.float32)
    sxy = np.full((H, W, 2), -1.0, np.float32)
    front = P[:, 2] > near
    if not front.any():
        return Splat(rgb, cov, dep, sxy, len(u), 0)
    P, col, src = P[front], col[front], src[front]
    pu, pv = project(P, cam)
    # fine-grid cell of each sub-point (the fine grid's cell centres sit at the same sub-offsets)
    fu = np.floor((pu + 0.5) * ss).astype(np.int64)
    fv = np.floor((pv + 0.5) * ss).astype(np.int64)
    ok = (fu >= 0) & (fu < W * ss) & (fv >= 0) & (fv < H * ss)
    n_in = int(ok.sum())
    if not n_in:
        return Splat(rgb, cov, dep, sxy, len(u), 0)
    fu, fv, Z, col, src = fu[ok], fv[ok], P[ok, 2], col[ok], src[ok]
    cell = fv * (W * ss) + fu
    win = _first_per_key(cell, Z)  # nearest sub-point per fine cell
    cells = cell[win]
    flat = ((cells // (W * ss)) // ss) * W + (cells % (W * ss)) // ss
    n = float(ss * ss)
    cov = (np.bincount(flat, minlength=H * W) / n).astype(np.float32).reshape(H, W)
    for c in range(3):
        rgb[..., c] = np.bincount(flat, weights=col[win, c], minlength=H * W).reshape(H, W) / n
    zw = Z[win]
    best = _first_per_key(flat, zw)  # nearest sub-point per output pixel
    dep.reshape(-1)[flat[best]] = zw[best]
    sxy.reshape(-1, 2)[flat[best]] = src[win][best]
    hit = cov > 0
    rgb[hit] /= cov[hit, None]
    return Splat(rgb, cov, dep, sxy, len(u), n_in)


def centroid_of(u: np.ndarray, v: np.ndarray, z: np.ndarray, cam: Camera) -> np.ndarray:
    return lift(u, v, z, cam).mean(axis=0)
