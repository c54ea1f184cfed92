"""Command line for the database: online backup and restore (see backup.py and restore.py).

    python -m storage.cli backup --out FILE [--database-url URL]
    python -m storage.cli restore FILE [--database-url URL]     # stop the app first
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from storage.backup import backup
from storage.restore import restore


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m storage.cli", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    b = sub.add_parser("backup", help="SQLite online backup or pg_dump, integrity-checked")
    b.add_argument("--out", required=True, type=Path, help="output file")
    b.add_argument("--database-url", default=None, help="defaults to DATABASE_URL / DATA_DIR/app.db")
    r = sub.add_parser("restore", help="restore a backup into the configured database")
    r.add_argument("file", type=Path)
    r.add_argument("--database-url", default=None, help="defaults to DATABASE_URL / DATA_DIR/app.db")
    a = ap.parse_args(argv)
    try:
        if a.command == "backup":
            p = backup(a.out, a.database_url)
            print(f"wrote {p} ({p.stat().st_size} bytes) at {time.strftime('%Y-%m-%d %H:%M:%S')}")
        else:
            restore(a.file, a.database_url)
            print(f"restored {a.file}")
    except Exception as exc:  # noqa: BLE001 - a CLI reports any failure as one line and exit status 1
        print(f"{a.command} failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
