"""Command lines of the arena (the modules they drive stay free of argument parsing and printing).

    python -m backend.arena.ratings --battles clean_battle.json [--method bt|elo] [--bootstrap 100]
    python -m backend.arena.transfer import battles.json [--format clean_battle|pointarena]
    python -m backend.arena.transfer export --out battles.json
    python -m backend.arena.transfer export-leaderboard --out lb.csv [--method bt|elo] [--category overall]

`python -m backend.arena.cli ratings|transfer ...` works too.
"""
from __future__ import annotations

import argparse
import json
import sys

import orjson
from tqdm import tqdm

from backend.arena import formats, ratings, service
from storage.db import StorageError, init_storage

TRANSFER_DOC = """Move arena data in and out of the database in peers' formats.

    python -m backend.arena.transfer export --out battles.json          # FastChat clean_battle + point fields
    python -m backend.arena.transfer export-leaderboard --out lb.csv    # PointArena CSV columns
    python -m backend.arena.transfer import dynamic_results.json --format pointarena

Uses DATA_DIR / DATABASE_URL like the app (migrations run first). Imports skip content already stored
(unique content hash, INSERT ... ON CONFLICT DO NOTHING, one transaction per chunk so live votes keep flowing);
exports stream from the database.
"""


def _anchor(ap: argparse.ArgumentParser, raw: str | None):
    if not raw:
        return None
    name, _, val = raw.rpartition("=")
    try:
        return (name, float(val))
    except ValueError:
        ap.error("--anchor must look like MODEL=1000")
        return None


def ratings_main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m backend.arena.ratings",
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
        df = formats.load_battles_file(args.battles, args.format)
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


def _write_json_stream(path: str, records) -> int:
    """A JSON list written record by record (orjson), so a million battles never sit in memory at once."""
    n = 0
    with open(path, "wb") as fh:
        fh.write(b"[")
        for rec in records:
            fh.write(b",\n" if n else b"\n")
            fh.write(orjson.dumps(rec, option=orjson.OPT_NON_STR_KEYS))
            n += 1
        fh.write(b"\n]\n")
    return n


def transfer_main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m backend.arena.transfer", description=TRANSFER_DOC,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    ex = sub.add_parser("export", help="all voted battles as clean_battle JSON")
    ex.add_argument("--out", required=True)
    ex.add_argument("--all", action="store_true", help="include battles without a vote")
    lb = sub.add_parser("export-leaderboard", help="leaderboard as PointArena CSV")
    lb.add_argument("--out", required=True)
    lb.add_argument("--method", choices=["bt", "elo"], default="bt")
    lb.add_argument("--category", default="overall")
    im = sub.add_parser("import", help="add battles from a file")
    im.add_argument("file")
    im.add_argument("--format", choices=["clean_battle", "pointarena"], default="clean_battle")
    im.add_argument("--quiet", action="store_true", help="no progress bar")
    args = ap.parse_args(argv)
    try:
        init_storage()
        if args.cmd == "export":
            n = _write_json_stream(args.out, service.iter_clean_battle(voted_only=not args.all))
            print(f"wrote {n} battles to {args.out}")
        elif args.cmd == "export-leaderboard":
            rep = service.leaderboard_report(args.method, args.category, fresh=True)
            with open(args.out, "w", encoding="utf-8") as fh:
                fh.write(formats.leaderboard_csv(rep))
            print(f"wrote {len(rep['models'])} models to {args.out}")
        else:
            items = formats.read_json(args.file)
            with tqdm(total=len(items) if isinstance(items, list) else 0, unit="battle", disable=args.quiet,
                      desc="import", file=sys.stderr) as bar:
                r = service.import_battles(items, args.format, progress=lambda done, _n: bar.update(done - bar.n))
            print(f"read {r['read']}, added {r['added']}, skipped {r['skipped']} already stored")
    except (OSError, ValueError, StorageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    commands = {"ratings": ratings_main, "transfer": transfer_main}
    if not argv or argv[0] not in commands:
        print("usage: python -m backend.arena.cli {ratings|transfer} ...", file=sys.stderr)
        return 2
    return commands[argv[0]](argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
