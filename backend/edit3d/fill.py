"""Stage 4a — background fill of the region the object uncovered, and the optional model refine.

Classical fills (OpenCV Telea / Navier-Stokes, scikit-image biharmonic) are the default; they are
smooth and blur large holes, which the UI says. When a Stable-Diffusion inpainting checkpoint sits
under MODELS_DIR, `DiffusersInpaint` fills the same hole and `DiffusersRefiner` can re-render the
hole plus the object's seam. Both only ever change pixels inside their mask: everything else is
copied from the input, so "untouched" stays provably untouched.
"""
from __future__ import annotations

import cv2
import numpy as np
import torch
from PIL import Image
from skimage.restoration import inpaint_biharmonic

from backend.errors import UserError

from .exemplar import exemplar_fill

CLASSICAL = ("sized", "telea", "ns", "biharmonic", "texture", "exemplar")
THIN_PX = 4.0  # "sized": hole parts whose inscribed radius is ≤ this get Telea …
# … wider parts up to this fraction of the image get exemplar patches, larger ones Navier-Stokes
EXEMPLAR_MAX_FRACTION = 0.02


class ClassicalFiller:
    name = "fill-telea"
    kind = "classical"
    label = "OpenCV Telea inpainting, optionally with transplanted texture (classical)"

    def __init__(self, entry=None, device: str = "cpu", method: str = "sized", radius: int = 5):
        opts = getattr(entry, "options", {}) or {}
        self.method = opts.get("method", method)
        self.radius = int(opts.get("radius", radius))
        if self.method not in CLASSICAL:
            raise UserError(f"Unknown fill method {self.method!r}; use one of {', '.join(CLASSICAL)}.")

    def with_method(self, method: str) -> ClassicalFiller:
        f = ClassicalFiller(method=method, radius=self.radius)
        return f

    @property
    def describe(self) -> str:
        return {"telea": "OpenCV Telea", "ns": "OpenCV Navier-Stokes", "biharmonic": "scikit-image biharmonic",
                "texture": "OpenCV Telea + transplanted texture", "exemplar": "exemplar patches (Criminisi)",
                "sized": "by hole size: Telea (thin), exemplar patches (medium), Navier-Stokes (large)"
                }[self.method] + " (classical)"

    def fill(self, rgb: np.ndarray, hole: np.ndarray, seed: int = 0) -> np.ndarray:
        if not hole.any():
            return rgb.copy()
        if self.method == "biharmonic":
            # biharmonic is O(hole²); solve at ≤256 px and upsample the fill only
            H, W = hole.shape
            s = min(1.0, 256.0 / max(H, W))
            small = cv2.resize(rgb, (max(1, int(W * s)), max(1, int(H * s))), interpolation=cv2.INTER_AREA)
            sh = cv2.resize(hole.astype(np.uint8), small.shape[1::-1], interpolation=cv2.INTER_NEAREST) > 0
            sh |= cv2.resize(cv2.dilate(hole.astype(np.uint8), np.ones((3, 3))), small.shape[1::-1],
                             interpolation=cv2.INTER_AREA) > 0
            f = inpaint_biharmonic(small.astype(np.float64) / 255.0, sh, channel_axis=-1)
            big = cv2.resize((np.clip(f, 0, 1) * 255).astype(np.uint8), (W, H), interpolation=cv2.INTER_CUBIC)
            out = rgb.copy()
            out[hole] = big[hole]
            return out
        if self.method == "texture":
            return texture_fill(rgb, hole, self.radius)
        if self.method == "exemplar":
            return exemplar_fill(rgb, hole)
        if self.method == "sized":
            return size_chosen_fill(rgb, hole, self.radius)
        flag = cv2.INPAINT_TELEA if self.method == "telea" else cv2.INPAINT_NS
        out = cv2.inpaint(np.ascontiguousarray(rgb), hole.astype(np.uint8), self.radius, flag)
        res = rgb.copy()
        res[hole] = out[hole]
        return res


