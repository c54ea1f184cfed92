"""Bounded soak: a few hundred mixed requests against the launched app; RSS and temp folders must stay flat.

Starts `python app.py` in a child process (bench/load.py's AppProcess, fresh DATA_DIR and GRADIO_TEMP_DIR),
then one gradio_client session cycles through a fixed mix — battle + vote, leaderboard, status, a fake-PNG upload
(refused), a bench zip evaluation, a zip bomb (refused), a 3D render, an anomaly inspection, an SVG generation and a
download — until `--requests` requests or `--max-s` seconds. It samples the child's resident memory (VmRSS from
/proc) and counts files under the app's temp root, Gradio's cache and `/tmp/dl-*` (the folders the old code leaked).

Rate limits are lifted for the child (JOB_*=…,100000000): this measures memory and disk, not the limiter.
Temp ages are shortened (TEMP_MAX_AGE_S=20, Gradio cache swept every 20 s of files older than 40 s) so the
sweeps happen inside a short run.

    python bench/soak.py --requests 300 [--out bench/results/soak.json]
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import io
import json
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import skimage  # noqa: E402

from bench.load import AppProcess, sample_image  # noqa: E402

SOAK_ENV = {f"JOB_{k}": "2,100000000" for k in ("EDIT3D", "ANOMALY", "ANOMALY_SLOW", "SVG", "SVG_LEARN",
                                                    "BENCH")}
SOAK_ENV.update({"TEMP_MAX_AGE_S": "20", "GRADIO_DELETE_CACHE": "20,40", "RATE_LIMIT_PER_MIN": "100000000"})
SCENE = [55, 0.15, 0.35, "", "auto", "auto", "auto"]
COMP = [0.5, 0.0, True, 1.5]
STYLE = ["Installed set/variant", "phosphor/bold", None, "outline", 2.0, "round", "round", 2.0, 24, "currentColor"]


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def tree_usage(root: Path) -> tuple[int, int]:
    n = size = 0
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            n += 1
            try:
                size += os.lstat(os.path.join(dirpath, f)).st_size
            except OSError:
                pass
    return n, size


def app_temp_root(data_dir: Path, tmpdir: Path) -> Path:
    """Same formula as backend.tempfiles.temp_root() for the child's DATA_DIR and TMPDIR."""
    tag = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:10]
    return tmpdir / f"pbsuite-{tag}"


def _fixtures(tmp: Path) -> dict:
    from PIL import Image

    image = sample_image(tmp)
    fake = tmp / "fake.png"
    fake.write_text("not a PNG\n" * 30)
    png, mask = io.BytesIO(), io.BytesIO()
    Image.new("RGB", (40, 30), (200, 100, 50)).save(png, "PNG")
    m = Image.new("L", (40, 30), 0)
    m.paste(255, (10, 5, 30, 25))
    m.save(mask, "PNG")
    good = tmp / "bench.zip"
    with zipfile.ZipFile(good, "w") as zf:
        zf.writestr("b/data.json", json.dumps([{"image_filename": "a.png", "user_input": "Point to it.",
                                                "category": "spatial", "mask_filename": "m.png"}]))
        zf.writestr("b/images/a.png", png.getvalue())
        zf.writestr("b/masks/m.png", mask.getvalue())
    bomb = tmp / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("b/data.json", "[]")
        zf.writestr("b/images/zeros.png", b"\0" * (20 * 1024 * 1024))
    small = tmp / "small.png"
    Image.open(image).resize((160, 110)).save(small)
    # the 3D step needs a photo with an object under the click: scikit-image's coffee (CC0), the cup at (300, 240)
    cup = tmp / "coffee.png"
    Image.open(Path(skimage.__file__).parent / "data" / "coffee.png").convert("RGB").save(cup)
    return {"image": image, "fake": str(fake), "good": str(good), "bomb": str(bomb), "small": str(small),
            "cup": str(cup)}


