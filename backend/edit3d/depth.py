"""Stage 2 — depth: a classical proxy by default, a transformers model from local weights, and
user depth hints aligned with the coarse stage of "Depth Anything with Any Prior".

No depth network ships inside any Python package here, so the default is honest geometry, not a
learned guess: the background is a ground plane seen from `camera_height` with a horizon row,
and the selected object stands on it as a billboard at its contact (lowest) row, inflated by a
√(distance transform) bulge so rotations show some parallax. A model's output is relative
disparity; it is given a scale from the proxy (or from hints) so translations keep their units.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np
import torch
from PIL import Image
from scipy.spatial import cKDTree

from backend.errors import UserError

from .geometry import Camera
from .params import DepthHint, SceneSettings
from .popup import NEAR, inflate, object_billboard, popup_depth  # noqa: F401 - inflate/object_billboard re-exported


@dataclass
class DepthResult:
    depth: np.ndarray  # H×W float32 scene depth (object included)
    background: np.ndarray  # H×W float32 depth of the scene without the object (for occlusion)
    source: str  # e.g. "classical:ground-plane+billboard+inflation" or "model:depth-anything-v2-small"


class DepthEstimator(Protocol):
    name: str
    label: str

    def estimate(self, rgb: np.ndarray, mask: np.ndarray | None, cam: Camera,
                 settings: SceneSettings) -> DepthResult: ...


# --- classical proxy ---------------------------------------------------------------------------

def ground_plane(cam: Camera, horizon: float, camera_height: float) -> np.ndarray:
    """Z(y) = f·h / (y − y_h) below the horizon; a far wall above it (clamped, never infinite)."""
    H = cam.height
    y_h = horizon * H
    far = cam.f * camera_height / max(0.04 * H, 1.0)
    rows = np.arange(H, dtype=np.float64)
    dy = rows - y_h
    with np.errstate(divide="ignore"):
        z = np.where(dy > 0, cam.f * camera_height / np.maximum(dy, 1e-9), far)
    z = np.clip(z, NEAR, far)
    return np.repeat(z[:, None], cam.width, axis=1).astype(np.float32)


class ProxyDepth:
    """Ground plane + the object as an inflated billboard; with no selection the photo's main
    object is proposed automatically (backend/edit3d/popup.py). Edge snapping exists but is off by
    default: it helped the motorcycle by 0.007 ρ and cost the textured rendered scenes 0.04."""

    kind = "classical"
    name = "depth-proxy"
    label = "ground plane + object pop-up (classical)"

    def __init__(self, entry=None, device: str = "cpu", auto: bool = True, snap: bool = False):
        self.auto, self.snap = auto, snap

    def estimate(self, rgb, mask, cam, settings) -> DepthResult:
        bg = ground_plane(cam, settings.horizon, settings.camera_height)
        depth, how = popup_depth(rgb, bg, cam, settings.thickness, mask=mask, horizon=settings.horizon,
                                 auto=self.auto, snap=self.snap)
        return DepthResult(depth=depth, background=bg, source="classical:" + how)


# --- transformers depth-estimation from local weights ----------------------------------------

class TransformersDepth:
    """A transformers `depth-estimation` pipeline (Depth-Anything-V2, DPT) loaded from a local dir.

    The network predicts relative disparity; we fit its scale and shift to the proxy's disparity
    over the background (least squares), so scene units match the rest of the app.
    """

    label = "transformers depth-estimation (local weights)"
    kind = "model"

    def __init__(self, entry=None, device: str = "cpu", path: str | None = None):
        from transformers import pipeline  # noqa: PLC0415 - optional heavy package, loaded with a user's checkpoint

        path = path or str(entry.resolved_path)
        self.name = getattr(entry, "name", "transformers-depth")
        self.output = (getattr(entry, "options", {}) or {}).get("output", "disparity")
        self.device = device
        self.pipe = pipeline("depth-estimation", model=path, device=device, local_files_only=True)
        self.label = f"{self.name} (transformers, {path.rstrip('/').split('/')[-1]})"

    @classmethod
    def check_available(cls, entry) -> tuple[bool, str]:
        p = entry.resolved_path
        if p is None or not (p / "config.json").is_file():
            return False, f"no config.json under {p}"
        return True, "weights found"

    def raw(self, rgb: np.ndarray) -> np.ndarray:
        """The network's output resized to the image (relative disparity unless output='depth')."""
        with torch.inference_mode():
            out = self.pipe(Image.fromarray(rgb[..., :3].astype(np.uint8)))
        pred = out["predicted_depth"]
        arr = pred.detach().float().cpu().numpy().squeeze()
        return cv2.resize(arr, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)

    def estimate(self, rgb, mask, cam, settings) -> DepthResult:
        raw = self.raw(rgb)
        proxy = ground_plane(cam, settings.horizon, settings.camera_height)
        keep = ~mask if mask is not None else np.ones(raw.shape, bool)
        if self.output == "depth":
            disp_pred = 1.0 / np.maximum(raw, 1e-6)
        else:
            disp_pred = raw
        s, t = fit_scale_shift(disp_pred[keep], 1.0 / proxy[keep])
        disp = s * disp_pred + t
        depth = 1.0 / np.clip(disp, 1.0 / (proxy.max() * 4), None)
        bg = depth.copy()
        if mask is not None and mask.any():
            bg = cv2.inpaint(depth.astype(np.float32), cv2.dilate(mask.astype(np.uint8), np.ones((5, 5))), 5,
                             cv2.INPAINT_TELEA)
        return DepthResult(depth=depth.astype(np.float32), background=bg.astype(np.float32),
                           source=f"model:{self.name}")


