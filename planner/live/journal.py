"""The event journal: what vehicles reported, stored once per client id, read back in order.

The journal is append-only. Idempotency rests on the unique key ``(vehicle_id, client_id)``
of ``vehicle_events`` alone: every event is inserted with ``ON CONFLICT DO NOTHING``, so a
resent event, a client id repeated within one batch, and two requests racing with the same
event all store it once, on SQLite and on PostgreSQL (where the second insert waits for the
first transaction and then does nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from planner.live.events import VehicleEvent
from planner.store.db import ServiceDay, VehicleEventRow, utcnow


@dataclass(frozen=True, slots=True)
class RecordResult:
    """What became of a batch: the client ids stored now, and those stored before."""

    accepted: tuple[str, ...]
    duplicates: tuple[str, ...]


def record(session: Session, events: Sequence[VehicleEvent], driver: str | None) -> RecordResult:
    """Store ``events`` in the caller's transaction, each client id of a vehicle once.

    Parameters
    ----------
    session
        An open write transaction; the events are durable once the caller commits.
    events
        The events, in the order the device sent them.
    driver
        The staff account that sent them.

    Returns
    -------
    result
        The client ids inserted now (``accepted``) and those already stored, earlier or
        by an event before in the same batch (``duplicates``), each in the batch's order.
    """
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    accepted: list[str] = []
    duplicates: list[str] = []
    received = utcnow()
    moved: set[str] = set()
    for e in events:
        statement = (
            insert(VehicleEventRow)
            .values(
                day=e.day.isoformat(),
                vehicle_id=e.vehicle_id,
                client_id=e.client_id,
                kind=e.kind,
                at_s=e.at_s,
                booking_code=e.booking,
                stop_node=e.stop_node,
                lat=e.lat,
                lon=e.lon,
                accuracy_m=e.accuracy_m,
                minutes=e.minutes,
                driver=driver,
                received_at=received,
            )
            .on_conflict_do_nothing(index_elements=["vehicle_id", "client_id"])
            # RETURNING, not rowcount: psycopg reports no row count for this statement
            .returning(VehicleEventRow.id)
        )
        inserted = session.execute(statement).scalar_one_or_none() is not None
        (accepted if inserted else duplicates).append(e.client_id)
        if inserted and e.kind != "position":
            moved.add(e.day.isoformat())
    for day in sorted(moved):  # days in memory are pinned again (DayStore.open_day)
        session.execute(insert(ServiceDay).values(day=day, version=0).on_conflict_do_nothing())
        session.execute(
            update(ServiceDay).where(ServiceDay.day == day).values(events=ServiceDay.events + 1)
        )
    return RecordResult(tuple(accepted), tuple(duplicates))


def known_client_ids(session: Session, vehicle_id: str, client_ids: Sequence[str]) -> set[str]:
    """Which of ``client_ids`` the journal already holds for ``vehicle_id``."""
    found: set[str] = set()
    for start in range(0, len(client_ids), 500):  # keep the IN list short
        chunk = list(client_ids[start : start + 500])
        found.update(
            session.scalars(
                select(VehicleEventRow.client_id).where(
                    VehicleEventRow.vehicle_id == vehicle_id,
                    VehicleEventRow.client_id.in_(chunk),
                )
            )
        )
    return found


def events_of(session: Session, day: date, vehicle_id: str | None = None) -> list[VehicleEvent]:
    """The events of ``day`` (of one vehicle, or of all), in time order.

    Events at the same time keep the order they were stored in.
    """
    query = select(VehicleEventRow).where(VehicleEventRow.day == day.isoformat())
    if vehicle_id is not None:
        query = query.where(VehicleEventRow.vehicle_id == vehicle_id)
    rows = session.scalars(query.order_by(VehicleEventRow.at_s, VehicleEventRow.id))
    return [_event(row) for row in rows]


def plan_events(session: Session, day: str) -> dict[str, list[VehicleEvent]]:
    """The events of ``day`` the plan is pinned to (all but positions), by vehicle, in order.

    This is how :class:`planner.booking.day.DayStore` sees reality.
    """
    query = (
        select(VehicleEventRow)
        .where(VehicleEventRow.day == day, VehicleEventRow.kind != "position")
        .order_by(VehicleEventRow.at_s, VehicleEventRow.id)
    )
    out: dict[str, list[VehicleEvent]] = {}
    for row in session.scalars(query):
        out.setdefault(row.vehicle_id, []).append(_event(row))
    return out


def last_positions(session: Session, day: date) -> dict[str, VehicleEvent]:
    """Each vehicle's latest event of ``day`` that says where it was (has ``lat``/``lon``).

    Of two such events at the same time, the one stored last.
    """
    located = (VehicleEventRow.day == day.isoformat(), VehicleEventRow.lat.is_not(None))
    latest = (
        select(VehicleEventRow.vehicle_id, func.max(VehicleEventRow.at_s).label("at_s"))
        .where(*located)
        .group_by(VehicleEventRow.vehicle_id)
        .subquery()
    )
    query = (
        select(VehicleEventRow)
        .join(
            latest,
            (VehicleEventRow.vehicle_id == latest.c.vehicle_id)
            & (VehicleEventRow.at_s == latest.c.at_s),
        )
        .where(*located)
        .order_by(VehicleEventRow.id)
    )
    return {row.vehicle_id: _event(row) for row in session.scalars(query)}


def _event(row: VehicleEventRow) -> VehicleEvent:
    return VehicleEvent(
        client_id=row.client_id,
        vehicle_id=row.vehicle_id,
        day=date.fromisoformat(row.day),
        kind=row.kind,  # type: ignore[arg-type]  # stored from a checked VehicleEvent
        at_s=row.at_s,
        booking=row.booking_code,
        stop_node=row.stop_node,
        lat=row.lat,
        lon=row.lon,
        accuracy_m=row.accuracy_m,
        minutes=row.minutes,
    )
