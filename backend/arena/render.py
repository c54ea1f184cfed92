"""Draw battle outputs server-side, so what a judge sees is the same for every browser and nothing but points
(never raw model text, which can reveal identity) reaches the page before the vote.

Colours are Okabe–Ito (colour-blind safe) and each side also has its own marker shape, so the sides differ
even in greyscale: A = orange circle, B = blue diamond; a steerable item's reference point is a green ring.
Marker size scales with the image; several points are numbered.
"""
from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

from backend.imageio import downscale

COLOR_A = (230, 159, 0)     # Okabe–Ito orange
COLOR_B = (0, 114, 178)     # Okabe–Ito blue
COLOR_REF = (0, 158, 115)   # Okabe–Ito bluish green
DISPLAY_MAX_SIDE = 1024
DISPLAY_MIN_SIDE = 640  # tiny inputs are enlarged so markers and numbers stay legible


def marker_radius(width: int, height: int) -> int:
    return max(8, round(min(width, height) / 32))


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # very old Pillow
        return ImageFont.load_default()


def _luminance(rgb) -> float:
    """WCAG relative luminance of an sRGB colour."""
    lin = [c / 255 / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def halo_for(colour) -> tuple[int, int, int]:
    """The outline a label of `colour` needs to read on any photo: black or white, whichever contrasts more (B's
    blue on a black outline read at ~4:1 and vanished on dark photos; on white it is ~5:1)."""
    lum = _luminance(colour)
    return (0, 0, 0) if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else (255, 255, 255)


def _marker(draw: ImageDraw.ImageDraw, x: float, y: float, r: int, colour, shape: str, label: str | None) -> None:
    outline = max(2, r // 4)
    if shape == "diamond":
        pts = [(x, y - r), (x + r, y), (x, y + r), (x - r, y)]
        draw.polygon(pts, fill=colour, outline=(255, 255, 255), width=outline)
    elif shape == "ring":
        draw.ellipse((x - r, y - r, x + r, y + r), outline=(255, 255, 255), width=outline + 2)
        draw.ellipse((x - r, y - r, x + r, y + r), outline=colour, width=outline)
        return
    else:
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour, outline=(255, 255, 255), width=outline)
    draw.line((x - r / 2, y, x + r / 2, y), fill=(0, 0, 0), width=1)
    draw.line((x, y - r / 2, x, y + r / 2), fill=(0, 0, 0), width=1)
    if label:
        font = _font(max(12, int(r * 1.4)))
        draw.text((x + r + 2, y - r - 2), label, fill=colour, font=font, stroke_width=2, stroke_fill=halo_for(colour))


def _prepare(img: Image.Image):
    img = img.convert("RGB")
    long = max(img.size)
    if long < DISPLAY_MIN_SIDE:
        s = DISPLAY_MIN_SIDE / long
        return img.resize((round(img.width * s), round(img.height * s)), Image.Resampling.LANCZOS), s
    small, s = downscale(img, DISPLAY_MAX_SIDE)
    return small.copy(), s


def _draw_side(draw, pts, s, r, colour, shape, prefix):
    many = len(pts) > 1
    for i, (x, y) in enumerate(pts, 1):
        _marker(draw, x * s, y * s, r, colour, shape, f"{prefix}{i}" if many else prefix)


def render_side(img: Image.Image, points, side: str, ref_point=None) -> Image.Image:
    """One side's points (original pixels) on a copy of the image, at display size."""
    out, s = _prepare(img)
    draw = ImageDraw.Draw(out)
    r = marker_radius(*out.size)
    if ref_point:
        _marker(draw, ref_point[0] * s, ref_point[1] * s, r + 2, COLOR_REF, "ring", None)
    colour, shape = (COLOR_A, "circle") if side == "A" else (COLOR_B, "diamond")
    _draw_side(draw, points or [], s, r, colour, shape, side)
    return out


def render_overlay(img: Image.Image, points_a, points_b, ref_point=None) -> Image.Image:
    """Both sides on one image, for judging closeness directly."""
    out, s = _prepare(img)
    draw = ImageDraw.Draw(out)
    r = marker_radius(*out.size)
    if ref_point:
        _marker(draw, ref_point[0] * s, ref_point[1] * s, r + 2, COLOR_REF, "ring", None)
    _draw_side(draw, points_a or [], s, r, COLOR_A, "circle", "A")
    _draw_side(draw, points_b or [], s, r, COLOR_B, "diamond", "B")
    return out


def render_reference(img: Image.Image, ref_point=None) -> Image.Image:
    """The input as the judge sees it before the models answer (with the steerable reference point)."""
    out, s = _prepare(img)
    if ref_point:
        _marker(ImageDraw.Draw(out), ref_point[0] * s, ref_point[1] * s, marker_radius(*out.size) + 2, COLOR_REF,
                "ring", None)
    return out
