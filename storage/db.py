"""Engine, sessions and startup checks.

SQLite (default, `DATA_DIR/app.db`) gets WAL, busy_timeout, synchronous=NORMAL and foreign keys
on every connection; PostgreSQL is used when `DATABASE_URL` says so. `init_storage()` verifies
the data directory is writable, connects, and runs Alembic migrations to every head, so a fresh
machine and an old database both end up at the current schema. No wait on PostgreSQL is unbounded:
`statement_timeout`, a client-side limit on every wait for an answer, `connect_timeout`, TCP keepalives,
`tcp_user_timeout` and `pool_timeout` (see `_pg_connection_class`).
"""
from __future__ import annotations

import errno
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from backend.config import Settings, get_settings, setting
from backend.errors import UserError
from storage.group_commit import BatchFn, GroupCommit

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
T = TypeVar("T")


def redact_url(url: str) -> str:
    """Database URL without its password, for display."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # malformed URL: show only the scheme
        return url.split(":", 1)[0] + ":…"


class StorageError(UserError):
    """Storage cannot start or a write failed after retries; the message is for users."""


def unavailable(exc: BaseException | None) -> str:
    """The first sentence of a failed database call: locked by another writer, or not reachable."""
    if isinstance(exc, PoolTimeout):
        return "The database is busy (every connection is in use) and did not answer in time;"
    msg = str(exc).lower()
    if "disk is full" in msg or getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT):
        return "The server's disk is full;"
    if "statement timeout" in msg:
        return f"The database took longer than {statement_timeout():g} s to answer (DB_STATEMENT_TIMEOUT_S);"
    if "locked" in msg or "busy" in msg or "lock timeout" in msg:
        return "The database is busy (locked by another writer) and did not answer in time;"
    if "connect" in msg or "closed" in msg or "server" in msg or "terminat" in msg:
        return "The database cannot be reached right now;"
    return "The database refused the request;"


class _Lock(Protocol):
    def acquire(self, blocking: bool = ..., timeout: float = ...) -> bool: ...
    def release(self) -> None: ...


class _NoLock:
    """PostgreSQL takes concurrent writers itself."""

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        return True

    def release(self) -> None:
        return None


def write_deadline() -> float:
    """Seconds one write may spend waiting for a locked or unreachable database, retries included."""
    return float(setting("DB_WRITE_DEADLINE_S"))


def statement_timeout() -> float:
    """Seconds one PostgreSQL statement may run before the server cancels it (DB_STATEMENT_TIMEOUT_S)."""
    return float(setting("DB_STATEMENT_TIMEOUT_S"))


def answer_deadline() -> float:
    """Seconds the app waits for any answer from PostgreSQL before it drops the connection: the statement timeout
    (the server's own cancel, which keeps the connection) plus a grace of the same length, at most 5 s."""
    s = statement_timeout()
    return s + min(5.0, s)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    # SQLite's own wait for another writer's lock: 5 s, never longer than the whole write may take
    cur.execute(f"PRAGMA busy_timeout={int(min(5.0, write_deadline()) * 1000)}")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _pg_settings(dbapi_conn, _record) -> None:
    """PostgreSQL's wait for another program's lock (LOCK TABLE, a long migration): 5 s, never longer than the
    whole write may take; without it a write waited for as long as the lock was held, with no sentence. Committed,
    since a SET rolled back with its transaction is undone (a session SET, not a startup option: poolers such as
    PgBouncer refuse startup options)."""
    cur = dbapi_conn.cursor()
    cur.execute(f"SET lock_timeout = {int(min(5.0, write_deadline()) * 1000)}")
    cur.execute(f"SET statement_timeout = {int(statement_timeout() * 1000)}")
    cur.close()
    dbapi_conn.commit()


def _pg_connection_class():
    """psycopg's Connection whose every wait for the server (a query, a fetch, a commit, a ping) ends after
    `answer_deadline()` s: the connection is then closed and the call fails with a sentence. A server that stops
    answering mid-query (its process stopped, the network cut without a reset) held the request and a pooled
    connection forever: TCP keepalives and `tcp_user_timeout` only see a dead peer, and `statement_timeout` is
    enforced by the server that no longer runs. psycopg's own `wait(timeout=)` does the timing."""
    import psycopg  # noqa: PLC0415 - loaded only for a PostgreSQL URL (SQLite start-up does not need it)
    from psycopg import errors  # noqa: PLC0415 - as above

    class DeadlineConnection(psycopg.Connection):
        wait_limit_s: float | None = None  # None: no limit (migrations)

        def wait(self, gen, interval=0.1, timeout=None):
            limit = self.wait_limit_s if timeout is None else timeout
            if not limit:
                return super().wait(gen, interval=interval, timeout=timeout)
            try:
                return super().wait(gen, interval=interval, timeout=limit)
            except errors._WaitTimeout as exc:  # noqa: SLF001 - psycopg's own timeout of `wait`
                self.pgconn.finish()  # the connection is in an unknown state: closed, so the pool drops it
                raise psycopg.OperationalError(
                    f"the database server did not answer within {limit:g} s; connection closed") from exc

    return DeadlineConnection


def _set_limit(raw, seconds: float) -> None:
    if raw is not None and hasattr(raw, "wait_limit_s"):
        raw.wait_limit_s = seconds


def _pg_connect_args(url: str) -> dict:
    """libpq settings that bound every wait on PostgreSQL (a value in DATABASE_URL's query wins):
    connect_timeout for the start-up, TCP keepalives and tcp_user_timeout to notice a peer that vanished without
    closing the socket (a cut network, a powered-off host) while idle or while sending."""
    s = statement_timeout()
    args = {"connect_timeout": max(2, min(10, int(round(s)))),
            "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3,
            "tcp_user_timeout": int(answer_deadline() * 1000)}
    given = make_url(url).query
    return {k: v for k, v in args.items() if k not in given}


def check_data_dir(path: Path) -> None:
    """Create DATA_DIR if needed and prove it is writable, with an error that names it."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-probe"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise StorageError(
            f"DATA_DIR {str(path)!r} is not writable ({exc.strerror or exc}). "
            "Set DATA_DIR to a writable directory."
        ) from exc


def _without_nul(value):
    """Bound parameters with NUL characters removed from every string (PostgreSQL text cannot hold U+0000)."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, dict):
        return {k: _without_nul(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_without_nul(v) for v in value)
    return value


def _strip_nul(_conn, _cursor, statement, parameters, _context, _executemany):
    return statement, _without_nul(parameters)


def make_engine(settings: Settings) -> Engine:
    url = settings.database_url
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, pool_pre_ping=True)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        pg = url.startswith("postgresql")
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20,
                               pool_timeout=answer_deadline() if pg else 30,
                               connect_args=_pg_connect_args(url) if pg else {"connect_timeout": 10})
        if pg:
            event.listen(engine, "connect", _pg_settings)
            if engine.dialect.driver == "psycopg":
                deadline_cls = _pg_connection_class()

                def _connect(_dialect, _record, cargs, cparams):
                    conn = deadline_cls.connect(*cargs, **cparams)
                    conn.wait_limit_s = answer_deadline()
                    return conn

                event.listen(engine, "do_connect", _connect)
                # The pool's pre-ping of an idle connection needs only a moment from a live server: a short limit
                # for it (set while the connection rests in the pool), the full one once it is handed out.
                event.listen(engine, "checkin", lambda raw, _rec: _set_limit(raw, min(5.0, answer_deadline())))
                event.listen(engine, "checkout", lambda raw, _rec, _proxy: _set_limit(raw, answer_deadline()))
        # A NUL in any client text (an instruction, a name, an imported battle) made PostgreSQL refuse the whole
        # write ("text fields cannot contain NUL") and the user lost the step; SQLite stores it. Drop it here, once.
        event.listen(engine, "before_cursor_execute", _strip_nul, retval=True)
    return engine


