"""Plain data passed between the pipeline stages.

Three kinds of input are kept apart because they are cached differently (the SamPredictor
idea): a `Selection` and `SceneSettings` decide the expensive per-image work (mask, depth,
lifted object), while `EditParams` is what a slider changes and must re-render cheaply.
All coordinates in a `Selection` are in ORIGINAL image pixels, so the same selection can be
replayed at preview and at full resolution.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields


@dataclass(frozen=True)
class Selection:
    """How the user picked the object: +/- points, a box, or a mask (original pixels)."""

    points: tuple[tuple[float, float, int], ...] = ()  # (x, y, label) label 1 = object, 0 = background
    box: tuple[float, float, float, float] | None = None  # x0, y0, x1, y1
    mask_sha: str | None = None  # content hash of an uploaded mask (the array itself travels separately)
    brush_add: tuple[tuple[float, float, float], ...] = ()  # (x, y, radius) painted into the object
    brush_remove: tuple[tuple[float, float, float], ...] = ()
    dilate_px: int = 0  # grow (>0) or shrink (<0) the final mask, in preview pixels

    def is_empty(self) -> bool:
        return not self.points and self.box is None and self.mask_sha is None and not self.brush_add

    def to_dict(self) -> dict:
        return json.loads(json.dumps(asdict(self)))

    @classmethod
    def from_dict(cls, d: dict | None) -> Selection:
        d = dict(d or {})
        return cls(points=tuple(tuple(p) for p in d.get("points", ())),
                   box=tuple(d["box"]) if d.get("box") else None, mask_sha=d.get("mask_sha"),
                   brush_add=tuple(tuple(p) for p in d.get("brush_add", ())),
                   brush_remove=tuple(tuple(p) for p in d.get("brush_remove", ())),
                   dilate_px=int(d.get("dilate_px", 0)))


@dataclass(frozen=True)
class DepthHint:
    """The user says: the scene point at pixel (x, y) is `depth` scene units from the camera."""

    x: float
    y: float
    depth: float


@dataclass(frozen=True)
class SceneSettings:
    """Per-image choices that change the lifted geometry (so they invalidate the cache)."""

    fov_deg: float = 55.0  # horizontal field of view of the pinhole camera
    thickness: float = 0.15  # inflation bulge depth as a fraction of the object's width
    horizon: float = 0.35  # horizon row as a fraction of the image height (ground-plane proxy)
    camera_height: float = 1.5  # scene units (≈ metres) above the ground plane (proxy only)
    hints: tuple[DepthHint, ...] = ()
    fill: str = "sized"  # sized | telea | ns | biharmonic | texture | exemplar (classical); a model filler overrides it

    def to_dict(self) -> dict:
        d = asdict(self)
        d["hints"] = [asdict(h) for h in self.hints]
        return d

    @classmethod
    def from_dict(cls, d: dict | None) -> SceneSettings:
        d = dict(d or {})
        hints = tuple(DepthHint(**h) for h in d.pop("hints", ()) or ())
        known = {f.name for f in fields(cls)}
        return cls(hints=hints, **{k: v for k, v in d.items() if k in known and k != "hints"})


@dataclass(frozen=True)
class EditParams:
    """One 3D edit: rotation (degrees, about the object's centroid), translation (scene units),
    uniform scale and mirror, plus compositing switches."""

    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    tx: float = 0.0
    ty: float = 0.0
    tz: float = 0.0
    scale: float = 1.0
    mirror: bool = False
    harmonize: float = 0.5  # 0..1 strength of the local colour transfer
    shadow: float = 0.0  # 0..1 opacity of the approximate contact shadow
    occlusion: bool = True  # let nearer background pixels hide the moved object
    feather_px: float = 1.5

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict | None) -> EditParams:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in dict(d or {}).items() if k in known})

    def out_of_plane_deg(self) -> float:
        return max(abs(self.yaw), abs(self.pitch))


PRESETS: dict[str, dict] = {
    "reset": {},
    "turn left 20°": {"yaw": -20.0},
    "turn right 20°": {"yaw": 20.0},
    "tilt back 15°": {"pitch": 15.0},
    "view from left (45°)": {"yaw": -45.0},
    "view from right (45°)": {"yaw": 45.0},
    "bring closer": {"tz": -0.25},
    "push away": {"tz": 0.5},
    "mirror": {"mirror": True},
}


@dataclass
class StageLog:
    """Which implementation ran each stage, and how long it took (the UI's status line)."""

    stages: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)  # stage -> "classical" | "model"

    def line(self) -> str:
        return " · ".join(f"{k}: {v}" for k, v in self.stages.items())

    def by_kind(self) -> str:
        """'classical: selection, depth, … · model: none' — what the status line promises."""
        cls = [k for k in self.stages if self.kinds.get(k, "classical") == "classical"]
        mod = [k for k in self.stages if self.kinds.get(k) == "model"]
        return f"ran classically: {', '.join(cls) or 'none'} · ran with a model: {', '.join(mod) or 'none'}"
