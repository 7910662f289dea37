"""Persistence: bookings, offers, plan versions, staff accounts, vehicle events (the only SQL).

SQLAlchemy 2 over SQLite (the embedded default, WAL mode) or PostgreSQL (``DATABASE_URL``);
the schema is created and migrated by Alembic (``planner/store/migrations``).

Writes to one service day are serialised, so that two riders can never both get the last
seat: on SQLite every write transaction starts with ``BEGIN IMMEDIATE`` (one writer at a
time), on PostgreSQL it locks the day's row in ``service_days`` with ``SELECT ... FOR UPDATE``.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    create_engine,
    event,
    false,
    select,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.pool import ConnectionPoolEntry

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: Key of the PostgreSQL advisory lock held while migrating ("RUFB" in ASCII): any value
#: works, so long as nothing else in the database uses it.
MIGRATION_LOCK = 0x52554642


def utcnow() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of Rufbus's tables."""


class ServiceDay(Base):
    """One row per service day: the lock every write to that day takes, and a version.

    ``version`` counts the day's writes (bookings, plans); ``events`` the vehicles' reports
    the plan is pinned to (:mod:`planner.live.replan`). A day in memory is current only if
    both match. ``repair_full`` is shared by server processes and moves no version.
    """

    __tablename__ = "service_days"
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    #: how many vehicle events that move the plan were recorded (positions do not count)
    events: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: whether the repair at offer time judged the day full, so that it repairs refused
    #: wishes only now and then (:class:`planner.booking.repair_gate.RepairGate`)
    repair_full: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Booking(Base):
    """A confirmed ride and its promise (times are seconds after local midnight)."""

    __tablename__ = "bookings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True, index=True)
    day: Mapped[str] = mapped_column(String(10), index=True)
    status: Mapped[str] = mapped_column(String(16), default="confirmed")
    origin_node: Mapped[int] = mapped_column(Integer)
    origin_name: Mapped[str] = mapped_column(String(200))
    destination_node: Mapped[int] = mapped_column(Integer)
    destination_name: Mapped[str] = mapped_column(String(200))
    # as the bus holds the party: riders on seats, and riders in wheelchair places
    passengers: Mapped[int] = mapped_column(Integer)
    wheelchairs: Mapped[int] = mapped_column(Integer)
    wish_kind: Mapped[str] = mapped_column(String(10))
    wish_s: Mapped[int] = mapped_column(Integer)
    window_start_s: Mapped[float] = mapped_column(Float)
    window_end_s: Mapped[float] = mapped_column(Float)
    latest_dropoff_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_ride_s: Mapped[float] = mapped_column(Float)
    direct_s: Mapped[float] = mapped_column(Float)
    est_pickup_s: Mapped[float] = mapped_column(Float)
    est_arrival_s: Mapped[float] = mapped_column(Float)
    vehicle_id: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(String(500), default="")
    linked_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    standing_id: Mapped[int | None] = mapped_column(
        ForeignKey("standing_bookings.id"), nullable=True
    )
    created_by: Mapped[str] = mapped_column(String(80), default="web")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: a feeder trip's guaranteed connection: ``{"stop": {id, name}, "line", "departure"}``
    connection: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    #: notifications the rider opted into (:mod:`planner.notify`): an e-mail address (or
    #: ""), texts to ``phone`` (SMS, or a dispatcher's call for a landline), and the
    #: language they booked in
    notify_email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    notify_sms: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    language: Mapped[str] = mapped_column(String(2), default="de", server_default="de")


class Offer(Base):
    """An offer made to a rider, held until ``expires_at``; ``payload`` is the engine's JSON."""

    __tablename__ = "offers"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), index=True)
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used: Mapped[bool] = mapped_column(Boolean, default=False)


