"""Alembic migrations of the state store, run by ``connector.state.migrate`` (no alembic.ini needed)."""
