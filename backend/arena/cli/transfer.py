"""`python -m backend.arena.transfer`: move arena data in and out of the database (see TRANSFER_DOC)."""
from __future__ import annotations

import argparse
import sys

from tqdm import tqdm

from backend.arena import formats, service
from storage.db import StorageError, init_storage

TRANSFER_DOC = """Move arena data in and out of the database in peers' formats.

    python -m backend.arena.transfer export --out battles.json          # FastChat clean_battle + point fields
    python -m backend.arena.transfer export-leaderboard --out lb.csv    # PointArena CSV columns
    python -m backend.arena.transfer import dynamic_results.json --format pointarena

Uses DATA_DIR / DATABASE_URL like the app (migrations run first). Imports skip content already stored
(unique content hash, INSERT ... ON CONFLICT DO NOTHING, one transaction per chunk so live votes keep flowing);
exports stream from the database.
"""


def main(argv: list[str] | None = None) -> int:
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
            n = formats.write_json_stream(args.out, service.iter_clean_battle(voted_only=not args.all))
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


if __name__ == "__main__":
    raise SystemExit(main())