def size_chosen_fill(rgb: np.ndarray, hole: np.ndarray, radius: int = 5) -> np.ndarray:
    """Per connected part of the hole, by size (docs/edit3d.md, "Background fill"): thin parts
    (inscribed radius ≤ THIN_PX) get Telea — near exact and instant; wide parts up to
    EXEMPLAR_MAX_FRACTION of the image get exemplar patches, which keep texture where Telea blurs
    (lowest gradient error on the medium held-out holes); larger parts get Navier-Stokes, which
    scored better than exemplar there and costs milliseconds instead of seconds."""
    n, lab = cv2.connectedComponents(hole.astype(np.uint8), connectivity=8)
    dist = cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 3)
    kind = np.zeros(n, np.int8)  # 0 thin (Telea), 1 exemplar, 2 Navier-Stokes
    areas = np.bincount(lab.ravel(), minlength=n)
    peak = np.zeros(n, np.float32)
    np.maximum.at(peak, lab.ravel().astype(np.intp), dist.ravel())
    for i in range(1, n):
        if peak[i] > THIN_PX:
            kind[i] = 1 if areas[i] <= EXEMPLAR_MAX_FRACTION * hole.size else 2
    out = rgb.copy()
    per_px = kind[lab] * hole
    for k, flag in ((0, cv2.INPAINT_TELEA), (2, cv2.INPAINT_NS)):
        part = hole & (per_px == k)
        if part.any():
            t = cv2.inpaint(np.ascontiguousarray(rgb), part.astype(np.uint8), radius, flag)
            out[part] = t[part]
    wide = per_px == 1
    if wide.any():
        out = exemplar_fill(out, wide)
    return out


