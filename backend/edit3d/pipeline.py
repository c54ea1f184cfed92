"""`Edit3DPipeline(segmenter, depth, filler, refiner)`: the 3D photo edit as a composition of
swappable components (the diffusers-pipeline shape), with the SamPredictor split:

    scene = pipe.prepare(image, selection, settings)   # expensive, once per image+selection
    result = pipe.render(scene, EditParams(yaw=20))    # cheap, once per slider release

`prepare` selects the object, estimates depth, lifts the object's pixels with a pinhole camera
and fills the whole (dilated) object region of the background once. `render` moves the lifted
points, splats them with a z-buffer, decides per pixel whether it is kept, re-rendered object or
invented, composites and reports the invented fraction honestly.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image
from scipy import ndimage as ndi

from backend.errors import UserError

from . import composite as C
from .depth import DepthResult, align_to_hints
from .geometry import Camera, SubPoints, apply, lift, make_subpoints, project, splat, transform_matrix
from .params import DepthHint, EditParams, SceneSettings, Selection, StageLog
from .select import check_mask, mask_from_upload, refine_mask

MIN_SIDE = 32
MAX_FULL_SIDE = 2048
HALO_PX = 3  # the object's mask is grown by this much before filling: edge pixels mix both colours
SUPERSAMPLE = 2


@dataclass
class Scene:
    """Everything `render` needs, computed once per (image, selection, settings, size)."""

    rgb: np.ndarray
    mask: np.ndarray
    depth: DepthResult
    cam: Camera
    plate: np.ndarray  # rgb with the grown object region filled
    region: np.ndarray  # the grown object region (what the plate invented)
    u: np.ndarray
    v: np.ndarray
    z: np.ndarray
    colors: np.ndarray
    centroid: np.ndarray
    scale: float  # working pixels per original pixel
    settings: SceneSettings
    log: StageLog = field(default_factory=StageLog)
    _sub: dict = field(default_factory=dict, repr=False)

    def subpoints(self, ss: int) -> SubPoints:
        if ss not in self._sub:
            self._sub[ss] = make_subpoints(self.u, self.v, self.z, self.colors, self.cam, ss)
        return self._sub[ss]

    @property
    def size(self) -> tuple[int, int]:
        return self.cam.width, self.cam.height


@dataclass
class EditResult:
    image: np.ndarray  # final edited RGB (the guide unless refined)
    guide: np.ndarray  # 3D-Fixup I_guide: the coarse edit
    guide_mask: np.ndarray  # float32 {0 hole, 0.5 object, 1 keep}
    rgba: np.ndarray  # Magic-Fixup coarse edit: alpha 0 on disoccluded (invented) pixels
    depth: np.ndarray  # edited scene depth
    invented: np.ndarray  # bool: pixels that had to be invented (fill + cracks)
    T: np.ndarray
    params: EditParams
    invented_fraction: float
    in_frame_fraction: float
    warnings: list[str]
    log: StageLog


def _timed(log: StageLog, key: str, t0: float) -> None:
    log.timings[key] = round(log.timings.get(key, 0.0) + time.perf_counter() - t0, 4)


class Edit3DPipeline:
    def __init__(self, segmenter, depth, filler, refiner=None):
        self.segmenter, self.depth_model, self.filler, self.refiner = segmenter, depth, filler, refiner

    # ---- expensive, once per image -------------------------------------------------------
    def select(self, rgb: np.ndarray, selection: Selection, scale: float = 1.0,
               uploaded_mask: np.ndarray | None = None) -> np.ndarray:
        H, W = rgb.shape[:2]
        if uploaded_mask is not None:
            mask = mask_from_upload(uploaded_mask, W, H)
        elif not selection.points and selection.box is None:
            if not selection.brush_add:
                raise UserError("No object is selected. Click on the object you want to move (or give a box/mask).")
            mask = np.zeros((H, W), bool)  # painted with the brush only
        else:
            self.segmenter.set_image(rgb)
            pts = tuple((x * scale, y * scale, int(lab)) for x, y, lab in selection.points)
            box = tuple(c * scale for c in selection.box) if selection.box else None
            mask = self.segmenter.predict(pts, box)
        mask = refine_mask(mask, brush_add=selection.brush_add, brush_remove=selection.brush_remove,
                           dilate_px=selection.dilate_px, scale=scale)
        check_mask(mask)
        return mask

    def prepare(self, image: Image.Image, selection: Selection, settings: SceneSettings | None = None, *,
                max_side: int | None = 512, mask: np.ndarray | None = None,
                uploaded_mask: np.ndarray | None = None, seed: int = 0, mask_label: str = "given mask") -> Scene:
        """Select (unless `mask` is given at any resolution), estimate depth, lift, fill the plate."""
        settings = settings or SceneSettings()
        log = StageLog()
        W0, H0 = image.size
        if min(W0, H0) < MIN_SIDE:
            raise UserError(f"The image is {W0}×{H0}; at least {MIN_SIDE} pixels per side are needed for a 3D edit.")
        cap = min(max_side or MAX_FULL_SIDE, MAX_FULL_SIDE)
        scale = min(1.0, cap / max(W0, H0))
        W, H = max(1, round(W0 * scale)), max(1, round(H0 * scale))
        work = image if scale == 1.0 else image.resize((W, H), Image.Resampling.LANCZOS)
        rgb = np.asarray(work.convert("RGB"), dtype=np.uint8).copy()

        t0 = time.perf_counter()
        if mask is not None:
            m = cv2.resize(mask.astype(np.float32), (W, H), interpolation=cv2.INTER_LINEAR) > 0.5
            check_mask(m)
            log.stages["selection"] = mask_label
        else:
            m = self.select(rgb, selection, scale, uploaded_mask)
            log.stages["selection"] = "uploaded mask" if uploaded_mask is not None else self.segmenter.label
            if uploaded_mask is None:
                log.kinds["selection"] = getattr(self.segmenter, "kind", "classical")
        _timed(log, "selection", t0)

        t0 = time.perf_counter()
        cam = Camera.from_fov(W, H, settings.fov_deg)
        dres = self.depth_model.estimate(rgb, m, cam, settings)
        if settings.hints:
            hints = [DepthHint(h.x * scale, h.y * scale, h.depth) for h in settings.hints]
            aligned = align_to_hints(dres.depth, hints)
            bg = align_to_hints(dres.background, hints)
            dres = DepthResult(aligned, bg, dres.source + f"+{len(hints)} user hints (kNN-WLS)")
        log.stages["depth"] = dres.source
        log.kinds["depth"] = getattr(self.depth_model, "kind", "classical")
        _timed(log, "depth", t0)

        t0 = time.perf_counter()
        region = cv2.dilate(m.astype(np.uint8), cv2.getStructuringElement(
            cv2.MORPH_ELLIPSE, (2 * HALO_PX + 1, 2 * HALO_PX + 1))) > 0
        filler = self.filler
        if hasattr(filler, "with_method") and settings.fill != getattr(filler, "method", settings.fill):
            filler = filler.with_method(settings.fill)
        plate = filler.fill(rgb, region, seed=seed)
        log.stages["fill"] = getattr(filler, "describe", getattr(filler, "label", type(filler).__name__))
        log.kinds["fill"] = getattr(filler, "kind", "classical")
        _timed(log, "fill", t0)

        t0 = time.perf_counter()
        v, u = np.nonzero(m)
        z = dres.depth[v, u].astype(np.float64)
        cols = rgb[v, u].astype(np.float32)
        centroid = lift(u.astype(np.float64), v.astype(np.float64), z, cam).mean(axis=0)
        log.stages["lift"] = f"pinhole, {settings.fov_deg:g}° FOV"
        _timed(log, "lift", t0)
        return Scene(rgb=rgb, mask=m, depth=dres, cam=cam, plate=plate, region=region, u=u.astype(np.float64),
                     v=v.astype(np.float64), z=z, colors=cols, centroid=centroid, scale=scale, settings=settings,
                     log=log)

    # ---- cheap, once per edit -------------------------------------------------------------
    def render(self, scene: Scene, params: EditParams, ss: int = SUPERSAMPLE) -> EditResult:
        log = StageLog(stages=dict(scene.log.stages), timings={}, kinds=dict(scene.log.kinds))
        cam, rgb = scene.cam, scene.rgb
        t0 = time.perf_counter()
        T = transform_matrix(params, scene.centroid)
        sp = splat(scene.subpoints(ss), None, None, T, cam)
        if sp.n_in_frame == 0:
            raise UserError("With this transform the object leaves the frame (or goes behind the camera). "
                             "Reduce the translation or the rotation.")
        P1 = apply(T, lift(scene.u, scene.v, scene.z, cam))
        front = P1[:, 2] > 1e-3
        nu, nv = np.full(len(P1), np.inf), np.full(len(P1), np.inf)
        nu[front], nv[front] = project(P1[front], cam)
        log.stages["reproject"] = f"z-buffer splat, {ss}× supersampling"
        _timed(log, "reproject", t0)

        t0 = time.perf_counter()
        motion = C.displacement_field(scene.u, scene.v, nu, nv, scene.mask, scene.region)
        hole = scene.region & (motion >= 0.5)
        base = rgb.copy()
        base[hole] = scene.plate[hole]
        zr = np.where(front, P1[:, 2], np.nan)
        mag = float(params.scale * np.nanmedian(scene.z) / max(np.nanmedian(zr), 1e-6)) if front.any() else 1.0
        cracks, obj = C.fill_cracks(sp.rgb, sp.coverage, mag, self._maps_to_object(scene, T, sp.depth))
        # inside the silhouette every pixel is object (partial coverage there is sampling, not
        # transparency); only the outermost ring keeps its fractional coverage as anti-aliasing
        solid = (sp.coverage > 0) | cracks
        inner = cv2.erode(solid.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        alpha = np.where(inner | cracks, 1.0, sp.coverage).astype(np.float32)
        if params.feather_px > 0:
            soft = cv2.GaussianBlur((alpha > 0.5).astype(np.float32), (0, 0), params.feather_px * 0.5)
            alpha = np.minimum(alpha, soft).astype(np.float32)
        objdepth = sp.depth.copy()
        if cracks.any():
            _, (iy, ix) = ndi.distance_transform_edt(~np.isfinite(objdepth), return_indices=True)
            objdepth[cracks] = objdepth[iy, ix][cracks]
        occluded = np.zeros_like(cracks)
        if params.occlusion:
            extent = float(np.ptp(scene.z)) if scene.z.size else 0.0
            margin = 0.5 * extent * params.scale + 0.05 * float(np.median(scene.z))
            occluded = (alpha > 0) & ~scene.region & (scene.depth.background + margin < objdepth)
            alpha[occluded] = 0.0
        log.stages["composite"] = "z-test occlusion, feathered alpha" if params.occlusion else "feathered alpha"
        _timed(log, "cracks+occlusion", t0)

        t0 = time.perf_counter()
        newmask = alpha > 0.5
        gain = C.harmonize_gain(rgb, scene.mask, base, newmask, params.harmonize)
        if not np.allclose(gain, 1.0):
            obj = np.clip(obj * gain[None, None, :], 0, 255)
            log.stages["composite"] += f", colour gain {[round(float(g), 3) for g in gain]}"
        shadow = C.contact_shadow(newmask, params.shadow)
        basef = base.astype(np.float32)
        if params.shadow > 0:
            basef *= (1.0 - shadow)[..., None]
            log.stages["composite"] += ", approximate contact shadow"
        out = alpha[..., None] * obj + (1 - alpha[..., None]) * basef
        image = np.clip(np.round(out), 0, 255).astype(np.uint8)
        _timed(log, "composite", t0)

        invented = (hole & (alpha < 0.5)) | cracks
        gmask = np.ones(rgb.shape[:2], np.float32)
        gmask[alpha > 0] = 0.5
        gmask[invented] = 0.0
        rgba = np.dstack([image, np.where(invented, 0, 255).astype(np.uint8)])
        depth = scene.depth.depth.copy()
        depth[hole] = scene.depth.background[hole]
        vis = newmask & np.isfinite(objdepth)
        depth[vis] = objdepth[vis]

        frac = float(invented.mean())
        warnings = self._warnings(params, frac, sp.in_frame_fraction, occluded.sum() / max(1, (alpha > 0).sum() +
                                                                                           occluded.sum()))
        return EditResult(image=image, guide=image, guide_mask=gmask, rgba=rgba, depth=depth, invented=invented,
                          T=T, params=params, invented_fraction=frac, in_frame_fraction=sp.in_frame_fraction,
                          warnings=warnings, log=log)

    @staticmethod
    def _maps_to_object(scene: Scene, T: np.ndarray, depth: np.ndarray):
        """Predicate for crack candidates: back-project with the nearest rendered depth through T⁻¹."""
        def check(ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
            finite = np.isfinite(depth)
            if not finite.any():
                return np.zeros(len(ys), bool)
            _, (iy, ix) = ndi.distance_transform_edt(~finite, return_indices=True)
            d = depth[iy[ys, xs], ix[ys, xs]].astype(np.float64)
            P = lift(xs.astype(np.float64), ys.astype(np.float64), d, scene.cam)
            Ti = np.linalg.inv(T)
            P0 = apply(Ti, P)
            ok = P0[:, 2] > 1e-6
            res = np.zeros(len(ys), bool)
            u, v = project(P0[ok], scene.cam)
            H, W = scene.mask.shape
            ui, vi = np.round(u).astype(int), np.round(v).astype(int)
            inside = (ui >= 0) & (ui < W) & (vi >= 0) & (vi < H)
            hit = np.zeros(len(ui), bool)
            hit[inside] = scene.mask[vi[inside], ui[inside]]
            res[np.nonzero(ok)[0]] = hit
            return res
        return check

    @staticmethod
    def _warnings(params: EditParams, invented: float, in_frame: float, occluded: float) -> list[str]:
        w = []
        oop = params.out_of_plane_deg()
        if oop > 90:
            w.append(f"A {oop:.0f}° turn shows the back of the object: the photo never saw it, so the front is "
                     "shown mirrored. Treat this as a sketch, not a photo.")
        elif oop > 30:
            w.append(f"A {oop:.0f}° out-of-plane turn exposes sides the photo never showed; those parts are "
                     "stretched from the visible surface (2.5D), not seen.")
        if invented > 0.02:
            w.append(f"{invented:.1%} of the pixels had to be invented (smooth fill of the uncovered background); "
                     "large holes look blurry.")
        if in_frame < 0.99:
            w.append(f"Only {in_frame:.0%} of the object is still inside the frame." if in_frame < 0.5 else
                     f"{1 - in_frame:.0%} of the object left the frame.")
        if occluded > 0.02:
            w.append(f"{occluded:.0%} of the moved object is hidden behind nearer scene content (depth test).")
        return w

    def refine(self, result: EditResult, *, steps: int = 20, seed: int = 0, strength: float = 0.6) -> np.ndarray:
        if self.refiner is None:
            raise UserError("No refine model is available: place Stable-Diffusion inpainting weights under "
                             "MODELS_DIR (see models.toml, entry sd-inpaint) to enable Refine.")
        t0 = time.perf_counter()
        out = self.refiner.refine(result.guide, result.guide_mask, steps=steps, seed=seed, strength=strength)
        _timed(result.log, "refine", t0)
        result.log.stages["refine"] = getattr(self.refiner, "name", "refiner")
        result.log.kinds["refine"] = "model"
        return out
