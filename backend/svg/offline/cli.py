"""Command line of the SVG studio's offline tools.

    python -m backend.svg.offline.cli evaluate [--no-generator] [--out static/svg/eval/legibility_report.json]
    python -m backend.svg.offline.cli paraphrases          # retrieval top-1/top-5 on the paraphrase set only
    python -m backend.svg.offline.cli tables               # README.md + docs/svg_studio.md tables from the report
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from backend.config import REPO_ROOT
from backend.svg.offline import legibility_eval as ev

DOCS = [REPO_ROOT / "README.md", REPO_ROOT / "docs" / "svg_studio.md"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="SVG studio offline tools")
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("evaluate", help="legibility/style/paraphrase report")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--no-generator", action="store_true")
    e.add_argument("--out", default=str(ev.REPORT))
    sub.add_parser("paraphrases", help="retrieval on the paraphrase set")
    t = sub.add_parser("tables", help="write the generated tables into README.md and docs/svg_studio.md")
    t.add_argument("--report", default=str(ev.REPORT))
    a = ap.parse_args(argv)
    if a.cmd == "evaluate":
        rep = ev.run(seed=a.seed, generator=not a.no_generator)
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(json.dumps(rep, indent=1, default=float))
        print(ev.report_tables(rep))
        print(f"wrote {a.out}")
    elif a.cmd == "paraphrases":
        print(json.dumps(ev.paraphrase_eval()["summary"]))
    else:
        rep = json.loads(Path(a.report).read_text())
        for f in ev.write_tables(rep, DOCS):
            print(f"updated {f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
