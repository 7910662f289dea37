"""The store's schema: the migrations build exactly the tables the models describe."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from planner.store.db import Base, Store, alembic_config, open_store
from tests.planner.first_start import migrate_concurrently


def schema_differences(store: Store) -> list:
    """What Alembic would still generate after all migrations ran (nothing, if they match)."""
    with store.write_engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), Base.metadata)


def assert_at_head(url: str) -> None:
    """The database at ``url`` is migrated once to the newest revision, and matches the models."""
    store = open_store(url, migrate=False)
    try:
        with store.write_engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version"))
            head = ScriptDirectory.from_config(alembic_config()).get_current_head()
            assert [v for (v,) in versions] == [head]
        assert schema_differences(store) == []
    finally:
        store.close()


def test_migrations_match_the_models(db_url: str) -> None:
    store = open_store(db_url)
    try:
        assert schema_differences(store) == []
    finally:
        store.close()


def test_processes_starting_at_once_migrate_a_fresh_sqlite_file_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'first-start.sqlite3'}"
    assert migrate_concurrently(url, processes=3) == ["ok"] * 3
    assert_at_head(url)
