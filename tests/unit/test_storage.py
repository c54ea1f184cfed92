"""Storage on SQLite and on a real PostgreSQL server (the `db_url` fixture runs both)."""
import os

import pytest
from PIL import Image
from sqlalchemy import inspect, text

from storage.db import StorageError
from storage.repos.events import log_event, recent_events
from storage.repos.images import load_image, store_image
from storage.repos.sessions import count_sessions, touch_session


def test_migrations_create_tables(db_url, storage_for):
    st = storage_for(db_url)
    names = set(inspect(st.engine).get_table_names())
    assert {"sessions", "images", "events", "alembic_version"} <= names
    st2 = storage_for(db_url)  # running again on an existing database is a no-op
    assert set(inspect(st2.engine).get_table_names()) == names


def test_sessions_events_images(db_url, storage_for):
    st = storage_for(db_url)
    st.write(lambda s: touch_session(s, "abc", client_ip="1.2.3.4", user_agent="UA"))
    st.write(lambda s: touch_session(s, "abc"))
    st.write(lambda s: log_event(s, "test", session_id="abc", payload={"k": 1}))
    assert st.read(count_sessions) == 1
    ev = st.read(lambda s: recent_events(s, "test"))
    assert ev[0]["payload"] == {"k": 1}
    with st.session() as s:
        row = s.execute(text("SELECT ip_hash FROM sessions")).scalar()
    assert row and "1.2.3.4" not in row and len(row) == 32
    img = Image.new("RGB", (20, 10), (1, 2, 3))
    sha1 = st.write(lambda s: store_image(s, img, "upload"))
    sha2 = st.write(lambda s: store_image(s, img.copy(), "upload"))
    assert sha1 == sha2
    with st.session() as s:
        assert s.execute(text("SELECT count(*) FROM images")).scalar() == 1
    back = st.read(lambda s: load_image(s, sha1))
    assert back.size == (20, 10) and back.getpixel((0, 0)) == (1, 2, 3)


def test_text_with_nul_characters_is_stored(db_url, storage_for):
    """PostgreSQL text cannot hold U+0000; a NUL typed or imported by a client used to fail the whole write."""
    st = storage_for(db_url)
    st.write(lambda s: touch_session(s, "nul", user_agent="Mozilla\x00<b>x</b>"))
    st.write(lambda s: log_event(s, "nul\x00kind", session_id="nul", payload={"text": "a\x00b"}))
    with st.session() as s:
        ua = s.execute(text("SELECT user_agent FROM sessions WHERE id = 'nul'")).scalar()
    assert ua.replace("\x00", "") == "Mozilla<b>x</b>"
    ev = st.read(lambda s: recent_events(s, "nul\x00kind" if st.kind == "sqlite" else "nulkind"))
    assert ev and ev[0]["payload"]["text"].replace("\x00", "") == "ab"


def test_sqlite_pragmas(tmp_path, storage_for):
    st = storage_for(f"sqlite:///{tmp_path / 'p.db'}")
    with st.engine.connect() as c:
        assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert c.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert c.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        assert c.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL


def test_unreachable_postgres_names_variable(storage_for):
    with pytest.raises(StorageError, match="DATABASE_URL=postgresql\\+psycopg://u:\\*\\*\\*@127.0.0.1:1/db"):
        storage_for("postgresql+psycopg://u:secret@127.0.0.1:1/db")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_readonly_data_dir(tmp_path):
    from storage.db import check_data_dir

    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    with pytest.raises(StorageError, match="not writable"):
        check_data_dir(ro / "sub")


def test_data_dir_that_is_a_file(tmp_path):
    from storage.db import check_data_dir

    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(StorageError, match="DATA_DIR .* not writable"):
        check_data_dir(f)


def test_write_retries_then_clear_error(tmp_path, storage_for):
    from sqlalchemy.exc import OperationalError

    st = storage_for(f"sqlite:///{tmp_path / 'r.db'}")
    calls = []

    def locked(s):
        calls.append(1)
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    with pytest.raises(StorageError, match="nothing was saved"):
        st.write(locked, retries=3, base_delay=0.001)
    assert len(calls) == 4


@pytest.mark.parametrize("failure", ["sqlite", "image file"])
def test_a_full_disk_is_named(tmp_path, storage_for, failure):
    """SQLite's "database or disk is full" was "The database did not accept the write after 1 tries"; a full disk
    under DATA_DIR/images (an image is stored with its row) was "Something went wrong (OSError)"."""
    import errno

    from sqlalchemy.exc import OperationalError

    st = storage_for(f"sqlite:///{tmp_path / 'full.db'}")

    def full(s):
        if failure == "sqlite":
            raise OperationalError("INSERT", {}, Exception("database or disk is full"))
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(StorageError, match="disk is full; nothing was saved"):
        st.write(full, base_delay=0.001)


