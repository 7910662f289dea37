"""The store's schema: the migrations build exactly the tables the models describe."""

from __future__ import annotations

import json
from pathlib import Path

from alembic import command
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


def test_downgrading_the_plan_history_writes_every_whole_plan_back(db_url: str) -> None:
    """Before 0008 every version held the whole plan: a downgrade must not leave versions
    that hold only changes (the older code would read a bus's route as gone)."""
    from planner.booking.day import stored_plan
    from planner.store.db import PlanVersion

    a, b = [["X", "pickup"], ["X", "dropoff"]], [["Y", "pickup"], ["Y", "dropoff"]]
    history = [  # (routes, full) as the engine writes them
        ({"BUS-1": a}, True),
        ({"BUS-1": None, "BUS-2": b}, False),
        ({"BUS-2": None}, False),  # BUS-1's rider cancelled: BUS-1 no longer drives
    ]
    store = open_store(db_url)
    try:
        with store.session() as session:
            for k, (routes, full) in enumerate(history, start=1):
                session.add(
                    PlanVersion(
                        day="2026-12-02",
                        version=k,
                        reason="test",
                        routes=routes,
                        kpis={},
                        full=full,
                    )  # fmt: skip
                )
        with store.session() as session:
            assert stored_plan(session, "2026-12-02") == (3, {"BUS-2": b})
        for revision in ("0007", "head"):
            config = alembic_config()
            with store.write_engine.connect() as connection:
                connection.begin()
                config.attributes["connection"] = connection
                (command.downgrade if revision == "0007" else command.upgrade)(config, revision)
                if revision == "0007":
                    rows = connection.execute(
                        text("SELECT routes FROM plan_versions ORDER BY version")
                    ).all()
                connection.commit()
        whole = [json.loads(r) if isinstance(r, str) else r for (r,) in rows]
        assert whole == [{"BUS-1": a}, {"BUS-1": a, "BUS-2": b}, {"BUS-2": b}]
        with store.session() as session:
            assert stored_plan(session, "2026-12-02") == (3, {"BUS-2": b})
    finally:
        store.close()
