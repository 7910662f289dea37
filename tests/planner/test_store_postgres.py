"""The store on a real PostgreSQL server: migrations, bookings, and the last-seat race."""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from planner.booking import BookingEngine, parse_trip_request
from planner.errors import ConflictError
from planner.service import VehicleSpec, load_service
from planner.stops import StopCatalog
from planner.store.db import open_store
from routing.settings import Settings
from tests.planner.first_start import migrate_concurrently
from tests.planner.test_store import assert_at_head, schema_differences
from tests.web.helpers import Clock
from tests.web.test_server import (
    DISPATCHER,
    TRIP,
    Server,
    add_dispatcher,
    call,
    confirm_at_once,
    future_day,
    server_environment,
)
from tests.web.test_vehicle_server import kill_during_event_burst

PG_BIN = Path(os.environ.get("RUFBUS_PG_BIN", "/usr/lib/postgresql/15/bin"))


def as_postgres(*args: str) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the ``postgres`` user then."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a free port of 127.0.0.1 (trust authentication)."""
    if not (PG_BIN / "initdb").exists():
        pytest.fail(f"PostgreSQL not found in {PG_BIN} (make test installs Debian's postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="rufbus-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data = folder / "data"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run(as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U",
                               "rufbus"), check=True, capture_output=True)  # fmt: skip
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-w",
                               "-l", str(folder / "log"), "start"), check=True,
                   capture_output=True)  # fmt: skip
    try:
        yield f"postgresql+psycopg://rufbus@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast",
                                   "stop"), check=False, capture_output=True)  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


def test_migrations_create_the_schema(pg_url: str) -> None:
    store = open_store(pg_url)
    tables = set(inspect(store.write_engine).get_table_names())
    assert {"bookings", "offers", "plan_versions", "service_days", "users", "vehicle_events",
            "alembic_version"} <= tables  # fmt: skip
    assert schema_differences(store) == []
    store.close()
    open_store(pg_url).close()  # migrating again is a no-op


def fresh_database(pg_url: str, name: str) -> str:
    """A new, empty database in the cluster of ``pg_url``; its URL."""
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    return pg_url.rsplit("/", 1)[0] + f"/{name}"


def test_processes_starting_at_once_migrate_a_fresh_database_once(pg_url: str) -> None:
    # without the lock, one or two of the three failed in each of 6 tries: "duplicate key
    # value violates unique constraint pg_type_typname_nsp_index" (all create alembic_version)
    url = fresh_database(pg_url, "first_start")
    assert migrate_concurrently(url, processes=3) == ["ok"] * 3
    assert_at_head(url)


@pytest.fixture
def one_seat_engine(pg_url: str, catalog: StopCatalog) -> Iterator[BookingEngine]:
    """The default service with one bus of one seat, on the PostgreSQL server."""
    one_seat = VehicleSpec("ONE", "Bernburg (Saale), Busbahnhof", 1, 0, 5 * 3600, 23 * 3600)
    service = dataclasses.replace(load_service(), fleet=(one_seat,))
    engine = BookingEngine(service, catalog, open_store(pg_url), clock=Clock())
    yield engine
    engine.store.close()


