"""Bench items on real photos that ship inside installed packages.

Each target region was located by looking at the photo over a labelled pixel grid and written down
here as simple geometry (ellipses, rectangles, polygons) in the photo's ORIGINAL pixel coordinates.
Regions are drawn slightly inside the object's outline, so a point a careful human would give
lands inside while a point on the background does not. The coin circles come from a one-off Otsu
threshold + region-props pass over `coins.png`, then were checked by eye and frozen as numbers.

Photos are located through the installed package (not by copying files into the repo), so the
licence record in SOURCES.json names the package file each bench image was made from.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import sklearn

Shape = tuple  # ("ellipse", cx, cy, rx, ry) | ("rect", x0, y0, x1, y1) | ("poly", [(x, y), ...])

def _site_packages() -> Path:
    return Path(sklearn.__file__).resolve().parent.parent


PHOTOS = {
    # key: (path relative to site-packages, source text, licence text)
    "coffee": ("skimage/data/coffee.png", "scikit-image data: coffee.png (courtesy of Pikolo Espresso Bar, "
               "photo by Rachel Michetti)", "CC0 (no copyright restrictions), per skimage.data.coffee docstring"),
    "astronaut": ("skimage/data/astronaut.png", "scikit-image data: astronaut.png (Eileen Collins, NASA Great "
                  "Images database)", "Public domain (NASA), per skimage.data.astronaut docstring"),
    "coins": ("skimage/data/coins.png", "scikit-image data: coins.png (Greek coins from Pompeii, Brooklyn "
              "Museum Collection)", "No known copyright restrictions, per skimage.data.coins docstring"),
    "chelsea": ("skimage/data/chelsea.png", "scikit-image data: chelsea.png (Chelsea the cat, photo by "
                "Stefan van der Walt)", "CC0, per skimage.data.chelsea docstring"),
    "rocket": ("skimage/data/rocket.jpg", "scikit-image data: rocket.jpg (DSCOVR launch on Falcon 9, SpaceX)",
               "Public domain (released by SpaceX), per skimage.data.rocket docstring"),
    "motorcycle": ("skimage/data/motorcycle_left.png", "scikit-image data: motorcycle_left.png (Middlebury "
                   "2014 stereo dataset)", "Middlebury stereo data as redistributed by scikit-image "
                   "(BSD-3-Clause package); see skimage.data.stereo_motorcycle docstring"),
    "china": ("sklearn/datasets/images/china.jpg", "scikit-learn sample image china.jpg (Flickr, "
              "danielbuechele)", "CC BY 2.0, per sklearn/datasets/images/README.txt"),
    "flower": ("sklearn/datasets/images/flower.jpg", "scikit-learn sample image flower.jpg (Flickr, "
               "vultilion)", "CC BY 2.0, per sklearn/datasets/images/README.txt"),
    "tower": ("gradio/media_assets/images/tower.jpg", "gradio media asset tower.jpg",
              "Apache-2.0 (gradio repository media assets)"),
    "cheetah": ("gradio/media_assets/images/cheetah.jpg", "gradio media asset cheetah.jpg",
                "Apache-2.0 (gradio repository media assets)"),
}


@dataclass
class PhotoItem:
    key: str          # unique item id stem
    photo: str        # PHOTOS key
    category: str
    text: str
    shapes: list[Shape]
    minus: list[Shape] = field(default_factory=list)
    count: int | None = None
    ref: tuple[float, float] | None = None  # steerable reference point, original pixels


_COINS_TOP = [("ellipse", 44, 54, 19, 19), ("ellipse", 100, 56, 17, 17), ("ellipse", 155, 50, 22, 22),
              ("ellipse", 215, 51, 21, 21), ("ellipse", 274, 52, 18, 18), ("ellipse", 333, 43, 26, 26)]
_COINS_BOTTOM = [("ellipse", 46, 260, 22, 22), ("ellipse", 114, 264, 19, 19), ("ellipse", 172, 257, 22, 22),
                 ("ellipse", 244, 263, 22, 22), ("ellipse", 301, 263, 23, 23), ("ellipse", 358, 267, 21, 21)]
_COINS_LEFT = [("ellipse", 44, 54, 19, 19), ("ellipse", 44, 124, 19, 19), ("ellipse", 43, 196, 18, 18),
               ("ellipse", 46, 260, 22, 22)]
_MOTO_FRONT = ("ellipse", 597, 370, 78, 74)
_MOTO_REAR = ("ellipse", 199, 318, 74, 78)
_CAT_LEFT_EYE = ("ellipse", 168, 114, 30, 26)
_CAT_RIGHT_EYE = ("ellipse", 320, 136, 20, 23)

PHOTO_ITEMS: list[PhotoItem] = [
    # --- affordable ---
    PhotoItem("photo_coffee_handle", "coffee", "affordable",
              "Point to the part of the cup you would hold to pick it up.", [("ellipse", 224, 268, 22, 33)]),
    PhotoItem("photo_motorcycle_seat", "motorcycle", "affordable", "Point to where a rider would sit.",
              [("poly", [(160, 165), (259, 170), (350, 192), (345, 225), (269, 233), (165, 204)])]),
    # --- spatial ---
    PhotoItem("photo_coffee_saucer", "coffee", "spatial", "Point to the saucer underneath the cup.",
              [("ellipse", 277, 232, 195, 152)],
              minus=[("ellipse", 290, 150, 122, 135), ("ellipse", 366, 286, 44, 44), ("ellipse", 226, 268, 34, 44),
                     ("poly", [(395, 55), (428, 55), (400, 255), (368, 255)])]),
    PhotoItem("photo_astronaut_flag", "astronaut", "spatial", "Point to the flag on the left side of the picture.",
              [("poly", [(0, 0), (58, 0), (62, 60), (78, 130), (88, 185), (60, 230), (30, 270), (20, 330),
                         (16, 420), (12, 512), (0, 512)])]),
    PhotoItem("photo_astronaut_shuttle", "astronaut", "spatial",
              "Point to the model space shuttle behind the astronaut on the right.",
              [("poly", [(397, 8), (423, 8), (437, 60), (442, 190), (450, 215), (437, 235), (420, 262),
                         (380, 240), (362, 212), (377, 190), (382, 60)])]),
    PhotoItem("photo_astronaut_patch", "astronaut", "spatial",
              "Point to the round patch on the astronaut's suit, on the left side of the image.",
              [("ellipse", 171, 385, 32, 32)]),
    PhotoItem("photo_rocket_body", "rocket", "spatial",
              "Point to the rocket standing in the middle, between the two thin towers.",
              [("rect", 312, 132, 334, 395)]),
    PhotoItem("photo_china_finial", "china", "spatial",
              "Point to the ornament at the very top of the pagoda's roof.", [("ellipse", 206, 43, 10, 13)]),
    PhotoItem("photo_flower_second", "flower", "spatial",
              "Point to the second flower, the one cut off by the bottom edge of the photo.",
              [("ellipse", 376, 425, 78, 46)]),
    PhotoItem("photo_motorcycle_front_wheel", "motorcycle", "spatial",
              "Point to the motorcycle wheel that is nearer the right edge of the image.", [_MOTO_FRONT]),
    PhotoItem("photo_tower_top", "tower", "spatial", "Point to the very top of the illuminated tower.",
              [("ellipse", 214, 86, 18, 20)]),
    PhotoItem("photo_cheetah_tail", "cheetah", "spatial", "Point to the tip of the cheetah's tail.",
              [("ellipse", 96, 142, 13, 8)]),
    PhotoItem("photo_coins_largest_top", "coins", "spatial", "Point to the largest coin in the top row.",
              [("ellipse", 333, 43, 26, 26)]),
    # --- counting ---
    PhotoItem("photo_coins_top_row", "coins", "counting", "Point to each coin in the top row.", _COINS_TOP,
              count=6),
    PhotoItem("photo_coins_bottom_row", "coins", "counting", "Point to each coin in the bottom row.",
              _COINS_BOTTOM, count=6),
    PhotoItem("photo_coins_left_column", "coins", "counting",
              "Point to each coin in the leftmost column.", _COINS_LEFT, count=4),
    PhotoItem("photo_motorcycle_wheels", "motorcycle", "counting", "Point to each wheel of the motorcycle.",
              [_MOTO_FRONT, _MOTO_REAR], count=2),
    PhotoItem("photo_chelsea_eyes", "chelsea", "counting", "Point to each of the cat's eyes.",
              [_CAT_LEFT_EYE, _CAT_RIGHT_EYE], count=2),
    # --- steerable ---
    PhotoItem("photo_chelsea_other_eye", "chelsea", "steerable",
              "Point to the cat's other eye, not the one at the existing point.", [_CAT_RIGHT_EYE],
              ref=(168, 114)),
    PhotoItem("photo_rocket_other_tower", "rocket", "steerable",
              "The existing point is on a thin tower on one side of the rocket. Point to the matching thin tower "
              "on the other side of the rocket.", [("rect", 437, 190, 470, 418), ("rect", 441, 128, 452, 190)],
              ref=(193, 300)),
    PhotoItem("photo_motorcycle_other_wheel", "motorcycle", "steerable",
              "The existing point is on one wheel. Point to the motorcycle's other wheel.", [_MOTO_FRONT],
              ref=(199, 318)),
    # --- reasoning ---
    PhotoItem("photo_astronaut_helmet", "astronaut", "reasoning",
              "Point to the object the astronaut would put on her head before a spacewalk.",
              [("ellipse", 392, 442, 104, 94)]),
    PhotoItem("photo_coffee_drink", "coffee", "reasoning", "Point to the part of the picture a person would drink.",
              [("ellipse", 287, 145, 76, 42)]),
    PhotoItem("photo_chelsea_smell", "chelsea", "reasoning", "Point to the part of the cat's face it smells with.",
              [("ellipse", 262, 243, 23, 13)]),
    PhotoItem("photo_china_boat", "china", "reasoning", "Point to a place where a boat could sail.",
              [("rect", 365, 244, 540, 270)]),
    PhotoItem("photo_flower_bee", "flower", "reasoning",
              "Point to where a bee would look for pollen on the large flower.", [("ellipse", 306, 214, 18, 18)]),
    PhotoItem("photo_motorcycle_light", "motorcycle", "reasoning",
              "Point to the part of the motorcycle that lights the road at night.",
              [("ellipse", 537, 156, 20, 24)]),
    PhotoItem("photo_cheetah_see", "cheetah", "reasoning",
              "Point to the part of the animal it uses to see where it is running.", [("ellipse", 357, 136, 17, 17)]),
]


def photo_path(photo: str) -> Path:
    rel = PHOTOS[photo][0]
    path = _site_packages() / rel
    if not path.is_file():
        raise FileNotFoundError(f"The sample photo {rel} is missing from the installed packages; "
                                "reinstall requirements.txt.")
    return path
