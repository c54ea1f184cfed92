"""What the Point-Bench tab calls: run a pointer on the sample bench, store and read results, and
compare bench averages with arena ratings.

Results of every run are stored (append-only) in `bench_results`; the committed
`static/bench/results/<pointer>.json` files fill in for models never run on this server, so the panel
has rows on a fresh install.
"""
from __future__ import annotations

import json
import logging
import re
from pathlib import Path

from backend.arena import bench as B
from backend.arena.bench_compare import compare
from backend.arena.service import leaderboard
from backend.arena.vocab import failed_run
from backend.config import REPO_ROOT
from backend.errors import UserError
from backend.registry import get_registry
from backend.tempfiles import request_dir, scratch_dir
from backend.zipsafe import ZipLimits, ZipSafetyError, extract_tree
from storage.db import get_storage
from storage.repos import bench as repo

log = logging.getLogger(__name__)
SAMPLE_BENCH = REPO_ROOT / "static" / "bench"


def sample_bench_dir() -> Path:
    return SAMPLE_BENCH


def pointers() -> list[str]:
    """Registry pointers that can be evaluated (enabled entries of capability "pointing")."""
    reg = get_registry()
    return [e.name for e in reg.entries("pointing") if e.enabled]


def pointer_unavailable(pointer: str) -> str | None:
    """Why a registry pointer cannot run here (server paths reduced to their last part), or None when it can."""
    ok, why = get_registry().availability(pointer)
    return None if ok else re.sub(r"(?:/[^/\s:]+)+/([^/\s:]+)", r"\1", why)


def check_pointer(pointer: str) -> None:
    """Refuse an unknown, disabled or unavailable pointer before any item is run or any result stored (an
    uninstalled checkpoint used to "score" 0 % on every item and enter the results table as that model's)."""
    if pointer not in pointers():
        raise UserError(f"Unknown or disabled pointer {pointer!r}; choose one of: {', '.join(pointers())}.")
    why = pointer_unavailable(pointer)
    if why:
        raise UserError(f"{pointer} cannot run on this server ({why}); nothing was evaluated or stored. The "
                        "Status tab lists every model's backend.")


def store_result(res: dict, session_id: str | None = None) -> int | None:
    """Store a run; a failed run (no item got a prediction: vocab.failed_run) is not a score and is not stored."""
    if failed_run(res.get("items")):
        log.warning("not storing a failed Point-Bench run of %s (%s)", res.get("model"),
                    str(res["items"][0].get("reason", ""))[:200])
        return None
    return get_storage().write(lambda s: repo.add_result(s, res, session_id=session_id))


def failed_runs() -> list[dict]:
    """Stored failed runs (every item a pointer error): rows an old version stored as a 0 % score."""
    return get_storage().read(repo.failed_results)


def delete_failed_runs(ids: list[int] | None = None) -> int:
    """Delete the given failed runs (default: all of them); rows that are not failed runs are left alone."""
    ids = [r["id"] for r in failed_runs()] if ids is None else list(ids)
    return get_storage().write(lambda s: repo.delete_results(s, ids)) if ids else 0


def run_pointer_on_bench(pointer: str, bench_dir: str | Path | None = None, progress=None,
                         session_id: str | None = None, overlay_dir: str | Path | None = None,
                         timeout_s: float = 60) -> dict:
    """Evaluate a registry pointer, store the result row, return the result (with items)."""
    check_pointer(pointer)
    res = B.evaluate_pointer(bench_dir or SAMPLE_BENCH, pointer, progress=progress, timeout_s=timeout_s,
                             resume=False, overlay_dir=overlay_dir)
    res["result_id"] = store_result(res, session_id)
    return res


def committed_results(bench_dir: Path | None = None) -> dict[str, dict]:
    """Results files shipped with the sample bench (`results/<model>.json`)."""
    out = {}
    for p in sorted(((bench_dir or SAMPLE_BENCH) / "results").glob("*.json")):
        try:
            res = json.loads(p.read_text(encoding="utf-8"))
            if not res.get("complete", True):
                continue  # a run still in progress (or killed): resumable, but not a result yet
            out[res.get("model") or p.stem] = {k: res[k] for k in ("model", "n", "average", "per_category")} | {
                "source": "file", "bench": res.get("bench", ""), "created": None}
        except (OSError, ValueError, KeyError) as exc:
            log.warning("skipping results file %s: %s", p, exc)
    return out


