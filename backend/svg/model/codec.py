"""Path tokens: one fixed-length vector per contour, up to K per icon, in a canonical order, with a keep bit.

This is the CPU-sized stand-in for the paper's `P_i = (z_i, C_i, Tr_i)` (shape latent, colour, transform):

    shape  z   PCA_DIMS whitened PCA coefficients of the contour's N_POINTS samples, after moving the contour's
               bounding-box centre to 0 and dividing by its longer side (a deterministic "VAE-lite", fitted in
               seconds, replaceable by a learned path VAE later)
    place  Tr  centre x, y (mapped to [-1, 1]) and log side (standardised)
    flags      closed, fill, stroke (each ±1)
    paint      stroke width (fraction of the canvas, standardised) and opacity (mapped to [-1, 1])
    keep       +1 for a real contour, -1 for an empty slot (empty slots are all-zero otherwise), which avoids an
               autoregressive EOS failure mode: the count of paths is just another denoised quantity

Every feature is roughly zero-mean, unit-variance, which is what a diffusion model on raw vectors wants.
Slots are ordered by contour size (largest first, ties by position) so slot 0 is "the outline".
The codec is plain numpy so the GPU trainer can carry it inside the checkpoint.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .contours import N_POINTS, Contour

K_SLOTS = 24
PCA_DIMS = 24
# feature layout
F_SHAPE = slice(0, PCA_DIMS)
F_CX, F_CY, F_LOGS = PCA_DIMS, PCA_DIMS + 1, PCA_DIMS + 2
F_CLOSED, F_FILL, F_STROKE = PCA_DIMS + 3, PCA_DIMS + 4, PCA_DIMS + 5
F_SW, F_OPACITY, F_KEEP = PCA_DIMS + 6, PCA_DIMS + 7, PCA_DIMS + 8
N_FEATURES = PCA_DIMS + 9


def normalise_shape(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(N,2) canvas points -> (unit-side shape centred at 0, centre, side)."""
    lo, hi = points.min(0), points.max(0)
    centre = (lo + hi) / 2
    side = float(max(hi[0] - lo[0], hi[1] - lo[1], 1e-4))
    return (points - centre) / side, centre, side


def order_contours(contours: list[Contour], k: int = K_SLOTS) -> list[Contour]:
    """Keep the k largest contours, largest first (ties: top-left first)."""
    keyed = sorted(contours, key=lambda c: (-round(c.size, 3), round(float(c.points[:, 1].mean()), 3),
                                            round(float(c.points[:, 0].mean()), 3)))
    return keyed[:k]