class PlanVersion(Base):
    """One version of a day's plan: the stop order of each vehicle and its KPIs.

    A ``full`` version holds the stops of every vehicle that drives. Any other holds only
    what changed since the version before: the stops of a vehicle whose route changed, and
    None for one whose route did not (a vehicle not named does not drive). A booking changes
    one route of a plan of tens, and a day is written thousands of times: whole plans per
    write grew the history with the square of the day. Read a version's whole plan with
    :func:`planner.booking.day.stored_plan`.
    """

    __tablename__ = "plan_versions"
    __table_args__ = (
        UniqueConstraint("day", "version"),
        # the background worker finds a day's last re-optimisation without reading plans
        Index("ix_plan_versions_day_reason_version", "day", "reason", "version"),
        # a plan is read from the last full version on
        Index("ix_plan_versions_day_full_version", "day", "full", "version"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[str] = mapped_column(String(10), index=True)
    version: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200))
    routes: Mapped[dict] = mapped_column(JSON)
    kpis: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    full: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class BookingChange(Base):
    """A change of a confirmed booking (time, stops, party): the trip before and after.

    The booking keeps its code and row; this is its history. ``before`` and ``after`` hold
    the trip as :func:`planner.booking.booking_json` shows it without the rider's data (no
    name or phone: the history outlives their erasure).
    """

    __tablename__ = "booking_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_code: Mapped[str] = mapped_column(String(16), index=True)
    changed_by: Mapped[str] = mapped_column(String(80))
    before: Mapped[dict] = mapped_column(JSON)
    after: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PlanProposal(Base):
    """A re-optimised plan shown to a dispatcher, not stored as the day's plan yet.

    It is accepted only while the day is still at ``base_version`` (the plan it was solved
    from); ``routes`` are the vehicles' stop orders as in :class:`PlanVersion`.
    """

    __tablename__ = "plan_proposals"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), index=True)
    base_version: Mapped[int] = mapped_column(Integer)
    routes: Mapped[dict] = mapped_column(JSON)
    report: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StandingBooking(Base):
    """A repeated ride (e.g. every Tuesday and Thursday 08:10 to the dialysis centre)."""

    __tablename__ = "standing_bookings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    weekdays: Mapped[str] = mapped_column(String(20))
    wish_kind: Mapped[str] = mapped_column(String(10))
    wish_s: Mapped[int] = mapped_column(Integer)
    origin_node: Mapped[int] = mapped_column(Integer)
    destination_node: Mapped[int] = mapped_column(Integer)
    passengers: Mapped[int] = mapped_column(Integer)
    wheelchairs: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(String(500), default="")
    first_day: Mapped[str] = mapped_column(String(10))
    last_day: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


#: The roles of staff accounts.
ROLES = ("dispatcher", "analyst", "driver")


