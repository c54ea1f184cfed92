"""Synthetic benchmark, MVTec reader, evaluation CLI, change pairs and the training CLI."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from backend.anomaly import dataset, evaluate
from backend.anomaly.checkpoint import load_metauas
from backend.anomaly.offline import synth, train
from backend.anomaly.offline.defects import HELDOUT_KINDS, TRAIN_KINDS
from backend.anomaly.offline.pairs import make_pair

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    synth.main(["--out", str(root), "--seed", "7", "--classes", "tiles,nut", "--train", "2", "--test-good", "2",
                "--test-defect", "3", "--size", "96"])
    return root


def test_synth_writes_mvtec_layout_deterministically(bench, tmp_path):
    assert dataset.list_classes(bench) == ["nut", "tiles"]
    train_imgs, test = dataset.load_class(bench, "tiles")
    assert len(train_imgs) == 2 and len(test) == 5
    assert {s.defect for s in test} == {"good", *HELDOUT_KINDS}
    assert not set(HELDOUT_KINDS) & set(TRAIN_KINDS)
    for s in test:
        m = dataset.read_mask(s, (96, 96))
        assert (m.any() == bool(s.label)), s.path
    meta = json.loads((bench / "benchmark.json").read_text())
    assert meta["seed"] == 7 and meta["heldout_from_training"] == list(HELDOUT_KINDS)
    synth.generate(tmp_path, seed=7, classes=["tiles"], n_train=2, n_good=2, n_defect=3, size=96)
    a = np.asarray(Image.open(tmp_path / "tiles/test/scratch/000.png"))
    b = np.asarray(Image.open(bench / "tiles/test/scratch/000.png"))
    assert np.array_equal(a, b)


def test_evaluate_cli_json(bench, tmp_path):
    out = tmp_path / "m.json"
    assert evaluate.main(["--data", str(bench), "--engine", "knn", "--prompt-seed", "0", "--prompt-seed", "1",
                          "--size", "128", "--out", str(out)]) == 0
    res = json.loads(out.read_text())
    assert set(res["per_class"]) == {"nut", "tiles"} and res["engine"] == "knn" and res["prompt_seeds"] == [0, 1]
    assert set(res["mean"]) == set(evaluate.METRICS) and res["ms_per_image"] > 0
    assert res["mean"]["p_auroc"] > 70  # high-contrast defects on a regular texture


def test_dataset_errors_name_the_problem(bench, tmp_path):
    root = tmp_path / "d"
    shutil.copytree(bench / "tiles", root / "tiles")
    (root / "tiles/ground_truth/stain/000_mask.png").unlink()
    with pytest.raises(ValueError, match="No ground-truth mask for .*stain.*000.png"):
        dataset.load_class(root, "tiles")
    Image.new("L", (50, 50)).save(root / "tiles/ground_truth/stain/000_mask.png")
    _, test = dataset.load_class(root, "tiles")
    s = next(t for t in test if t.defect == "stain")
    with pytest.raises(ValueError, match="000_mask.png is 50×50"):
        dataset.read_mask(s, (96, 96))
    for p in (root / "tiles/train/good").iterdir():
        p.unlink()
    with pytest.raises(ValueError, match="train/good is empty"):
        dataset.load_class(root, "tiles")
    with pytest.raises(ValueError, match="no class folder"):
        dataset.list_classes(tmp_path)


def test_change_pairs_are_seeded_and_masks_binary():
    a = make_pair(np.random.default_rng([3, 1]), 64)
    b = make_pair(np.random.default_rng([3, 1]), 64)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=False))
    for i in range(6):
        p, q, m = make_pair(np.random.default_rng([0, i]), 64)
        assert p.shape == q.shape == (64, 64, 3) and m.shape == (64, 64) and set(np.unique(m)) <= {0, 1}


@pytest.mark.timeout(240)
def test_train_cli_runs_saves_and_resumes(tmp_path):
    args = ["--out", str(tmp_path), "--steps", "2", "--batch", "2", "--size", "64", "--val-pairs", "4"]
    assert train.main(args + ["--workers", "1"]) == 0  # a forked worker used to deadlock here (spawn fixes it)
    assert train.main(args[:3] + ["3"] + args[4:]) == 0
    log = (tmp_path / "train_log.txt").read_text()
    assert "resumed from" in log and "at step 2" in log and '"step": 3' in log
    model, meta = load_metauas(tmp_path / "metauas_lite0.pt")
    assert meta["step"] == 3 and "backend.anomaly.offline.train" in meta["command"]
