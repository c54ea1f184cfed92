"""Normal-looking source images with no download: procedural textures/objects and package photos.

Every generator takes a `numpy.random.Generator`, so a seed reproduces the image. Photos are the
real images that ship inside installed packages (scikit-image `data/`: BSD-3 package, photos under
the licences in skimage/data/README.txt; scikit-learn `datasets/images` china/flower; gradio media
assets, Apache-2.0). Only numpy + opencv + PIL are needed (the GPU training host has no sklearn).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np
from PIL import Image


# -- noise -------------------------------------------------------------------------------------
def perlin(shape: tuple[int, int], res: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Gradient (Perlin) noise in about [-1, 1]; `res` = number of lattice cells per axis."""
    h, w = shape
    ry, rx = max(1, int(res[0])), max(1, int(res[1]))
    gh, gw = min(h, 8 * ry), min(w, 8 * rx)  # smooth at 8 px per cell: compute small, upsample (fast)
    if (gh, gw) != (h, w):
        small = perlin((gh, gw), (ry, rx), rng)
        return cv2.resize(small.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    angles = rng.uniform(0, 2 * np.pi, (ry + 1, rx + 1))
    grads = np.stack([np.cos(angles), np.sin(angles)], -1)
    ys, xs = np.linspace(0, ry, h, endpoint=False), np.linspace(0, rx, w, endpoint=False)
    yi, xi = ys.astype(int), xs.astype(int)
    yf, xf = (ys - yi)[:, None], (xs - xi)[None, :]

    def dot(dy, dx):
        g = grads[(yi + dy)[:, None], (xi + dx)[None, :]]
        return g[..., 0] * (yf - dy) + g[..., 1] * (xf - dx)

    fade = lambda t: t * t * t * (t * (t * 6 - 15) + 10)  # noqa: E731
    u, v = fade(xf), fade(yf)
    top = dot(0, 0) * (1 - u) + dot(0, 1) * u
    bot = dot(1, 0) * (1 - u) + dot(1, 1) * u
    return (top * (1 - v) + bot * v) * np.sqrt(2)


def fractal(shape, rng, base: int = 2, octaves: int = 4) -> np.ndarray:
    out, amp = np.zeros(shape, np.float32), 1.0
    for o in range(octaves):
        r = base * 2 ** o
        out += amp * perlin(shape, (r, r), rng)
        amp *= 0.5
    return out / 1.875


def _palette(rng, n=2):
    return [rng.uniform(0.05, 0.95, 3).astype(np.float32) for _ in range(n)]


def _mix(t, c0, c1):
    return c0[None, None] * (1 - t[..., None]) + c1[None, None] * t[..., None]


# -- procedural classes: fixed class parameters, random instance noise ------------------------------
# A "class" (like an MVTec category) is a parameter dict from `sample_params`; `render` draws one
# instance of it. Two renders of the same params differ like two good parts of one product.
KINDS = ("grating", "checker", "weave", "marble", "dots", "noise", "object")
OBJECT_SHAPES = ("disc", "pill", "nut", "plate")


def sample_params(kind: str, rng) -> dict:
    p = {"kind": kind, "colors": _palette(rng)}
    if kind == "grating":
        p.update(freq=rng.uniform(4, 24), angle=rng.uniform(0, np.pi))
    elif kind == "checker":
        p.update(cells=int(rng.integers(4, 14)), blur=rng.uniform(0.5, 2.0))
    elif kind == "weave":
        p.update(period=rng.uniform(6, 16))
    elif kind == "marble":
        p.update(scale=int(rng.integers(2, 6)), xfreq=rng.uniform(1, 4))
    elif kind == "dots":
        p.update(pitch=int(rng.integers(12, 40)), radius=rng.uniform(0.2, 0.4))
    elif kind == "noise":
        p.update(base=int(rng.integers(2, 16)))
    elif kind == "object":
        p.update(shape=str(rng.choice(OBJECT_SHAPES)))
    else:
        raise ValueError(f"unknown texture kind {kind!r}")
    return p


def render(p: dict, size: int, rng) -> np.ndarray:
    """One instance (float32 HxWx3 in [0, 1]) of the class described by `p`."""
    kind, (c0, c1) = p["kind"], p["colors"]
    grain = lambda base, octv: fractal((size, size), rng, base, octv) * 0.5 + 0.5  # noqa: E731
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    if kind == "grating":
        u = (x * np.cos(p["angle"]) + y * np.sin(p["angle"])) / size
        t = 0.5 + 0.5 * np.sin(2 * np.pi * p["freq"] * u + rng.uniform(0, 6.3))
        t = 0.85 * t + 0.15 * grain(4, 3)
    elif kind == "checker":
        off = rng.integers(0, size, 2)
        t = ((((y + off[0]) * p["cells"] // size) + ((x + off[1]) * p["cells"] // size)) % 2).astype(np.float32)
        t = 0.8 * cv2.GaussianBlur(t, (0, 0), p["blur"]) + 0.2 * grain(8, 2)
    elif kind == "weave":
        per, j = p["period"], fractal((size, size), rng, 6, 3) * 1.5
        x, y = x + rng.uniform(0, per), y + rng.uniform(0, per)
        a = np.sin(2 * np.pi * (x + j) / per) * np.sign(np.sin(np.pi * y / per))
        b = np.sin(2 * np.pi * (y + j) / per) * np.sign(np.sin(np.pi * x / per))
        t = 0.5 + 0.25 * (a + b)
    elif kind == "marble":
        n = fractal((size, size), rng, p["scale"], 5)
        t = 0.5 + 0.5 * np.sin(2 * np.pi * (x / size * p["xfreq"] + 2.5 * n))
    elif kind == "dots":
        pitch = p["pitch"]
        t = np.zeros((size, size), np.float32)
        r, off = max(2, int(pitch * p["radius"])), int(rng.integers(0, pitch))
        for cy in range(off - pitch, size + pitch, pitch):
            for cx in range(off - pitch, size + pitch, pitch):
                cv2.circle(t, (cx, cy), r, 1.0, -1, lineType=cv2.LINE_AA)
        t = 0.85 * t + 0.15 * grain(8, 2)
    elif kind == "noise":
        t = grain(p["base"], 4)
    elif kind == "object":
        return object_image(size, rng, p["shape"], (c0, c1))
    else:
        raise ValueError(f"unknown texture kind {kind!r}")
    return _mix(np.clip(t, 0, 1).astype(np.float32), c0, c1).astype(np.float32)


def _texture_fn(kind):
    return lambda size, rng: render(sample_params(kind, rng), size, rng)


# -- procedural objects on a background ------------------------------------------------------------
def _shade(size, rng):
    y, x = np.mgrid[0:size, 0:size] / size
    a = rng.uniform(0, 2 * np.pi)
    return (0.85 + 0.3 * ((x - 0.5) * np.cos(a) + (y - 0.5) * np.sin(a))).astype(np.float32)[..., None]


def object_image(size, rng, shape=None, colors=None, angle=None, center=None):
    """A lit object (disc, pill, hex nut, square plate) on a plain background, random pose."""
    shape = shape or str(rng.choice(OBJECT_SHAPES))
    bg, fg = colors or _palette(rng)
    img = np.ones((size, size, 3), np.float32) * bg
    img *= (0.9 + 0.1 * (fractal((size, size), rng, 4, 2) * 0.5 + 0.5))[..., None]
    m = np.zeros((size, size), np.uint8)
    c = center if center is not None else (size / 2 + rng.uniform(-0.08, 0.08, 2) * size)
    c = (int(c[0]), int(c[1]))
    ang = angle if angle is not None else rng.uniform(0, 360)
    r = int(size * 0.3)
    if shape == "disc":
        cv2.circle(m, c, r, 255, -1, cv2.LINE_AA)
        cv2.circle(m, c, r // 3, 0, -1, cv2.LINE_AA)
    elif shape == "pill":
        cv2.ellipse(m, (c, (2 * r * 1.3, r * 0.9), ang), 255, -1, cv2.LINE_AA)
    elif shape == "nut":
        pts = np.array([[c[0] + r * np.cos(np.radians(ang + 60 * k)), c[1] + r * np.sin(np.radians(ang + 60 * k))]
                        for k in range(6)], np.int32)
        cv2.fillPoly(m, [pts], 255, cv2.LINE_AA)
        cv2.circle(m, c, int(r * 0.45), 0, -1, cv2.LINE_AA)
    else:
        box = cv2.boxPoints((c, (1.5 * r, 1.5 * r), ang)).astype(np.int32)
        cv2.fillPoly(m, [box], 255, cv2.LINE_AA)
    mf = (m.astype(np.float32) / 255.0)[..., None]
    obj = fg * _shade(size, rng) * (0.92 + 0.08 * (fractal((size, size), rng, 16, 2)[..., None] * 0.5 + 0.5))
    return np.clip(img * (1 - mf) + obj * mf, 0, 1).astype(np.float32)


TEXTURES = {k: _texture_fn(k) for k in KINDS if k != "object"}


# -- photos shipped inside packages -------------------------------------------------------------
_PHOTO_NAMES = {
    "skimage": ["data/astronaut.png", "data/chelsea.png", "data/coffee.png", "data/coins.png", "data/rocket.jpg",
                "data/brick.png", "data/grass.png", "data/gravel.png", "data/motorcycle_left.png",
                "data/camera.png", "data/moon.png", "data/page.png", "data/text.png", "data/hubble_deep_field.jpg",
                "data/immunohistochemistry.png", "data/retina.jpg", "data/logo.png", "data/horse.png",
                "data/microaneurysms.png", "data/color.png", "data/ihc.png"],
    "sklearn": ["datasets/images/china.jpg", "datasets/images/flower.jpg"],
    "gradio": ["media_assets/images/bus.png", "media_assets/images/lion.jpg", "media_assets/images/tower.jpg",
               "media_assets/images/cheetah1.jpg"],
}


def package_photos() -> list[Path]:
    """Paths of the real photos available in this environment (missing packages are skipped)."""
    out = []
    for pkg, names in _PHOTO_NAMES.items():
        spec = importlib.util.find_spec(pkg)
        if spec is None or not spec.submodule_search_locations:
            continue
        root = Path(list(spec.submodule_search_locations)[0])
        out += [root / n for n in names if (root / n).is_file()]
    return out


def load_photos(paths, max_side: int = 512) -> list[np.ndarray]:
    imgs = []
    for p in paths:
        im = Image.open(p).convert("RGB")
        im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        if min(im.size) >= 64:
            imgs.append(np.asarray(im, dtype=np.float32) / 255.0)
    return imgs


def photo_crop(photo: np.ndarray, size: int, rng) -> np.ndarray:
    h, w = photo.shape[:2]
    side = int(min(h, w) * rng.uniform(0.35, 1.0))
    y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
    return cv2.resize(photo[y:y + side, x:x + side], (size, size), interpolation=cv2.INTER_AREA)


def random_normal(size: int, rng, photos: list[np.ndarray] | None = None, p_photo: float = 0.5,
                  return_params: bool = False):
    """A random defect-free image for training pairs: a photo crop, a texture or an object.

    With `return_params`, also the class parameters (None for photos) so a second instance of the
    same class can be rendered."""
    u = rng.random()
    if photos and u < p_photo:
        img, params = photo_crop(photos[int(rng.integers(len(photos)))], size, rng), None
    else:
        kind = KINDS[int(rng.integers(len(KINDS)))]
        params = sample_params(kind, rng)
        img = render(params, size, rng)
    return (img, params) if return_params else img
