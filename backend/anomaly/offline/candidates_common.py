"""What the device-candidate protocols (candidates_v6, candidates_v8, candidates_v9) share beyond scoring: validation
v2's classes, a checkpoint's training metadata, writing the result and the generated docs/README blocks, and the
command line (score on validation v2 and regenerate the blocks, or `--tables-only` from the committed JSON).
Protocol-specific rules, constants and tables stay in each protocol's module."""
from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from backend.anomaly.dataset import list_classes
from backend.anomaly.offline import levers, split
from backend.docs_blocks import replace_block

REPO = Path(__file__).resolve().parents[3]
DATA = "/tmp/validation_v2"
DOCS, README = REPO / "docs" / "anomaly.md", REPO / "README.md"
SCORED = ("Validation v2 (6 classes, 360 queries, 256 px, 1 thread), every checkpoint through the shipped inference "
          "path with the registry's settings")  # how every protocol scored, as its docs table says


def validation_v2(data: Path) -> tuple[dict[str, list[str]], list[str]]:
    """(parts, classes) of validation v2 in `data` (built when missing); sets torch to 1 thread as every protocol
    run does."""
    torch.set_num_threads(1)
    if not (data / "chelsea").is_dir():
        levers.build(data)
    parts = {"v1": list(split.VALIDATION_CLASSES), "new": list(split.VALIDATION_V2_NEW)}
    classes = [c for p in parts.values() for c in p]
    assert sorted(classes) == sorted(list_classes(data)), "validation v2 has exactly these six classes"
    return parts, classes


def checkpoint_meta(ck: Path) -> dict:
    """The training metadata a checkpoint carries (step, minutes, seed, recipe, photos, command, …)."""
    return torch.load(ck, map_location="cpu", weights_only=False)["meta"]


def save(res: dict, out: Path) -> dict:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1) + "\n")
    return res


Block = tuple[str, str, Callable[[dict], str]]


def write_tables(res: dict, docs: Block, summary: Block) -> None:
    """The docs/anomaly.md block (begin, end, table) and the README summary block (begin, end, summary_line)."""
    for path, (b, e, body) in ((DOCS, docs), (README, summary)):
        path.write_text(replace_block(path.read_text(), b, e, body(res), required=True, where=str(path)))


def parser(doc: str, out: Path, folder: Path | None = None, folder_help: str = "") -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--data", default=DATA, help="validation v2 folder (built when missing)")
    if folder is not None:
        ap.add_argument("--folder", default=str(folder), help=folder_help)
    ap.add_argument("--out", default=str(out))
    ap.add_argument("--tables-only", action="store_true", help="regenerate the docs blocks from the committed JSON")
    return ap


def finish(a: argparse.Namespace, out: Path, run: Callable[..., dict], docs: Block, summary: Block,
           always_write: bool = False) -> int:
    """`--tables-only`: the blocks (write_tables) from the committed JSON; otherwise score (with `--folder` when the
    parser has it), write the blocks when the result went to the committed path (or `always_write`), print the
    selection."""
    if a.tables_only:
        write_tables(json.loads(Path(a.out).read_text()), docs, summary)
        return 0
    kw: dict[str, Any] = {"folder": Path(a.folder)} if hasattr(a, "folder") else {}
    res = run(Path(a.data), Path(a.out), **kw)
    if always_write or Path(a.out) == out:
        write_tables(res, docs, summary)
    print(json.dumps(res["selection"], indent=1))
    return 0
