"""Alembic environment: run with the connection handed over by storage.db.run_migrations,
or standalone (`alembic -c storage/alembic.ini upgrade heads`) using DATABASE_URL."""
from alembic import context
from sqlalchemy import create_engine

from storage.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


conn = config.attributes.get("connection")
if conn is not None:
    _run(conn)
else:
    from backend.config import get_settings

    engine = create_engine(config.get_main_option("sqlalchemy.url") or get_settings().database_url)
    with engine.begin() as c:
        _run(c)
