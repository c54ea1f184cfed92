"""Speed (and, when the sample bench exists, accuracy) of the embedded pointers vs the baselines.

    .venv/bin/python bench/pointing.py                 # 2 torch threads, all packaged photos
    .venv/bin/python bench/pointing.py --threads 2 --repeat 3 --bench static/bench

Prints per pointer: cold start (first call in a fresh process, incl. model loads and the class-name
embeddings), warm latency per image (median / p90 / max) and the ratio to the centre baseline measured in
the same process; then Point-Bench accuracy per category via backend.arena.bench.evaluate_pointer.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SITE = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
PHOTOS = [  # (file, instruction) — real photos shipped in packages (licences in docs/pointing.md)
    ("sklearn/datasets/images/china.jpg", "Point to the temple roof"),
    ("sklearn/datasets/images/flower.jpg", "Point to the flower"),
    ("gradio/media_assets/images/lion.jpg", "Point to the lion"),
    ("gradio/media_assets/images/tower.jpg", "Point to the tower"),
    ("gradio/media_assets/images/cheetah1.jpg", "Point to the cheetah"),
    ("gradio/media_assets/images/bus.png", "Point to the bus"),
]
SKIMAGE = [("chelsea", "Point to the cat"), ("coffee", "Point to the cup"), ("rocket", "Point to the rocket"),
           ("astronaut", "Point to the flag"), ("coins", "Point to all the coins"),
           ("page", "Point to the word 'segmentation'"), ("stereo_motorcycle", "Point to the motorcycle")]
POINTERS = ("center", "random", "lite0-cam", "ocr")
TARGET_S = 2.0  # the budget per image on 2 cores


def load_images():
    import skimage.data as skd
    from PIL import Image

    out = []
    for rel, text in PHOTOS:
        p = SITE / rel
        if p.exists():
            out.append((p.name, Image.open(p).convert("RGB"), text))
    for name, text in SKIMAGE:
        try:
            arr = getattr(skd, name)()
            arr = arr[0] if isinstance(arr, tuple) else arr  # stereo_motorcycle → (left, right, disparity)
            out.append((name, Image.fromarray(arr).convert("RGB"), text))
        except Exception as exc:  # noqa: BLE001 - skimage data may be missing on a slim install
            print(f"skip {name}: {exc}")
    return out


def speed(images, repeat: int) -> dict:
    from backend.pointing.service import run_pointer

    rows = {}
    for name in POINTERS:
        t0 = time.perf_counter()
        first = run_pointer(name, images[0][1], images[0][2], timeout_s=600)
        cold = time.perf_counter() - t0
        lat, cpu, fails = [], [], 0
        for _ in range(repeat):
            for _, img, text in images:
                t, c = time.perf_counter(), time.process_time()
                res = run_pointer(name, img, text, timeout_s=600)
                lat.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
                fails += not res.parse_ok
        lat.sort()
        rows[name] = {"cold_s": cold, "median_s": statistics.median(lat), "p90_s": lat[int(0.9 * (len(lat) - 1))],
                      "max_s": lat[-1], "cpu_s": statistics.median(cpu), "n": len(lat), "no_point": fails,
                      "first_error": first.error}
    base = rows["center"]["median_s"]
    print(f"load average now: {open('/proc/loadavg').read().split()[0]} (other processes share the cores; "
          "cpu s = median process CPU time per image, summed over threads)")
    print(f"\n{'pointer':<10} {'cold s':>7} {'median s':>9} {'p90 s':>7} {'max s':>7} {'cpu s':>6} {'n':>4} "
          f"{'no pt':>5}  {'÷center':>9} {'÷2s budget':>10}")
    for name, r in rows.items():
        print(f"{name:<10} {r['cold_s']:>7.2f} {r['median_s']:>9.3f} {r['p90_s']:>7.3f} {r['max_s']:>7.3f} "
              f"{r['cpu_s']:>6.2f} {r['n']:>4} "
              f"{r['no_point']:>5}  {r['median_s'] / max(base, 1e-9):>8.0f}x {r['median_s'] / TARGET_S:>9.2f}x")
    return rows


def accuracy(bench_dir: Path) -> None:
    try:
        from backend.arena.bench import evaluate_pointer
    except ImportError as exc:
        print(f"\naccuracy: skipped (backend.arena.bench not available: {exc})")
        return
    if not (bench_dir / "data.json").exists():
        print(f"\naccuracy: skipped ({bench_dir}/data.json does not exist yet)")
        return
    results = {}
    for name in POINTERS:
        t0 = time.perf_counter()
        results[name] = evaluate_pointer(bench_dir, name, resume=False, timeout_s=120)
        results[name]["wall"] = time.perf_counter() - t0
    cats = sorted({c for r in results.values() for c in r["per_category"]})
    print(f"\nPoint-Bench sample ({bench_dir}), accuracy % (n = {next(iter(results.values()))['n']} items)")
    print(f"{'pointer':<10} " + " ".join(f"{c[:10]:>10}" for c in cats) + f" {'average':>8} {'wall s':>7}")
    for name, r in results.items():
        print(f"{name:<10} " + " ".join(f"{r['per_category'].get(c, float('nan')):>10.1f}" for c in cats)
              + f" {r['average']:>8.1f} {r['wall']:>7.1f}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2, help="torch threads (the target is 2 cores)")
    ap.add_argument("--repeat", type=int, default=2, help="passes over the photos for the warm timing")
    ap.add_argument("--bench", default=str(Path(__file__).resolve().parent.parent / "static" / "bench"))
    ap.add_argument("--skip-accuracy", action="store_true")
    a = ap.parse_args(argv)
    import torch

    torch.set_num_threads(a.threads)
    images = load_images()
    print(f"{len(images)} images, torch threads = {a.threads}, sizes "
          + ", ".join(f"{img.width}x{img.height}" for _, img, _ in images[:4]) + ", …")
    speed(images, a.repeat)
    if not a.skip_accuracy:
        accuracy(Path(a.bench))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
