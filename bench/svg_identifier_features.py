"""Does the exemplar → family identifier get better with the filled paths' fill rule as a feature? (issue 18, svg11)

Why: on the evaluation's dev configurations the identifier named phosphor/fill for heroicons/solid exemplars in
5 of 6 (svg10), so the studio restyled toward the wrong family's drawings and card. Both are solid 24-px-box
families; on training-concept icons of the identifier's FIT half (never the measuring half, never the evaluation)
the new feature separates them (ROC AUC 0.91 heroicons/solid vs phosphor/fill; corner radius 0.42, arc count
0.42, subpath count 0.44, straight-segment share 0.54 did not): Heroicons encodes knock-outs with fill-rule
even-odd (share of paths ~0.7-0.8 for solid/mini/micro, bootstrap ≤ 0.4, every other set ~0).

Protocol (fixed before the run, in this file's first commit):
- before = the committed identifier (static/svg/family_identifier.json, style.IDENTITY_FILL_RULE off);
  after = the same fit (family_identifier.fit: same fit-half icons, 400 per set/variant, same network seeds) with
  the feature on. Both measured by family_identifier.measure on the SAME real exemplar triples: 20 per set/variant
  of the measuring half of the training concepts (seed 3), through the card path an upload takes. Never the
  evaluation's configurations (their exemplars are held-out concepts).
- Ship rule: after > before on all triples, and no set/variant loses more than 2 of its 20 triples, and neither
  card kind (filled ink / centre-line) loses more than 2 triples.

    python bench/svg_identifier_features.py      # -> bench/results/svg_identifier_features.json (+ .log);
                                                 #    writes the new table when the rule passes (--write)
"""
from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OUT = ROOT / "bench" / "results" / "svg_identifier_features.json"
MAX_STYLE_DROP, MAX_KIND_DROP = 2, 2


def rule(before: dict, after: dict) -> dict:
    """The ship rule on two family_identifier.measure results."""
    tot_b = sum(v["identifier"] for v in before["by_card_kind"].values())
    tot_a = sum(v["identifier"] for v in after["by_card_kind"].values())
    drops = {st: before["by_style"][st]["identifier"] - after["by_style"][st]["identifier"]
             for st in before["by_style"]}
    kind_drops = {k: before["by_card_kind"][k]["identifier"] - after["by_card_kind"][k]["identifier"]
                  for k in before["by_card_kind"]}
    ok = tot_a > tot_b and max(drops.values()) <= MAX_STYLE_DROP and max(kind_drops.values()) <= MAX_KIND_DROP
    return {"before": tot_b, "after": tot_a, "n": sum(v["n"] for v in before["by_card_kind"].values()),
            "worst_style_drop": max(drops.items(), key=lambda t: (t[1], t[0])), "kind_drops": kind_drops,
            "passes": bool(ok)}


def main(write: bool = True) -> dict:
    import torch

    from backend.svg import family_match as fm
    from backend.svg import style
    from backend.svg.offline import family_identifier as fi

    torch.set_num_threads(1)
    t0 = time.time()
    committed = fm.IDENTIFIER
    tmp = Path(tempfile.mkdtemp()) / "family_identifier.json"
    shutil.copy(committed, tmp)
    try:
        style.IDENTITY_FILL_RULE = False
        fm.IDENTIFIER = tmp
        fm.load_identifier.cache_clear()
        before = fi.measure(log=print)
        print(f"before measured ({time.time() - t0:.0f}s)", flush=True)
        style.IDENTITY_FILL_RULE = True
        table = fi.fit(log=print)
        tmp.write_text(json.dumps(table, separators=(",", ":")))
        fm.load_identifier.cache_clear()
        after = fi.measure(log=print)
        print(f"after measured ({time.time() - t0:.0f}s)", flush=True)
    finally:
        fm.IDENTIFIER = committed
        fm.load_identifier.cache_clear()
    verdict = rule(before, after)
    res = {"protocol": __doc__.split("Protocol")[1].split("python bench")[0].strip(), "before": before,
           "after": after, "rule": verdict, "elapsed_s": round(time.time() - t0, 1)}
    OUT.write_text(json.dumps(res, indent=1))
    print(json.dumps(verdict))
    if write and verdict["passes"]:
        table["features"] = "style.identity_features (IDENTITY_FILL_RULE on)"
        table["measured"] = after
        committed.write_text(json.dumps(table, separators=(",", ":")))
        print(f"rule passed: wrote {committed}")
    return res


if __name__ == "__main__":
    main(write="--no-write" not in sys.argv)