def test_last_seat_race_on_postgres(one_seat_engine: BookingEngine, catalog: StopCatalog) -> None:
    engine = one_seat_engine
    for day in ("2026-12-03", "2026-12-04", "2026-12-07"):
        trip = parse_trip_request(
            {"origin": "Bernburg (Saale), Busbahnhof", "destination": "Staßfurt, Bahnhof (Bus)",
             "date": day, "time": "10:00"},
            catalog, engine.service,
        )  # fmt: skip
        offers = [engine.offer(trip).offers[0].id for _ in range(2)]
        outcomes: list[str] = []
        barrier = threading.Barrier(2)

        def confirm(offer_id: str, outcomes: list[str] = outcomes, barrier=barrier) -> None:
            barrier.wait()
            try:
                engine.confirm(offer_id, name="Racer", phone="03471 12345")
                outcomes.append("confirmed")
            except ConflictError as exc:
                outcomes.append(exc.reason)

        threads = [threading.Thread(target=confirm, args=(oid,)) for oid in offers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == [
            "confirmed", "this offer is no longer available; please ask again"
        ], outcomes  # fmt: skip
        assert engine.validate_day(trip.day) == []
        assert engine.kpis(trip.day)["served"] == 1


def test_linked_return_on_another_day_takes_that_days_lock(
    one_seat_engine: BookingEngine, catalog: StopCatalog
) -> None:
    """One rider confirms an outbound on day A with the return on day B while ten others
    confirm single day-B offers for the same one seat: exactly one of them gets it."""
    engine = one_seat_engine

    def offer(day: str, origin: str, destination: str) -> str:
        trip = parse_trip_request(
            {"origin": origin, "destination": destination, "date": day, "time": "10:00"},
            catalog, engine.service,
        )  # fmt: skip
        return engine.offer(trip).offers[0].id

    bernburg, stassfurt = "Bernburg (Saale), Busbahnhof", "Staßfurt, Bahnhof (Bus)"
    # days the last-seat test above leaves empty
    for day_a, day_b in (("2026-12-02", "2026-12-08"), ("2026-12-09", "2026-12-10"),
                         ("2026-12-11", "2026-12-14"), ("2026-12-05", "2026-12-15")):  # fmt: skip
        outbound = offer(day_a, bernburg, stassfurt)
        linked_return = offer(day_b, bernburg, stassfurt)
        singles = [offer(day_b, bernburg, stassfurt) for _ in range(10)]
        outcomes: list[str] = []
        barrier = threading.Barrier(11)

        def confirm(first: str, second: str | None, outcomes=outcomes, barrier=barrier) -> None:
            barrier.wait()
            try:
                engine.confirm(first, name="Racer", phone="03471 12345", return_offer_id=second)
                outcomes.append("linked" if second else "single")
            except ConflictError:
                outcomes.append("refused")
            except Exception as exc:  # any other failure is the bug this test is about
                outcomes.append(f"error: {exc!r}")

        threads = [threading.Thread(target=confirm, args=(outbound, linked_return))]
        threads += [threading.Thread(target=confirm, args=(oid, None)) for oid in singles]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not [o for o in outcomes if o.startswith("error")], outcomes
        confirmed_b = outcomes.count("linked") + outcomes.count("single")
        assert confirmed_b == 1, outcomes
        for d in (day_a, day_b):
            assert engine.validate_day(date.fromisoformat(d)) == []
        assert engine.kpis(date.fromisoformat(day_b))["served"] == 1


def test_server_processes_on_postgres_keep_the_last_seat_and_see_each_others_bookings(
    pg_url: str, tmp_path: Path, settings: Settings
) -> None:
    """``rufbus serve --workers 2`` and a second ``rufbus serve`` on one database: each
    process keeps the days it offers in memory. Two riders, one at each server, race for
    the one seat: exactly one gets it, and afterwards neither server offers that seat."""
    # a database of its own: the tests above book days near today on the same cluster
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("CREATE DATABASE two_servers"))
    admin.dispose()
    url = pg_url.rsplit("/", 1)[0] + "/two_servers"
    env = {**server_environment(tmp_path, settings), "DATABASE_URL": url}
    add_dispatcher(env)
    servers = [Server(env, "--workers", "2"), Server(env)]
    for server in servers:
        server.start()
    try:
        for days in (5, 6, 8):
            day = future_day(days)
            wish = {**TRIP, "date": day}
            ids = []
            for server in servers:  # each process reads the day (and keeps it)
                status, body = call(server.base, "POST", "/offers", wish)
                assert status == 200  # offers come by time: take the one at the wish
                [at_wish] = [o for o in body["offers"] if o["pickup_window"][0] == "10:00"]
                ids.append(at_wish["offer_id"])
            results = confirm_at_once([s.base for s in servers], ids)
            assert sorted(status for status, _ in results) == [201, 409], results
            for server in servers:
                for _ in range(3):  # --workers 2: more than one process may answer
                    status, body = call(server.base, "POST", "/offers", wish)
                    assert status == 200
                    assert [o for o in body["offers"] if o["pickup_window"][0] == "10:00"] == []
            status, plan = call(servers[1].base, "GET", f"/plans/{day}", auth=DISPATCHER)
            assert status == 200 and sum(len(v["stops"]) for v in plan["vehicles"]) == 2
    finally:
        for server in servers:
            server.stop()


def test_kill_9_during_a_burst_of_driver_events_on_postgres(
    pg_url: str, tmp_path: Path, settings: Settings
) -> None:
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("CREATE DATABASE driver_events"))
    admin.dispose()
    url = pg_url.rsplit("/", 1)[0] + "/driver_events"
    env = {**server_environment(tmp_path, settings), "DATABASE_URL": url}
    assert kill_during_event_burst(env) >= 50
