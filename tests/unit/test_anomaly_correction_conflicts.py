"""anomaly2: corrections of one image by several sessions no longer let the newest win silently.

Policy (docs/anomaly_inspector.md): a session's newest correction of an image replaces its own earlier ones; different
sessions are different annotators. Their versions AGREE when all say good, or all say the same defect type with masks
overlapping the newest by IoU ≥ 0.5: the newest goes into the MVTec tree and the manifest lists every version (session
tag, time, defect type, mask pixels). Otherwise the image is a CONFLICT: it stays out of test/ and ground_truth/ (an
evaluation must not read one annotator's guess as the truth) and lands in `_conflicts/<product>/NNN/` with every
version's mask, the manifest saying why."""
from __future__ import annotations

import io
import json
import zipfile

import numpy as np
from PIL import Image

from backend.anomaly import collection, exports


def _mask(x0, y0, x1, y1, shape=(30, 40)) -> np.ndarray:
    m = np.zeros(shape, bool)
    m[y0:y1, x0:x1] = True
    return m


def _item(sha, session, created, mask, defect="scratch", name="q.png", colour=(50, 60, 70)):
    return {"product": "cap", "defect_type": defect if mask.any() else "good", "image": Image.new("RGB", (40, 30), colour),
            "mask": mask, "query_sha": sha, "session_id": session, "created": created, "filename": name,
            "mask_pixels": int(mask.sum())}


def test_agreeing_versions_export_once_and_disagreeing_ones_are_set_apart():
    items = [_item("x", "s-a", "2026-11-30T10:00:00", _mask(5, 5, 15, 15)),
             _item("y", "s-a", "2026-11-30T10:01:00", _mask(0, 0, 0, 0), name="y.png", colour=(1, 2, 3)),
             _item("x", "s-b", "2026-11-30T10:02:00", _mask(6, 5, 16, 15)),           # IoU 0.82 with s-a's
             _item("y", "s-b", "2026-11-30T10:03:00", _mask(20, 5, 30, 15), name="y.png", colour=(1, 2, 3)),
             _item("z", "s-c", "2026-11-30T10:04:00", _mask(2, 2, 6, 6), defect="dent", name="z.png"),
             _item("w", "s-a", "2026-11-30T10:05:00", _mask(2, 2, 12, 12), name="w.png"),
             _item("w", "s-c", "2026-11-30T10:06:00", _mask(2, 2, 12, 12), defect="dent", name="w.png")]
    zf = zipfile.ZipFile(io.BytesIO(exports.mvtec_zip(items)))
    names = set(zf.namelist())
    test_files = sorted(n for n in names if n.startswith("cap/test/"))
    assert test_files == ["cap/test/dent/000.png", "cap/test/scratch/000.png"]  # x once (agreed), z; not y, not w
    gt = np.asarray(Image.open(io.BytesIO(zf.read("cap/ground_truth/scratch/000_mask.png")))) > 0
    assert gt[5:15, 6:16].all() and not gt[5:15, 5].any()  # the newest agreeing version's mask
    man = json.loads(zf.read("manifest.json"))
    by = {m["source_file"]: m for m in man}
    assert by["q.png"]["status"] == "agreed" and [v["created"] for v in by["q.png"]["versions"]] == [
        "2026-11-30T10:00:00", "2026-11-30T10:02:00"]
    assert by["z.png"]["status"] == "single" and len(by["z.png"]["versions"]) == 1
    assert by["y.png"]["status"] == "conflict" and "good" in by["y.png"]["why"]
    assert by["w.png"]["status"] == "conflict" and "defect type" in by["w.png"]["why"]
    sessions = {v["session"] for m in man for v in m["versions"]}
    assert len(sessions) == 3 and not sessions & {"s-a", "s-b", "s-c"}  # opaque tags, never the session ids
    y_files = sorted(n for n in names if n.startswith("_conflicts/cap/") and "/000/" in n)
    assert len(y_files) == 3 and any(n.endswith("image.png") for n in y_files)  # the image + both masks
    assert {v["mask_file"] for v in by["y.png"]["versions"]} <= names


def test_export_of_every_session_keeps_both_versions(db_url, storage_for, monkeypatch):
    """Storage level: two sessions correct the same image; the all-sessions export used to get only the newest."""
    st = storage_for(db_url)
    monkeypatch.setattr(collection, "get_storage", lambda: st)
    img = Image.new("RGB", (40, 30), (10, 20, 30))
    collection.save_correction(query=img, mask=_mask(5, 5, 15, 15), product="cap", defect_type="scratch",
                               filename="q.png", session_id="alice", inspection_id=None)
    collection.save_correction(query=img, mask=_mask(0, 0, 40, 30) & False, product="cap", defect_type="",
                               filename="q.png", session_id="bob", inspection_id=None)
    collection.save_correction(query=img, mask=_mask(20, 5, 30, 15), product="cap", defect_type="scratch",
                               filename="q.png", session_id="alice", inspection_id=None)  # alice revises her own
    every = collection.correction_items(product="cap", session_id=None)
    assert sorted((it["session_id"], it["mask_pixels"]) for it in every) == [("alice", 100), ("bob", 0)]
    (mine,) = collection.correction_items(product="cap", session_id="alice")
    assert mine["mask_pixels"] == 100 and mine["mask"][10, 25] and not mine["mask"][10, 10]
    man = json.loads(zipfile.ZipFile(io.BytesIO(exports.mvtec_zip(every))).read("manifest.json"))
    assert [m["status"] for m in man] == ["conflict"]