def test_a_database_locked_by_another_program_answers_every_writer_within_the_deadline(tmp_path, storage_for,
                                                                                       monkeypatch):
    """Another program holds SQLite's write lock for longer than the busy timeout. Before, each write waited
    6 x busy_timeout (31 s), and this process's writers took turns, so three writers heard "did not accept the write"
    after 31, 62 and 93 s. Now every writer gets a sentence naming the lock within DB_WRITE_DEADLINE_S, and the next
    write after the lock is released succeeds (no restart)."""
    import sqlite3
    import threading
    import time

    from storage.repos.sessions import count_sessions, touch_session

    monkeypatch.setenv("DB_WRITE_DEADLINE_S", "1")
    path = tmp_path / "locked.db"
    st = storage_for(f"sqlite:///{path}")
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN EXCLUSIVE")
    errors: list[str] = []
    t0 = time.monotonic()

    def writer(i: int) -> None:
        try:
            st.write(lambda s: touch_session(s, f"w{i}"))
        except StorageError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    other.execute("ROLLBACK")
    other.close()
    assert len(errors) == 3 and elapsed < 4, (elapsed, errors)
    assert all("locked by another writer" in e and "nothing was saved" in e for e in errors), errors
    st.write(lambda s: touch_session(s, "after"))
    assert st.read(count_sessions) == 1


def test_a_postgresql_table_locked_by_another_program_is_a_sentence_within_the_deadline(pg_url, storage_for,
                                                                                         monkeypatch):
    """Another program holds a table lock (LOCK TABLE, a long migration). SQLite's wait has busy_timeout;
    PostgreSQL's had nothing, so a write waited as long as the lock was held (a minute in review19's probe) and
    then answered as if nothing had happened. Now lock_timeout ends each wait, and the caller hears "busy" within
    DB_WRITE_DEADLINE_S; the write works once the lock is gone."""
    import threading
    import time

    import psycopg
    from sqlalchemy.engine import make_url

    from storage.repos.sessions import count_sessions, touch_session

    monkeypatch.setenv("DB_WRITE_DEADLINE_S", "1")
    st = storage_for(pg_url)
    st.write(lambda s: touch_session(s, "before"))
    st.engine.dispose()  # new connections take the setting of this test's deadline
    url = make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
    other = psycopg.connect(url)
    other.execute("LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE")
    release = threading.Timer(8, other.rollback)
    release.start()
    t0 = time.monotonic()
    try:
        with pytest.raises(StorageError, match="busy .locked by another writer.*nothing was saved"):
            st.write(lambda s: touch_session(s, "while-locked"), base_delay=0.01)
        assert time.monotonic() - t0 < 4
    finally:
        release.cancel()
        other.rollback()
        other.close()
    st.write(lambda s: touch_session(s, "after"))
    assert st.read(count_sessions) == 2


def test_postgresql_refusing_connections_is_a_sentence_and_recovers(pg_url, pg_admin_url, storage_for, monkeypatch):
    """PostgreSQL stops taking connections mid-session (server stopped, database closed): a read answered
    "Something went wrong (OperationalError)" and named nothing. Now reads and writes say the database cannot be
    reached (the battle export's stream and the Status tab too), and both work again once it is back, without a new Storage."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from apps.status import status_tables
    from backend import system_status
    from backend.arena import service as arena_service
    from storage.repos.sessions import count_sessions, touch_session

    st = storage_for(pg_url)
    st.write(lambda s: touch_session(s, "before"))
    assert st.health() is None
    name = make_url(pg_url).database
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            c.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
        with pytest.raises(StorageError, match="cannot be reached.*nothing was loaded"):
            st.read(count_sessions)
        with pytest.raises(StorageError, match="cannot be reached.*nothing was saved"):
            st.write(lambda s: touch_session(s, "while-down"), base_delay=0.001)
        monkeypatch.setattr(system_status, "get_storage", lambda: st)  # the Status tab says so too
        assert "cannot be reached" in status_tables("")[1]
        monkeypatch.setattr(arena_service, "get_storage", lambda: st)  # the battle export streams, not read()
        with pytest.raises(StorageError, match="cannot be reached.*nothing was loaded"):
            list(arena_service.iter_clean_battle())
    finally:
        with admin.connect() as c:
            c.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()
    st.write(lambda s: touch_session(s, "after"))
    assert st.read(count_sessions) == 2 and st.health() is None


def test_stored_images_carry_no_exif(tmp_path, storage_for):
    import io

    from backend.imageio import open_image
    from storage.repos.images import image_path

    st = storage_for(f"sqlite:///{tmp_path / 'x.db'}")
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"          # Make
    exif[0x8825] = {2: (51.0, 30.0, 0.0)}  # GPSInfo latitude
    buf = io.BytesIO()
    Image.new("RGB", (32, 16), (9, 9, 9)).save(buf, "JPEG", exif=exif.tobytes())
    img = open_image(buf.getvalue())
    sha = st.write(lambda s: store_image(s, img, "upload"))
    path = st.read(lambda s: image_path(s, sha))
    data = path.read_bytes()
    assert b"SecretCam" not in data and b"Exif" not in data
    with Image.open(path) as im:
        assert im.format == "PNG" and not im.getexif()
