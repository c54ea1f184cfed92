"""Checks every device-candidate protocol's committed result shares (protocols v8 and v9): the registered runs are the
scored ones, and each was trained by the device call (seed, image-loss weight, batch, its stdout in run.log, its
train_log) with the step the result records, and scored on validation v2's six classes."""
from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

from backend.anomaly.offline import candidates_common as cc

VALIDATION_V2 = {"chelsea", "coffee", "motorcycle", "aero", "ascent", "tree"}


def device_runs(mod: ModuleType, res: dict, names) -> Iterator[tuple[str, str, dict, dict]]:
    """Runs the shared checks on each of `names` (trained under mod.FOLDER) and yields (name, its group or recipe,
    checkpoint metadata, result row) for the protocol's own checks."""
    assert tuple(res["candidates"]) == mod.CANDIDATES and tuple(res["controls"]) == mod.CONTROLS
    log = (mod.FOLDER / "run.log").read_text()
    for name in names:
        group, seed = name.split("_s")
        meta = cc.checkpoint_meta(mod.FOLDER / name / "metauas_lite0.pt")
        row = {**res["controls"], **res["candidates"]}[name]
        assert meta["seed"] == int(seed) and meta["img_weight"] == 0.5 and meta["batch"] == 32
        assert row["training"]["step"] == meta["step"] > 0
        assert f"{name}.stdout" in log and (mod.FOLDER / name / "train_log.txt").is_file()
        assert set(row["ensemble"]["per_class"]) == VALIDATION_V2
        yield name, group, meta, row