@dataclass
class PathCodec:
    mean: np.ndarray  # (2*N_POINTS,)
    components: np.ndarray  # (PCA_DIMS, 2*N_POINTS), orthonormal rows
    scales: np.ndarray  # (PCA_DIMS,) sqrt eigenvalues, used to whiten
    logs_mu: float
    logs_sd: float
    sw_mu: float
    sw_sd: float

    # ---------------------------------------------------------------- fitting / persistence
    @classmethod
    def fit(cls, contours: list[Contour], dims: int = PCA_DIMS, seed: int = 0, max_fit: int = 60000) -> PathCodec:
        rng = np.random.default_rng(seed)
        if len(contours) > max_fit:
            contours = [contours[i] for i in rng.choice(len(contours), max_fit, replace=False)]
        shapes = np.stack([normalise_shape(c.points)[0].reshape(-1) for c in contours])
        mean = shapes.mean(0)
        _, s, vt = np.linalg.svd(shapes - mean, full_matrices=False)
        scales = s[:dims] / np.sqrt(max(len(shapes) - 1, 1))
        if len(scales) < dims:  # fewer contours than dims (tiny fits in tests): pad with inert directions
            vt = np.vstack([vt[:dims], np.zeros((dims - len(scales), vt.shape[1]))])
            scales = np.concatenate([scales, np.ones(dims - len(scales))])
        logs = np.log([max(c.size, 1e-4) for c in contours])
        sws = np.array([c.stroke_width for c in contours if c.stroke] or [0.08])
        return cls(mean.astype(np.float32), vt[:dims].astype(np.float32), np.maximum(scales, 1e-3).astype(np.float32),
                   float(logs.mean()), float(logs.std() + 1e-6), float(sws.mean()), float(sws.std() + 1e-3))

    def explained(self, contours: list[Contour]) -> float:
        """Mean absolute reconstruction error of the shape code, in canvas units (lower is better)."""
        errs = [float(np.abs(self.decode_points(self.encode_contour(c)) - c.points).mean()) for c in contours]
        return float(np.mean(errs)) if errs else 0.0

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"codec_mean": self.mean, "codec_components": self.components, "codec_scales": self.scales,
                "codec_stats": np.array([self.logs_mu, self.logs_sd, self.sw_mu, self.sw_sd], np.float32)}

    @classmethod
    def from_arrays(cls, d) -> PathCodec:
        st = np.asarray(d["codec_stats"], np.float64)
        return cls(np.asarray(d["codec_mean"], np.float32), np.asarray(d["codec_components"], np.float32),
                   np.asarray(d["codec_scales"], np.float32), *map(float, st))

    # ---------------------------------------------------------------- encode
    def encode_contour(self, c: Contour) -> np.ndarray:
        shape, centre, side = normalise_shape(c.points)
        v = np.zeros(N_FEATURES, np.float32)
        v[F_SHAPE] = (self.components @ (shape.reshape(-1) - self.mean)) / self.scales
        v[F_CX], v[F_CY] = centre * 2 - 1
        v[F_LOGS] = (np.log(side) - self.logs_mu) / self.logs_sd
        v[F_CLOSED] = 1 if c.closed else -1
        v[F_FILL] = 1 if c.fill else -1
        v[F_STROKE] = 1 if c.stroke else -1
        v[F_SW] = (c.stroke_width - self.sw_mu) / self.sw_sd if c.stroke else 0.0
        v[F_OPACITY] = c.opacity * 2 - 1
        v[F_KEEP] = 1
        return v

    def encode_icon(self, contours: list[Contour], k: int = K_SLOTS) -> np.ndarray:
        """(k, N_FEATURES); kept slots first, empty slots zero with keep = -1."""
        out = np.zeros((k, N_FEATURES), np.float32)
        out[:, F_KEEP] = -1
        for i, c in enumerate(order_contours(contours, k)):
            out[i] = self.encode_contour(c)
        return np.clip(out, -6, 6)

    # ---------------------------------------------------------------- decode
    def decode_points(self, v: np.ndarray) -> np.ndarray:
        """Token -> (N_POINTS, 2) canvas points (not clipped)."""
        shape = (self.mean + (v[F_SHAPE] * self.scales) @ self.components).reshape(N_POINTS, 2)
        side = float(np.exp(np.clip(v[F_LOGS] * self.logs_sd + self.logs_mu, np.log(1e-3), np.log(1.5))))
        centre = (np.clip(v[[F_CX, F_CY]], -1.2, 1.2) + 1) / 2
        return shape * side + centre

    def decode_contour(self, v: np.ndarray) -> Contour:
        v = np.nan_to_num(np.asarray(v, np.float64), nan=0.0, posinf=6.0, neginf=-6.0)
        pts = np.clip(self.decode_points(v), -0.05, 1.05)
        fill, stroke = v[F_FILL] > 0, v[F_STROKE] > 0
        if not (fill or stroke):  # defensive: an invisible path is never what the model meant
            fill, stroke = (v[F_FILL] >= v[F_STROKE]), (v[F_STROKE] > v[F_FILL])
        sw = float(np.clip(v[F_SW] * self.sw_sd + self.sw_mu, 0.01, 0.2)) if stroke else 0.0
        op = float(np.clip((v[F_OPACITY] + 1) / 2, 0.1, 1.0))
        return Contour(pts, bool(v[F_CLOSED] > 0 or (fill and not stroke)), bool(fill), bool(stroke), sw, op)

    def decode_icon(self, tokens: np.ndarray) -> list[Contour]:
        """Kept slots -> contours. At least one contour is always returned (the most confident slot)."""
        tokens = np.nan_to_num(np.asarray(tokens, np.float64))
        keep = tokens[:, F_KEEP]
        idx = [i for i in range(len(tokens)) if keep[i] > 0] or [int(np.argmax(keep))]
        return [self.decode_contour(tokens[i]) for i in idx]
