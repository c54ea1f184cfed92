"""Persistence: the only package that speaks SQL.

`storage.db.init_storage()` creates the engine, runs Alembic migrations to head and returns
the session factory; repositories in `storage.repos` take a session and return plain data.
"""
