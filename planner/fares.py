"""What a trip costs: the tariff of the service file's ``[fares]`` and the fare of a party.

A tariff prices a trip by the road distance between its stops (``mode = "distance"``, fare
bands) or by the municipalities of its stops (``mode = "zones"``: one level within a
municipality, one between two). On top comes the on-demand surcharge per person. Reduced
riders (children, reduced fare) pay a share of the fare, not of the surcharge; holders of a
Deutschlandticket pay no fare where it is valid, and the surcharge unless the tariff waives it.

Amounts are whole cents (ints): no rounding drift when fares are added up for revenue. A
service without ``[fares]`` has no tariff, and then no fare is quoted (:func:`fare` returns
None): riders are told the fare is still to be set, never a made-up price.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from planner.darp.model import Request
    from planner.stops import StopCatalog

FareMode = Literal["distance", "zones"]

#: The kinds of reduced riders a tariff may name (``[fares.reductions]``).
REDUCTIONS = ("child", "reduced")

#: The category of a rider who pays the full fare, and of a Deutschlandticket holder.
FULL, DEUTSCHLANDTICKET = "full", "deutschlandticket"

SAME_MUNICIPALITY, BETWEEN_MUNICIPALITIES = "same_municipality", "between_municipalities"


@dataclass(frozen=True, slots=True)
class FareBand:
    """Trips up to ``up_to_km`` (road distance between the stops; may be ``inf``) cost this."""

    up_to_km: float
    price_cents: int


@dataclass(frozen=True, slots=True)
class Tariff:
    """The fares of a service (``[fares]`` of the service file), amounts in cents.

    Attributes
    ----------
    mode
        ``distance``: by ``bands``; ``zones``: ``same_municipality_cents`` for trips within
        one municipality, ``between_municipalities_cents`` otherwise (also when a stop lies
        in no known municipality).
    surcharge_cents
        The on-demand surcharge each person pays on top of the fare.
    reductions
        Kind of reduced rider (:data:`REDUCTIONS`) -> the share of the fare they pay.
    deutschlandticket_valid
        Holders of a Deutschlandticket pay no fare.
    deutschlandticket_surcharge
        ... but the surcharge (when the ticket is valid).
    """

    mode: FareMode
    surcharge_cents: int = 0
    bands: tuple[FareBand, ...] = ()
    same_municipality_cents: int = 0
    between_municipalities_cents: int = 0
    reductions: tuple[tuple[str, float], ...] = ()
    deutschlandticket_valid: bool = False
    deutschlandticket_surcharge: bool = True

    def share(self, category: str) -> float:
        """The share of the fare a rider of ``category`` pays (1 for the full fare)."""
        return dict(self.reductions).get(category, 1.0)


@dataclass(frozen=True, slots=True)
class PersonFare:
    """What one person of the party pays: fare plus surcharge, in cents."""

    category: str
    fare_cents: int
    surcharge_cents: int

    @property
    def total_cents(self) -> int:
        """Fare and surcharge together."""
        return self.fare_cents + self.surcharge_cents

    def to_json(self) -> dict[str, Any]:
        """The person's fare in the wire format."""
        return {
            "category": self.category,
            "fare_cents": self.fare_cents,
            "surcharge_cents": self.surcharge_cents,
            "total_cents": self.total_cents,
        }


@dataclass(frozen=True, slots=True)
class Fare:
    """The fare of a party for one trip.

    Attributes
    ----------
    total_cents
        What the whole party pays.
    people
        Each person's share, full-fare riders first.
    mode
        How the trip was priced (``distance`` or ``zones``).
    distance_km
        Road distance between the stops.
    level
        The fare level: ``same_municipality``/``between_municipalities`` (zones), or
        ``band`` (distance; see ``up_to_km``).
    up_to_km
        The distance band's upper end; None for zones or an open-ended last band.
    fare_cents, surcharge_cents
        The full fare and the surcharge of one person.
    reductions
        The tariff's reductions (kind, share of the fare paid), for riders to read.
    deutschlandticket_valid, deutschlandticket_surcharge
        The tariff's Deutschlandticket rule.
    """

    total_cents: int
    people: tuple[PersonFare, ...]
    mode: FareMode
    distance_km: float
    level: str
    up_to_km: float | None
    fare_cents: int
    surcharge_cents: int
    reductions: tuple[tuple[str, float], ...] = ()
    deutschlandticket_valid: bool = False
    deutschlandticket_surcharge: bool = True

    def to_json(self) -> dict[str, Any]:
        """The fare in the wire format (amounts in cents, currency EUR)."""
        return {
            "currency": "EUR",
            "total_cents": self.total_cents,
            "mode": self.mode,
            "level": self.level,
            "up_to_km": self.up_to_km,
            "distance_km": self.distance_km,
            "fare_cents": self.fare_cents,
            "surcharge_cents": self.surcharge_cents,
            "people": [p.to_json() for p in self.people],
            "reductions": dict(self.reductions),
            "deutschlandticket_valid": self.deutschlandticket_valid,
            "deutschlandticket_surcharge": self.deutschlandticket_surcharge,
        }