def fit_scale_shift(p: np.ndarray, q: np.ndarray) -> tuple[float, float]:
    """Least-squares s, t with s·p + t ≈ q; falls back to a pure scale when p is constant."""
    p, q = np.asarray(p, np.float64).ravel(), np.asarray(q, np.float64).ravel()
    if p.size == 0:
        return 1.0, 0.0
    A = np.stack([p, np.ones_like(p)], 1)
    (s, t), *_ = np.linalg.lstsq(A, q, rcond=None)
    if not np.isfinite(s) or abs(s) < 1e-12:
        return float(np.mean(q)) / max(float(np.mean(p)), 1e-12), 0.0
    return float(s), float(t)


# --- user depth hints: Prior-Depth-Anything coarse alignment ----------------------------------

def align_to_hints(depth: np.ndarray, hints: Sequence[DepthHint], k: int = 5) -> np.ndarray:
    """Per pixel: a distance-weighted least-squares scale and shift (in disparity) of the K nearest
    hints, w_k = (1/d_k)/Σ(1/d_j) as in Prior-Depth-Anything's coarse stage; hint pixels are exact.

    With one hint only a scale is fitted; when the K hints do not constrain a shift (equal
    predictions) that pixel gets a local scale-only fit; the global fit is the last resort for
    pixels whose local fit would give a non-positive disparity.
    """
    H, W = depth.shape
    pts = [(h.x, h.y, h.depth) for h in hints if 0 <= h.x < W and 0 <= h.y < H]
    bad = [h for h in hints if not (h.depth > 0 and np.isfinite(h.depth))]
    if bad:
        raise UserError("Depth hints must be positive distances (scene units from the camera).")
    if not pts:
        return depth
    xy = np.array([(x, y) for x, y, _ in pts], np.float64)
    q = 1.0 / np.array([d for *_, d in pts], np.float64)
    pred_disp = 1.0 / np.maximum(depth.astype(np.float64), 1e-9)
    p = pred_disp[np.clip(xy[:, 1].round().astype(int), 0, H - 1), np.clip(xy[:, 0].round().astype(int), 0, W - 1)]
    if len(pts) == 1:
        out = pred_disp * (q[0] / p[0])
        return (1.0 / out).astype(np.float32)
    gs, gt = fit_scale_shift(p, q)
    kk = min(k, len(pts))
    yy, xx = np.mgrid[0:H, 0:W]
    grid = np.stack([xx.ravel(), yy.ravel()], 1).astype(np.float64)
    dist, idx = cKDTree(xy).query(grid, k=kk)
    dist, idx = dist.reshape(-1, kk), idx.reshape(-1, kk)
    inv = 1.0 / np.maximum(dist, 0.5)
    w = inv / inv.sum(1, keepdims=True)
    a = w ** 2
    P, Q = p[idx], q[idx]
    Sa, Sp, Sq = a.sum(1), (a * P).sum(1), (a * Q).sum(1)
    Spp, Spq = (a * P * P).sum(1), (a * P * Q).sum(1)
    det = Sa * Spp - Sp ** 2
    ok = np.abs(det) > 1e-12 * np.maximum(Sa * Spp, 1e-30)
    s_scale = Spq / np.maximum(Spp, 1e-30)  # degenerate neighbourhood: local scale-only fit
    s = np.where(ok, (Sa * Spq - Sp * Sq) / np.where(ok, det, 1), s_scale)
    t = np.where(ok, (Spp * Sq - Sp * Spq) / np.where(ok, det, 1), 0.0)
    disp = s * pred_disp.ravel() + t
    floor = q.min() * 0.25
    disp = np.where(np.isfinite(disp) & (disp > floor), disp, np.maximum(gs * pred_disp.ravel() + gt, floor))
    out = (1.0 / disp).reshape(H, W)
    for (x, y, d) in pts:
        out[int(round(y)) if round(y) < H else H - 1, int(round(x)) if round(x) < W else W - 1] = d
    return out.astype(np.float32)