def texture_fill(rgb: np.ndarray, hole: np.ndarray, radius: int = 5) -> np.ndarray:
    """Telea for the smooth colour, plus fine texture copied from the nearest hole-sized patch
    beside the hole (left/right/up/down, whichever lies fully in known pixels), so a large hole
    in wood or grass is not a blur. Still invented pixels, and reported as such."""
    H, W = hole.shape
    # smooth colour: Telea at 1/4 scale (fewer streaks), upsampled and blurred
    q = 4 if min(H, W) >= 64 else 1
    small = cv2.resize(rgb, (max(1, W // q), max(1, H // q)), interpolation=cv2.INTER_AREA)
    sh = cv2.resize(cv2.dilate(hole.astype(np.uint8), np.ones((q + 1, q + 1), np.uint8)), small.shape[1::-1],
                    interpolation=cv2.INTER_NEAREST)
    low = cv2.inpaint(np.ascontiguousarray(small), sh, radius, cv2.INPAINT_TELEA)
    smooth = cv2.GaussianBlur(cv2.resize(low, (W, H), interpolation=cv2.INTER_LINEAR).astype(np.float32), (0, 0), q)
    f = rgb.astype(np.float32)
    detail = f - cv2.GaussianBlur(f, (0, 0), 4.0)
    ys, xs = np.nonzero(hole)
    h, w = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
    known = ~cv2.dilate(hole.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    best, best_cov = None, 0.0
    for dy, dx in ((0, -(w + 4)), (0, w + 4), (-(h + 4), 0), (h + 4, 0)):
        sy, sx = ys + dy, xs + dx
        inside = (sy >= 0) & (sy < H) & (sx >= 0) & (sx < W)
        ok = np.zeros(len(ys), bool)
        ok[inside] = known[sy[inside], sx[inside]]
        cov = ok.mean()
        if cov > best_cov + 1e-6:
            best, best_cov = (dy, dx, ok), cov
    out = smooth.copy()
    if best is not None:
        dy, dx, ok = best
        tex = np.zeros((len(ys), 3), np.float32)
        tex[ok] = detail[ys[ok] + dy, xs[ok] + dx]
        # fade the transplanted texture in from the hole's border to hide the seam
        dist = cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 3)[ys, xs]
        wgt = np.clip(dist / 4.0, 0, 1)[:, None]
        out[ys, xs] = smooth[ys, xs] + wgt * tex
    res = rgb.copy()
    res[hole] = np.clip(np.round(out[hole]), 0, 255).astype(np.uint8)
    return res


def _load_sd_inpaint(path: str, device: str):
    from diffusers import StableDiffusionInpaintPipeline  # noqa: PLC0415 - optional heavy package, loaded with a user's checkpoint

    dtype = torch.float16 if str(device).startswith("cuda") else torch.float32
    pipe = StableDiffusionInpaintPipeline.from_pretrained(path, local_files_only=True, dtype=dtype,
                                                          safety_checker=None, requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


def _check_diffusers_dir(entry) -> tuple[bool, str]:
    p = entry.resolved_path
    if p is None or not (p / "model_index.json").is_file():
        return False, f"no diffusers model_index.json under {p}"
    return True, "weights found"


def _run_inpaint(pipe, rgb: np.ndarray, mask: np.ndarray, *, steps: int, seed: int, strength: float,
                 prompt: str, max_side: int = 512) -> np.ndarray:
    """Run at ≤ max_side (multiples of 8), paste back only masked pixels at the input resolution."""
    H, W = mask.shape
    s = min(1.0, max_side / max(H, W))
    w8, h8 = max(8, int(W * s) // 8 * 8), max(8, int(H * s) // 8 * 8)
    img = Image.fromarray(rgb).resize((w8, h8), Image.Resampling.LANCZOS)
    m = Image.fromarray((mask * 255).astype(np.uint8)).resize((w8, h8), Image.Resampling.NEAREST)
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    with torch.inference_mode():
        out = pipe(prompt=prompt, image=img, mask_image=m, num_inference_steps=int(steps), strength=float(strength),
                   generator=gen, height=h8, width=w8, guidance_scale=1.0 if not prompt else 7.5,
                   output_type="np").images[0]
    up = cv2.resize((np.clip(out, 0, 1) * 255).astype(np.uint8), (W, H), interpolation=cv2.INTER_CUBIC)
    soft = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 1.0) * mask  # never leak outside the mask
    res = rgb.astype(np.float32) * (1 - soft[..., None]) + up.astype(np.float32) * soft[..., None]
    return np.clip(np.round(res), 0, 255).astype(np.uint8)


class DiffusersInpaint:
    """Stable-Diffusion inpainting from a local diffusers folder as the background filler."""

    label = "Stable Diffusion inpainting (local weights)"
    kind = "model"

    def __init__(self, entry=None, device: str = "cpu", path: str | None = None, steps: int | None = None):
        opts = getattr(entry, "options", {}) or {}
        self.name = getattr(entry, "name", "sd-inpaint")
        self.steps = int(steps or opts.get("steps", 25))
        self.prompt = opts.get("prompt", "background, empty scene, photo")
        self.device = device
        self.pipe = _load_sd_inpaint(path or str(entry.resolved_path), device)
        self.describe = f"{self.name} (diffusers inpainting, {self.steps} steps)"

    check_available = classmethod(lambda cls, entry: _check_diffusers_dir(entry))

    def fill(self, rgb: np.ndarray, hole: np.ndarray, seed: int = 0) -> np.ndarray:
        if not hole.any():
            return rgb.copy()
        grown = cv2.dilate(hole.astype(np.uint8), np.ones((7, 7))) > 0
        return _run_inpaint(self.pipe, rgb, grown, steps=self.steps, seed=seed, strength=1.0, prompt=self.prompt)


class DiffusersRefiner:
    """Optional refine: re-render the hole and the object's seam of the coarse edit (inpaint pass)."""

    label = "Stable Diffusion refine (local weights)"
    kind = "model"

    def __init__(self, entry=None, device: str = "cpu", path: str | None = None, pipe=None):
        self.name = getattr(entry, "name", "sd-refine")
        self.device = device
        self.pipe = pipe if pipe is not None else _load_sd_inpaint(path or str(entry.resolved_path), device)
        self.prompt = (getattr(entry, "options", {}) or {}).get("prompt", "a photo")

    check_available = classmethod(lambda cls, entry: _check_diffusers_dir(entry))

    def refine(self, guide: np.ndarray, guide_mask: np.ndarray, *, steps: int = 20, seed: int = 0,
               strength: float = 0.6) -> np.ndarray:
        """`guide_mask` is 3-valued (0 hole, 0.5 object, 1 keep); everything not 'keep' may change."""
        if not 1 <= int(steps) <= 100:
            raise UserError("Refine steps must be between 1 and 100.")
        if not 0.05 <= float(strength) <= 1.0:
            raise UserError("Refine strength must be between 0.05 and 1.")
        editable = guide_mask < 0.99
        if not editable.any():
            return guide.copy()
        return _run_inpaint(self.pipe, guide, editable, steps=steps, seed=seed, strength=strength,
                            prompt=self.prompt)