def format_money(cents: int, lang: str) -> str:
    """An amount as a reader of ``lang`` writes it: ``3,50 €`` (de), ``€3.50`` (en).

    The German form joins amount and sign with a no-break space, so that a narrow phone
    screen never puts the € on a line of its own. Pages use :func:`web.messages.money`.
    """
    euros, rest = divmod(abs(cents), 100)
    sign = "-" if cents < 0 else ""
    if lang == "de":
        return f"{sign}{euros:,}".replace(",", ".") + f",{rest:02d}\u00a0€"
    return f"{sign}€{euros:,}.{rest:02d}"


def round_cents(amount: float) -> int:
    """Half a cent and more rounds up (commercial rounding)."""
    return math.floor(amount + 0.5)


def _level(
    tariff: Tariff, distance_m: float, origin_place: str | None, destination_place: str | None
) -> tuple[str, float | None, int] | None:
    """(level, band end, full fare in cents), or None if no band reaches that far."""
    if tariff.mode == "zones":
        if origin_place is not None and origin_place == destination_place:
            return SAME_MUNICIPALITY, None, tariff.same_municipality_cents
        return BETWEEN_MUNICIPALITIES, None, tariff.between_municipalities_cents
    for band in tariff.bands:
        if distance_m <= band.up_to_km * 1000:
            return "band", None if math.isinf(band.up_to_km) else band.up_to_km, band.price_cents
    return None


def fare(
    tariff: Tariff | None,
    *,
    distance_m: float,
    origin_place: str | None,
    destination_place: str | None,
    people: int,
    reduced: Mapping[str, int] | None = None,
    deutschlandticket: int = 0,
) -> Fare | None:
    """The fare of a party of ``people`` for one trip.

    Parameters
    ----------
    tariff
        The service's tariff; None when the service file has no ``[fares]``.
    distance_m
        Road distance between the stops (distance bands).
    origin_place, destination_place
        The stops' municipalities, None if unknown (zones).
    people
        Everyone who travels, wheelchair users included.
    reduced
        How many of them pay a reduced fare, by kind (``{"child": 2}``).
    deutschlandticket
        How many of the others hold a Deutschlandticket.

    Returns
    -------
    fare
        The party's fare; None if there is no tariff, or no distance band reaches as far
        as the trip (then the fare is to be confirmed).

    Raises
    ------
    ValueError
        If the party is empty, names a reduction the tariff does not have, or counts more
        reduced riders and ticket holders than people.
    """
    reduced = dict(reduced or {})
    if people < 1:
        raise ValueError("people: at least one person travels")
    if any(n < 0 for n in reduced.values()) or deutschlandticket < 0:
        raise ValueError("reduced, deutschlandticket: counts must not be negative")
    if sum(reduced.values()) + deutschlandticket > people:
        raise ValueError("reduced, deutschlandticket: more riders than people")
    if tariff is None:
        return None
    unknown = sorted(set(reduced) - {kind for kind, _ in tariff.reductions})
    if unknown:
        raise ValueError(f"reduced: the tariff has no reduction {unknown[0]!r}")
    level = _level(tariff, distance_m, origin_place, destination_place)
    if level is None:
        return None
    name, up_to_km, full = level
    surcharge = tariff.surcharge_cents
    persons: list[PersonFare] = []
    full_riders = people - sum(reduced.values()) - deutschlandticket
    if tariff.deutschlandticket_valid:
        ticket = PersonFare(
            DEUTSCHLANDTICKET, 0, surcharge if tariff.deutschlandticket_surcharge else 0
        )
    else:
        full_riders += deutschlandticket  # the ticket does not count here: full fare
        ticket = None
    persons += [PersonFare(FULL, full, surcharge)] * full_riders
    for kind, count in reduced.items():
        persons += [PersonFare(kind, round_cents(full * tariff.share(kind)), surcharge)] * count
    if ticket is not None:
        persons += [ticket] * deutschlandticket
    return Fare(
        total_cents=sum(p.total_cents for p in persons),
        people=tuple(persons),
        mode=tariff.mode,
        distance_km=round(distance_m / 1000, 1),
        level=name,
        up_to_km=up_to_km,
        fare_cents=full,
        surcharge_cents=surcharge,
        reductions=tariff.reductions,
        deutschlandticket_valid=tariff.deutschlandticket_valid,
        deutschlandticket_surcharge=tariff.deutschlandticket_surcharge,
    )


def trip_fare(
    tariff: Tariff | None, catalog: StopCatalog, origin: int, destination: int, people: int
) -> Fare | None:
    """The full fare of ``people`` between two bookable stops (node ids) of ``catalog``."""
    if tariff is None:
        return None
    row = catalog.row
    return fare(
        tariff,
        distance_m=float(catalog.distance_m[row[origin], row[destination]]),
        origin_place=catalog.places.get(origin),
        destination_place=catalog.places.get(destination),
        people=people,
    )


def request_fare(tariff: Tariff | None, catalog: StopCatalog, request: Request) -> Fare | None:
    """The fare of a planned request (its locations are rows of ``catalog``'s matrices)."""
    nodes = catalog.nodes
    people = request.passengers + request.wheelchairs
    return trip_fare(tariff, catalog, nodes[request.pickup], nodes[request.dropoff], people)
