"""Status tells the truth (issue 19): every path it shows for a weights file exists where it says,
and the memory column counts the adapter's own tensors, not only the RSS delta."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from backend.registry import footprint_mb, get_registry


def test_embedded_paths_resolve_inside_the_repository():
    rows = {r["name"]: r for r in get_registry().status()}
    row = rows["metauas-lite0"]
    assert Path(row["path"]).is_file(), row["path"]
    assert Path(row["path"]).parts[-3:-1] == ("static", "anomaly")
    for r in rows.values():  # an embedded default that names a file must have it
        if r["kind"] == "embedded" and r["path"]:
            assert Path(r["path"]).exists(), (r["name"], r["path"])


def test_footprint_counts_tensors_and_arrays_once():
    class Adapter:
        def __init__(self):
            self.net = torch.nn.Linear(512, 512)  # 512·512 + 512 float32 ≈ 1.0 MB
            self.same = self.net
            self.table = np.zeros((1024, 256), np.float32)  # 1 MB
            self.meta = {"cache": [np.zeros(2**18, np.float32)]}  # 1 MB

    mb = footprint_mb(Adapter())
    assert 2.9 < mb < 3.2
