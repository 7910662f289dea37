"""The store's schema: the migrations build exactly the tables the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from planner.store.db import Base, Store, open_store


def schema_differences(store: Store) -> list:
    """What Alembic would still generate after all migrations ran (nothing, if they match)."""
    with store.write_engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), Base.metadata)


def test_migrations_match_the_models(db_url: str) -> None:
    store = open_store(db_url)
    try:
        assert schema_differences(store) == []
    finally:
        store.close()
