"""Backup → restore round trip on SQLite and PostgreSQL."""
import shutil

import pytest
from sqlalchemy import text

from storage.backup import backup
from storage.repos.events import log_event
from storage.restore import restore


def _count(st):
    with st.engine.connect() as c:
        return c.execute(text("SELECT count(*) FROM events")).scalar()


def test_round_trip(db_url, storage_for, tmp_path):
    if db_url.startswith("postgresql") and not shutil.which("pg_dump"):
        pytest.skip("pg_dump missing")
    st = storage_for(db_url)
    for i in range(5):
        st.write(lambda s, i=i: log_event(s, "k", payload={"i": i}))
    out = backup(tmp_path / "snap.bak", db_url)
    assert out.stat().st_size > 0
    st.write(lambda s: log_event(s, "after-backup"))
    assert _count(st) == 6
    st.engine.dispose()
    restore(out, db_url)
    assert _count(st) == 5


def test_restore_rejects_garbage(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not a database")
    with pytest.raises(ValueError, match="not a SQLite"):
        restore(bad, f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(FileNotFoundError):
        restore(tmp_path / "missing.db", f"sqlite:///{tmp_path / 'x.db'}")