class User(Base):
    """A staff account (one of :data:`ROLES`) with a hashed password."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class VehicleEventRow(Base):
    """One event a vehicle reported (:class:`planner.live.events.VehicleEvent`), append-only.

    No rider's personal data: a booking appears only by its code. ``(vehicle_id,
    client_id)`` is unique, so that an event the device sends twice is stored once.
    """

    __tablename__ = "vehicle_events"
    __table_args__ = (UniqueConstraint("vehicle_id", "client_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[str] = mapped_column(String(10), index=True)
    vehicle_id: Mapped[str] = mapped_column(String(40))
    client_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))
    at_s: Mapped[float] = mapped_column(Float)
    booking_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    stop_node: Mapped[int | None] = mapped_column(Integer, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    accuracy_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: the staff account that sent it (a driver's or a dispatcher's name)
    driver: Mapped[str | None] = mapped_column(String(80), nullable=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Notification(Base):
    """One message of the outbox (:mod:`planner.notify.outbox`): queued once, sent once.

    ``key`` (booking code, event, its detail and the channel) is unique, so an event queued
    twice is stored once. ``status`` is ``pending`` (due at ``next_attempt_at``), ``sent``,
    ``failed`` (gave up), ``call`` (on the dispatchers' call list), ``called``, ``skipped``
    (nobody phones for it) or ``dropped`` (erased before it went out). Address, subject,
    body and error are personal data: the retention policy and erasure requests blank them.
    """

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_status_next", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    booking_code: Mapped[str] = mapped_column(String(16), index=True)
    day: Mapped[str] = mapped_column(String(10), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(10))
    #: the pickup window the message tells (``HH:MM-HH:MM``): what the rider was last told
    window: Mapped[str] = mapped_column(String(20), default="")
    address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


def default_database_url(var_dir: Path) -> str:
    """The embedded default: a SQLite file ``rufbus.sqlite3`` under ``var_dir``."""
    var_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{var_dir / 'rufbus.sqlite3'}"


@dataclass(frozen=True)
class Store:
    """The database: an engine for reads and one whose transactions lock for writes."""

    url: str
    read_engine: Engine
    write_engine: Engine

    def close(self) -> None:
        """Close every pooled connection (at shutdown, or before the server goes away)."""
        self.read_engine.dispose()
        self.write_engine.dispose()

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is SQLite (else PostgreSQL)."""
        return self.url.startswith("sqlite")

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction for reads and for writes that need no day lock (offers, accounts)."""
        with Session(self.read_engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def writing(self, day: str) -> Iterator[tuple[Session, ServiceDay]]:
        """A transaction that holds the write lock of ``day``; commits on success.

        Yields the session and the day's row, whose ``version`` the caller bumps when it
        changes the day. The commit is durable (``synchronous=FULL``) before this returns.
        """
        with self.writing_days([day]) as (session, rows):
            yield session, rows[day]

    @contextmanager
    def writing_days(self, days: Iterable[str]) -> Iterator[tuple[Session, dict[str, ServiceDay]]]:
        """A transaction that holds the write locks of all ``days``; commits on success.

        Every writer takes its days' locks in date order, so that two writers of the same
        days cannot deadlock. Yields the session and each day's row (bump the ``version``
        of every day that changes).
        """
        with Session(self.write_engine, expire_on_commit=False) as session, session.begin():
            rows = {}
            insert = postgresql_insert if not self.is_sqlite else sqlite_insert
            for day in sorted(set(days)):
                # create the day's row if it is the first write of the day; a concurrent
                # creator makes this wait on the unique key instead of failing
                session.execute(
                    insert(ServiceDay).values(day=day, version=0).on_conflict_do_nothing()
                )
                rows[day] = session.execute(
                    select(ServiceDay).where(ServiceDay.day == day).with_for_update()
                ).scalar_one()
            yield session, rows

    @contextmanager
    def maintaining(self) -> Iterator[Session]:
        """A write transaction that takes no day lock (personal data, old offers, events).

        It begins like every write (``BEGIN IMMEDIATE`` on SQLite), so it waits for other
        writers instead of failing half-way. It may change only what no booking decision
        reads: personal data of bookings, expired offers, the append-only journal of
        vehicle events, and whether the repair at offer time judged a day full (a hint of
        how long to try, not a decision).
        """
        with Session(self.write_engine, expire_on_commit=False) as session, session.begin():
            yield session


def _wal_mode(cursor: sqlite3.Cursor) -> None:
    """Switch the file to WAL, waiting for processes that open it at the same moment.

    Switching a fresh file's journal needs its exclusive lock. Two connections asking for it
    at once can get "database is locked" at once: SQLite does not call the busy handler when
    waiting could deadlock. That happened to one of three processes migrating a fresh file
    together in CI. So the switch is retried for up to 30 s, like any other wait.
    """
    deadline = time.monotonic() + 30
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        # take over transaction control from pysqlite, so that BEGIN is ours to choose
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        _wal_mode(cursor)
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def open_store(url: str, *, migrate: bool = True) -> Store:
    """Connect to the database at ``url`` and bring its schema up to date.

    Parameters
    ----------
    url
        SQLAlchemy URL (``sqlite:///var/rufbus.sqlite3``, ``postgresql+psycopg://...``).
    migrate
        Run the Alembic migrations up to the newest revision.

    Returns
    -------
    store
        The connected store.
    """
    if url.startswith("sqlite"):
        store = Store(
            url, _sqlite_engine(url, immediate=False), _sqlite_engine(url, immediate=True)
        )
    else:
        engine = create_engine(url, pool_pre_ping=True)
        store = Store(url, engine, engine)
    if migrate:
        upgrade(store)
    return store


def alembic_config() -> Config:
    """The Alembic configuration of the store's migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(store: Store) -> None:
    """Run Alembic's migrations up to ``head`` on the store's database."""
    config = alembic_config()
    with store.write_engine.connect() as connection:
        # one transaction for the whole upgrade: Alembic takes SQLite's DDL for
        # non-transactional and, given a connection with no transaction begun, commits
        # after each migration, so a second process could read the version in between and
        # run a migration again ("table ... already exists")
        connection.begin()
        if connection.dialect.name == "postgresql":
            # ``rufbus serve`` and ``rufbus worker`` start together: on a fresh database
            # both would create the tables, and one fail. One migrates while the other
            # waits here, then finds the schema at head. The lock belongs to this
            # transaction, which then holds the whole upgrade (Alembic joins a transaction
            # it finds begun), so the commit below or a rollback releases it.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        # SQLite needs no more: the write engine begins with BEGIN IMMEDIATE, the file's
        # write lock, so a second process waits (busy_timeout) before reading the version
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        connection.commit()