def _steps(c, f: dict):
    from gradio_client import handle_file

    def battle():
        bid = c.predict(handle_file(f["image"]), "Point to the cat's nose", api_name="/new_battle")[0]
        c.predict(bid, "A", api_name="/vote")

    def expect_error(fn):
        def run():
            try:
                fn()
            except Exception:
                return
            raise AssertionError("expected a refusal")
        return run

    return [
        ("battle+vote", battle),
        ("leaderboard", lambda: c.predict(api_name="/leaderboard")),
        ("status", lambda: c.predict("", api_name="/status")),
        ("fake png", expect_error(lambda: c.predict(handle_file(f["fake"]), "Point", api_name="/new_battle"))),
        ("bench zip", lambda: c.predict("center", handle_file(f["good"]), True, api_name="/bench_evaluate")),
        ("zip bomb", expect_error(lambda: c.predict("center", handle_file(f["bomb"]), False,
                                                    api_name="/bench_evaluate"))),
        ("3d render", lambda: c.predict(handle_file(f["cup"]), json.dumps({"points": [[300, 240, 1]]}), None, "", 0,
                                        10, 0, 0, 0.1, 0, 0, 1, False, *SCENE, *COMP, api_name="/edit3d_render")),
        ("anomaly", lambda: c.predict([handle_file(f["small"])], [handle_file(f["small"])], "knn", "256", 0, 0.2,
                                      0.15, False, 0.5, api_name="/inspect_one")),
        ("svg", lambda: c.predict("bell", *STYLE, "svg-retrieval", 1, 0, api_name="/svg_generate")),
        ("download", lambda: c.predict(api_name="/anomaly_example_dataset")),
    ]


def run(requests: int = 300, max_s: float = 600.0, sample_every: int = 20) -> dict:
    from gradio_client import Client

    tmp = Path(tempfile.mkdtemp(prefix="soak-"))
    data = tmp / "data"
    data.mkdir()
    gradio_tmp = tmp / "gradio"
    child_tmp = tmp / "systmp"  # the child's own TMPDIR: everything it writes to "/tmp" is counted here
    child_tmp.mkdir()
    app = AppProcess(data, extra_env={**SOAK_ENV, "GRADIO_TEMP_DIR": str(gradio_tmp), "TMPDIR": str(child_tmp)}).start()
    troot = app_temp_root(data, child_tmp)
    try:
        f = _fixtures(tmp)
        c = Client(app.url, verbose=False)
        steps = _steps(c, f)
        counts: dict[str, int] = {}
        errors: list[str] = []
        samples = []
        t0 = time.time()
        n = 0
        while n < requests and time.time() - t0 < max_s:
            name, fn = steps[n % len(steps)]
            try:
                fn()
                counts[name] = counts.get(name, 0) + 1
            except Exception as exc:  # noqa: BLE001 - reported
                errors.append(f"{name}: {type(exc).__name__}: {str(exc)[:160]}")
            n += 1
            if n % sample_every == 0:
                samples.append({"n": n, "t_s": round(time.time() - t0, 1), "rss_mb": round(rss_mb(app.proc.pid), 1),
                                "temp_files": tree_usage(troot)[0], "tmpdir_files": tree_usage(child_tmp)[0],
                                "gradio_cache_files": tree_usage(gradio_tmp)[0],
                                "gradio_cache_mb": round(tree_usage(gradio_tmp)[1] / 2**20, 1)})
        elapsed = time.time() - t0
    finally:
        app.stop()
    dl_dirs = len(glob.glob(os.path.join(child_tmp, "dl-*")))
    warm = samples[min(1, len(samples) - 1)] if samples else {}
    last = samples[-1] if samples else {}
    peak_temp = max((s["temp_files"] for s in samples), default=0)
    return {
        "requests": n, "elapsed_s": round(elapsed, 1), "errors": len(errors), "error_samples": errors[:5],
        "per_step": counts, "samples": samples,
        "rss_after_warmup_mb": warm.get("rss_mb"), "rss_end_mb": last.get("rss_mb"),
        "rss_growth_after_warmup_mb": round((last.get("rss_mb") or 0) - (warm.get("rss_mb") or 0), 1),
        "temp_files_peak": peak_temp, "temp_files_end": last.get("temp_files"),
        "gradio_cache_files_end": last.get("gradio_cache_files"),
        "tmpdir_files_end": last.get("tmpdir_files"),
        "gradio_cache_mb_end": last.get("gradio_cache_mb"),
        "new_tmp_dl_dirs": dl_dirs,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--max-s", type=float, default=900.0)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    res = run(a.requests, a.max_s)
    print(json.dumps({k: v for k, v in res.items() if k != "samples"}, indent=2))
    for s in res["samples"]:
        print(s)
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