def bench_results(bench_name: str | None = None) -> dict[str, dict]:
    """Latest stored result per model, falling back to the committed files for the sample bench."""
    name = bench_name or SAMPLE_BENCH.name
    stored = get_storage().read(lambda s: repo.latest_results(s, bench=name))
    merged = committed_results() if name == SAMPLE_BENCH.name else {}
    merged.update(stored)
    return merged


def arena_ratings() -> tuple[dict[str, dict], str]:
    """(ratings, note). Absent arena service or no votes → ({}, a sentence saying so)."""
    try:
        lb = leaderboard(method="bt") or {}
    except Exception as exc:  # noqa: BLE001 - the panel must still show bench numbers
        log.warning("arena leaderboard unavailable: %s", exc)
        return {}, f"No arena ratings available ({type(exc).__name__})."
    if not lb:
        return {}, "No arena votes yet."
    return lb, f"Arena ratings from {len(lb)} model(s) (Bradley-Terry)."


def bench_vs_arena(bench_name: str | None = None) -> dict:
    bench = bench_results(bench_name)
    arena, note = arena_ratings()
    out = compare(bench, arena)
    out["note"] = note
    out["bench"] = bench
    return out


def result_items(model: str) -> list[dict]:
    """Per-item rows of the newest stored result for `model` (or its committed file)."""
    stored = get_storage().read(lambda s: repo.latest_results(s, bench=SAMPLE_BENCH.name, with_items=True))
    if model in stored and stored[model].get("items"):
        return stored[model]["items"]
    p = SAMPLE_BENCH / "results" / f"{model}.json"
    if p.is_file():
        return json.loads(p.read_text(encoding="utf-8")).get("items", [])
    return []


# A Point-Bench zip: the released bench is ~75 MB over ~1,000 files; refuse far beyond that.
BENCH_ZIP_LIMITS = ZipLimits(max_files=20_000, max_total_bytes=300 * 1024 * 1024, max_file_bytes=25 * 1024 * 1024,
                             max_ratio=200.0, max_archive_bytes=256 * 1024 * 1024)


def extract_bench_zip(zip_path: str | Path, dest: str | Path) -> Path:
    """Unpack a Point-Bench zip under `dest` through `backend.zipsafe` (no absolute/parent paths, no symlinks,
    size, count and ratio limits, real bytes counted); return the folder that holds data.json."""
    try:
        extract_tree(zip_path, dest, BENCH_ZIP_LIMITS)
    except ZipSafetyError as exc:
        raise B.BenchError(str(exc)) from exc
    hits = sorted((p for p in Path(dest).rglob("data.json") if p.is_file() and not p.is_symlink()),
                  key=lambda p: len(p.parts))
    if not hits:
        raise B.BenchError("The bench zip has no data.json.")
    return hits[0].parent


def evaluate(pointer: str, zip_path: str | Path | None = None, progress=None, session_id: str | None = None,
             overlays: bool = False) -> dict:
    """The Point-Bench tab's one call: `pointer` on an uploaded bench zip, or on the bundled sample bench; with
    `overlays`, each item's overlay image is written to a scratch folder and its path put in the item."""
    if not pointer:
        raise UserError("Choose a pointer to evaluate.")
    overlay_dir = str(scratch_dir("bench-ov-")) if overlays else None
    if zip_path:
        return evaluate_uploaded(zip_path, pointer, progress=progress, session_id=session_id, overlay_dir=overlay_dir)
    return run_pointer_on_bench(pointer, progress=progress, session_id=session_id, overlay_dir=overlay_dir)


def evaluate_uploaded(zip_path: str | Path, pointer: str, progress=None, session_id: str | None = None,
                      overlay_dir: str | Path | None = None) -> dict:
    """Evaluate a registry pointer on an uploaded bench zip (e.g. an export of accepted annotations)."""
    check_pointer(pointer)
    with request_dir("bench-zip-") as tmp:  # removed when this request ends, also on errors
        root = extract_bench_zip(zip_path, tmp)
        res = B.evaluate_pointer(root, pointer, progress=progress, resume=False, overlay_dir=overlay_dir)
    res["bench"] = f"upload:{res['bench_fingerprint']}"
    res["result_id"] = store_result(res, session_id)
    return res
