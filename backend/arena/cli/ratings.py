"""`python -m backend.arena.ratings`: arena ratings (Elo or Bradley-Terry with bootstrap CIs) from a battles file."""
from __future__ import annotations

import argparse
import json
import sys

from backend.arena import formats, ratings


def _anchor(ap: argparse.ArgumentParser, raw: str | None):
    if not raw:
        return None
    name, _, val = raw.rpartition("=")
    try:
        return (name, float(val))
    except ValueError:
        ap.error("--anchor must look like MODEL=1000")
        return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m backend.arena.ratings",
        description="Arena ratings (Elo or Bradley-Terry with bootstrap CIs) from a battles file.")
    ap.add_argument("--battles", required=True, help="JSON file of battles")
    ap.add_argument("--format", choices=["clean_battle", "pointarena"], default="clean_battle",
                    help="clean_battle = FastChat list of {model_a, model_b, winner, judge, anony, tstamp}; "
                         "pointarena = PointArena dynamic_results.json")
    ap.add_argument("--method", choices=["elo", "bt"], default="bt")
    ap.add_argument("--bootstrap", type=int, default=ratings.DEFAULT_BOOTSTRAP, help="rounds; 0 = point estimate only")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--anchor", default=None, help="MODEL=RATING to pin one model (default: mean 1000)")
    ap.add_argument("--daily-cap", type=int, default=None, help="max votes per judge per UTC day (off)")
    ap.add_argument("--dedup-quantile", type=float, default=None, help="e.g. 0.9999 (off)")
    ap.add_argument("--ipw", action="store_true", help="inverse-probability weight by sampling_prob")
    ap.add_argument("--prior", type=float, default=0.0,
                    help="BT only: L2 penalty in battles' units (the app uses 1.0 for small data); 0 = pure MLE")
    ap.add_argument("--out", default=None, help="write the result JSON here")
    args = ap.parse_args(argv)
    anchor = _anchor(ap, args.anchor)
    try:
        cols = ["anony"] + (["judge", "tstamp"] if args.daily_cap else []) + (["image_sha256", "instruction"]
                if args.dedup_quantile else []) + (["sampling_prob"] if args.ipw else [])
        if args.method == "bt" and cols == ["anony"]:  # BT needs only the (a, b, outcome) counts: no per-battle table
            counts = ratings.count_outcomes(formats.read_battle_columns(args.battles, args.format, cols))
            res = ratings.compute_leaderboard_from_counts(counts, args.bootstrap, args.seed, anchor=anchor,
                                                          reg=args.prior)
        else:
            df = formats.load_battles_file(args.battles, args.format, columns=cols)  # only what the options use
            res = ratings.compute_leaderboard(df, args.method, args.bootstrap, args.seed, anchor=anchor,
                                              daily_cap=args.daily_cap, dedup_quantile=args.dedup_quantile,
                                              ipw=args.ipw, reg=args.prior)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    table = ratings.leaderboard_table(res)
    print(f"{res['method'].upper()} ratings from {res['n_battles']} counted battles "
          f"(bootstrap {res['bootstrap']}, seed {res['seed']})")
    print(table[["rank_ub", "model", "rating", "ci", "votes", "wins", "losses", "ties"]].to_string(index=False))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
