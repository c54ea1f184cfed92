"""Repositories: functions taking a SQLAlchemy Session and returning plain data."""
