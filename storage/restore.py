"""Restore a backup made by `storage.backup` into the configured database.

SQLite: the snapshot is checked (integrity_check) and copied in with the online-backup API, so the
target file stays a valid database even if interrupted. PostgreSQL: `pg_restore --clean --if-exists`.
Stop the app before restoring.

    python -m storage.cli restore FILE [--database-url URL]
"""
from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from backend.config import get_settings
from storage.backup import pg_env_args, sqlite_path


def restore(src: Path, url: str | None = None) -> None:
    url = url or get_settings().database_url
    src = Path(src)
    if not src.is_file():
        raise FileNotFoundError(f"backup file {src} does not exist")
    if url.startswith("sqlite"):
        with open(src, "rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                raise ValueError(f"{src} is not a SQLite database backup")
        s = sqlite3.connect(str(src))
        try:
            ok = s.execute("PRAGMA integrity_check").fetchone()[0]
            if ok != "ok":
                raise ValueError(f"{src} failed its integrity check: {ok}")
            target = sqlite_path(url)
            target.parent.mkdir(parents=True, exist_ok=True)
            d = sqlite3.connect(str(target), timeout=30)
            try:
                with d:
                    s.backup(d)
            finally:
                d.close()
        finally:
            s.close()
    else:
        if not shutil.which("pg_restore"):
            raise RuntimeError("pg_restore is not installed; install the PostgreSQL client tools")
        args, env = pg_env_args(url)
        subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", *args, str(src)], env=env, check=True)