def run_migrations(engine: Engine) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        raw = conn.connection.dbapi_connection
        limit = getattr(raw, "wait_limit_s", None)
        if engine.dialect.name == "postgresql":  # a migration of a big table may run for minutes: no limits
            conn.execute(text("SET LOCAL statement_timeout = 0"))
            if limit is not None:
                raw.wait_limit_s = None  # type: ignore[union-attr]
        try:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "heads")
        finally:
            if limit is not None:
                raw.wait_limit_s = limit  # type: ignore[union-attr]


class Storage:
    """Holds the engine and session factory for this process."""

    def __init__(self, settings: Settings):
        self.settings = settings
        check_data_dir(settings.data_dir)  # SQLite's file, and images on disk for PostgreSQL too
        self.engine = make_engine(settings)
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except DBAPIError as exc:
            raise StorageError(
                f"Cannot connect to the database at DATABASE_URL={redact_url(settings.database_url)}: "
                f"{str(exc.orig).strip().splitlines()[0] if exc.orig else exc}"
            ) from exc
        run_migrations(self.engine)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time: queue this process's writers here instead of in SQLite's busy handler,
        # whose sleeps (and immediate SQLITE_BUSY on a stale read snapshot) make the p99 of concurrent votes seconds.
        self._write_lock: _Lock = threading.RLock() if self.kind == "sqlite" else _NoLock()
        self._groups: dict[str, GroupCommit] = {}
        self._groups_lock = threading.Lock()

    @property
    def kind(self) -> str:
        return self.settings.database_kind

    @property
    def display_url(self) -> str:
        return redact_url(self.settings.database_url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: commits on success, rolls back on error."""
        s = self.sessionmaker()
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    def write(self, fn: Callable[[Session], T], *, retries: int = 5, base_delay: float = 0.05) -> T:
        """Run `fn` in a transaction, retrying bounded times when the database is locked or
        the connection dropped; raise StorageError with a clear sentence after that.

        The whole call, waiting for this process's other writers included, ends within DB_WRITE_DEADLINE_S (plus
        at most one attempt): a database locked by another program for minutes used to hold every writer for
        6 × busy_timeout, one after the other (four writers: two minutes each) before anyone heard why."""
        last: Exception | None = None
        deadline = time.monotonic() + write_deadline()
        for attempt in range(retries + 1):
            if not self._write_lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
                last = TimeoutError("database is locked (waiting for this process's other writers)")
                break
            try:
                with self.session() as s:
                    return fn(s)
            except OSError as exc:  # an image file under DATA_DIR/images: only a full disk is ours to explain
                if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                    raise
                last = exc
                break
            except PoolTimeout as exc:  # every pooled connection busy (or hung) for pool_timeout
                last = exc
                break
            except OperationalError as exc:
                last = exc
                msg = str(exc).lower()
                transient = ("locked" in msg or "busy" in msg or "lock timeout" in msg or "connection" in msg
                             or "closed" in msg or exc.connection_invalidated)
                delay = base_delay * (2 ** attempt)
                if not transient or attempt == retries or time.monotonic() + delay >= deadline:
                    break
            finally:
                self._write_lock.release()
            time.sleep(delay)
        raise StorageError(f"{unavailable(last)} nothing was saved. Please try again in a minute. "
                           f"({type(last).__name__})") from last

    def write_grouped(self, kind: str, batch_fn: BatchFn, item):
        """Write `item` in one transaction with the other pending items of this `kind` (group commit, see
        storage/group_commit.py): `batch_fn(session, items)` -> one result or exception per item. Returns this
        item's result or raises its exception. One queue per kind and process; `batch_fn` must be the same each
        time for a kind. Never call it from inside `write` (the leader of the batch needs the SQLite write lock)."""
        g = self._groups.get(kind)
        if g is None:
            with self._groups_lock:
                g = self._groups.setdefault(kind, GroupCommit(self, batch_fn))
        return g.submit(item)

    def health(self) -> str | None:
        """None when the database answers a trivial query now, else the sentence a failed read would give."""
        try:
            self.read(lambda s: s.execute(text("SELECT 1")).scalar())
        except StorageError as exc:
            return str(exc)
        return None

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """`session()` for reads (streams too): a database that cannot be reached is a StorageError with a sentence
        (it was "Something went wrong (OperationalError)" while PostgreSQL was down)."""
        try:
            with self.session() as s:
                yield s
        except (OperationalError, PoolTimeout) as exc:
            raise StorageError(f"{unavailable(exc)} nothing was loaded or changed. Please try again in a minute. "
                               f"({type(exc).__name__})") from exc

    def read(self, fn: Callable[[Session], T]) -> T:
        with self.reading() as s:
            return fn(s)


_lock = threading.Lock()
_storage: Storage | None = None


def init_storage(settings: Settings | None = None) -> Storage:
    """Create (once per process) the storage for the current settings."""
    global _storage
    with _lock:
        if _storage is None:
            _storage = Storage(settings or get_settings())
        return _storage


def get_storage() -> Storage:
    return init_storage()


def current_storage() -> Storage | None:
    """This process's storage if it has been opened, without opening it."""
    return _storage


def reset_storage() -> None:
    global _storage
    with _lock:
        if _storage is not None:
            _storage.engine.dispose()
        _storage = None
