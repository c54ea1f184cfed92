"""Build-time commands of the anomaly feature: `python -m backend.anomaly.offline.cli <command> --help`.

  split    write static/anomaly/split.json (training vs evaluation-only photos)
  heldout  build the held-out real-photo benchmark (MVTec layout)
  synth    build the procedural synthetic benchmark (MVTec layout)
  train    train MetaUAS-Lite0 (resumable; logs next to the checkpoint)
  report   every engine × prompt mode on a benchmark → static/anomaly/heldout_report.json
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
        a = ap.parse_args(rest)
        print(json.dumps(heldout.generate_v2(a.out) if a.v2 else heldout.generate(a.out, a.seed), indent=1))
        return 0
    if cmd in ("report", "tables"):
        if cmd == "report":
            ap.add_argument("--data", required=True)
            ap.add_argument("--out", default=str(report.REPORT))
            ap.add_argument("--threads", type=int, default=1)
            a = ap.parse_args(rest)

            torch.set_num_threads(a.threads)
            rep = report.run(a.data, Path(a.out))
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
