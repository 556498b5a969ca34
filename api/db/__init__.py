"""Persistence: SQLModel tables, Alembic migrations, engine and session, repository functions."""
