"""anomaly2: every query of the batch zip gets a unique, safe folder, and results.csv / results.json name it.

Before: a query `x.zip:a.png` got the folder `x.zip_a/` and nothing in results.csv said which folder belonged to which
row; two queries differing only in case (`A.png`, `a.png`) got `A/` and `a/`, one folder on Windows and macOS."""
from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import PurePosixPath

import numpy as np

from backend.anomaly import exports
from backend.anomaly import inspector as insp

NAMES = ["x.zip:a.png", "x.zip:a.png", "x.zip:sub/a.png", "../../etc/passwd.png", "..\\..\\win.png", "日本語.png",
         "日本語.jpg", "A.png", "a.png", "-rf.png", "=HYPERLINK(1).png", "CON.png", "\u202egnp.exe", "", "." * 5,
         "x" * 300 + ".png"]


def _run(names: list[str]) -> insp.Run:
    recs = []
    for i, n in enumerate(names):
        amap = np.zeros((20, 30), np.float32)
        amap[5:10, 5:10] = 0.1 * (i % 10)
        recs.append(insp.QueryRecord(name=n, query=np.full((20, 30, 3), 100, np.uint8), amap=amap, scale=1.0,
                                     orig_size=(30, 20), score=float(amap.max()), prompt_index=0,
                                     prompt_similarity=0.9, engine="knn", ms=1.0, query_sha=f"sha{i}"))
    return insp.Run(prompts=[("p.png", np.zeros((20, 30, 3), np.uint8))], prompt_shas=["psha"], records=recs,
                    engine="knn", size=256, tiled=False, retrieval_k=None)


def _safe(folder: str) -> bool:
    parts = PurePosixPath(folder).parts
    return (len(parts) == 1 and folder not in (".", "..") and not folder.startswith(("-", ".", "=", "+", "@"))
            and not any(c in folder for c in ':\\/"<>|?*\u202e') and len(folder.encode()) <= 120
            and folder.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL"})


def test_every_row_names_its_unique_safe_folder():
    run = _run(NAMES)
    zf = zipfile.ZipFile(io.BytesIO(exports.batch_zip(run, 0.3, 0.3)))
    rows = list(csv.DictReader(io.StringIO(zf.read("results.csv").decode())))
    assert "folder" in rows[0]
    folders = [r["folder"] for r in rows]
    assert len(rows) == len(NAMES) and len({f.casefold() for f in folders}) == len(NAMES)  # unique, any file system
    assert all(_safe(f) for f in folders), folders
    js = json.loads(zf.read("results.json"))["results"]
    names = set(zf.namelist())
    for row, j, name in zip(rows, js, NAMES, strict=True):
        assert j["folder"] == row["folder"]
        assert {f"{row['folder']}/{p}" for p in ("heatmap.png", "overlay.png", "mask.png", "side_by_side.png",
                                                 "result.json")} <= names
        info = json.loads(zf.read(f"{row['folder']}/result.json"))
        assert info["file"] == name and info["folder"] == row["folder"]  # the folder holds THIS query
        assert row["score"] == str(j["score"]) and row["verdict"] == j["verdict"]
    assert folders[0].startswith("x_a") and folders[5].startswith("日本語")  # still readable


def test_a_subset_keeps_the_folders_of_the_whole_batch():
    run = _run(NAMES[:4])
    whole = [r["folder"] for r in exports.results_json(run, 0.3, 0.3)["results"]]
    zf = zipfile.ZipFile(io.BytesIO(exports.batch_zip(run, 0.3, 0.3, indices=[1, 3])))
    rows = list(csv.DictReader(io.StringIO(zf.read("results.csv").decode())))
    assert [r["folder"] for r in rows] == [whole[1], whole[3]]
    assert f"{whole[1]}/mask.png" in zf.namelist()
