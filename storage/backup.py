"""Online backup of the database.

SQLite: the sqlite3 online-backup API copies a consistent snapshot while the app keeps writing
(WAL readers are not blocked). PostgreSQL: `pg_dump --format=custom`. Optional periodic backups
into BACKUP_DIR every BACKUP_EVERY_S seconds, keeping BACKUP_KEEP files.

    python -m storage.cli backup --out FILE
"""
from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import subprocess
import threading
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from backend.config import child_env, get_settings, setting

log = logging.getLogger(__name__)


def sqlite_path(url: str) -> Path:
    db = make_url(url).database
    if not db:
        raise ValueError("in-memory SQLite cannot be backed up")
    return Path(db)


def pg_env_args(url: str) -> tuple[list[str], dict]:
    u = make_url(url)
    args = ["--host", u.host or "127.0.0.1", "--port", str(u.port or 5432), "--username", u.username or "postgres",
            "--dbname", u.database or "postgres"]
    env = child_env(PGPASSWORD=u.password) if u.password else child_env()
    return args, env


def backup(out: Path, url: str | None = None) -> Path:
    url = url or get_settings().database_url
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    if url.startswith("sqlite"):
        src = sqlite3.connect(str(sqlite_path(url)), timeout=30)
        dst = sqlite3.connect(str(tmp))
        try:
            with dst:
                src.backup(dst, pages=1024)
        finally:
            dst.close()
            src.close()
        chk = sqlite3.connect(str(tmp))
        try:
            ok = chk.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            chk.close()
        if ok != "ok":
            tmp.unlink(missing_ok=True)
            raise RuntimeError(f"backup failed its integrity check: {ok}")
    else:
        if not shutil.which("pg_dump"):
            raise RuntimeError("pg_dump is not installed; install the PostgreSQL client tools")
        args, env = pg_env_args(url)
        subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", str(tmp), *args], env=env, check=True)
    os.replace(tmp, out)
    return out


def periodic(directory: Path, every_s: float, keep: int = 7, stop: threading.Event | None = None) -> threading.Thread:
    """Start a daemon thread writing timestamped backups into `directory`."""
    stop = stop or threading.Event()
    suffix = ".db" if get_settings().database_kind == "sqlite" else ".dump"

    def loop():
        while not stop.wait(every_s):
            try:
                stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
                backup(directory / f"backup-{stamp}{suffix}")
                files = sorted(directory.glob(f"backup-*{suffix}"))
                for old in files[:-keep]:
                    old.unlink(missing_ok=True)
            except Exception:
                log.exception("periodic backup failed")

    t = threading.Thread(target=loop, name="db-backup", daemon=True)
    t.start()
    return t


def maybe_start_periodic() -> threading.Thread | None:
    d, every = setting("BACKUP_DIR"), setting("BACKUP_EVERY_S")
    if not d or not every:
        return None
    return periodic(Path(d), every, setting("BACKUP_KEEP"))

