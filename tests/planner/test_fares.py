"""Fares: the tariff of the service file and the fare of a party, in whole cents."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from planner.cli import export
from planner.darp.model import Request
from planner.errors import ServiceFileError
from planner.fares import FareBand, Tariff, fare, request_fare, trip_fare
from planner.service import load_service
from planner.stops import StopCatalog
from tests.web.helpers import FARES_TOML, with_fares

BANDS = Tariff(
    "distance",
    surcharge_cents=100,
    bands=(FareBand(5.0, 200), FareBand(15.0, 300), FareBand(float("inf"), 450)),
    reductions=(("child", 0.5),),
    deutschlandticket_valid=True,
    deutschlandticket_surcharge=True,
)
ZONES = Tariff(
    "zones",
    surcharge_cents=50,
    same_municipality_cents=180,
    between_municipalities_cents=290,
    reductions=(("child", 0.5), ("reduced", 0.75)),
    deutschlandticket_valid=False,
)


def priced(tariff: Tariff, km: float, *places: str | None, **party: int):  # noqa: ANN201
    origin, destination = places or (None, None)
    found = fare(
        tariff,
        distance_m=km * 1000,
        origin_place=origin,
        destination_place=destination,
        people=party.pop("people", 1),
        **party,
    )
    assert found is not None
    return found


def test_no_tariff_no_fare() -> None:
    assert fare(None, distance_m=4000, origin_place=None, destination_place=None, people=2) is None


def test_distance_bands_price_by_the_road_distance_between_the_stops() -> None:
    assert priced(BANDS, 3.2).total_cents == 200 + 100
    assert priced(BANDS, 5.0).total_cents == 300  # a band's end belongs to it
    assert priced(BANDS, 5.01).total_cents == 300 + 100
    far = priced(BANDS, 40.0)
    assert (far.total_cents, far.up_to_km, far.level) == (550, None, "band")  # open last band
    assert priced(BANDS, 12.34).distance_km == 12.3


def test_a_trip_beyond_the_last_band_has_no_fare_to_quote() -> None:
    short = Tariff("distance", bands=(FareBand(10.0, 250),))
    assert fare(short, distance_m=12_000, origin_place=None, destination_place=None,
                people=1) is None  # fmt: skip


def test_zones_price_within_and_between_municipalities() -> None:
    same = priced(ZONES, 3.0, "Bernburg (Saale)", "Bernburg (Saale)")
    assert (same.level, same.total_cents) == ("same_municipality", 180 + 50)
    between = priced(ZONES, 3.0, "Bernburg (Saale)", "Könnern")
    assert (between.level, between.total_cents) == ("between_municipalities", 290 + 50)
    # a stop in no known municipality: the higher level, never the lower by mistake
    unknown = priced(ZONES, 3.0, None, None)
    assert unknown.level == "between_municipalities"


def test_surcharge_per_person_and_the_party_adds_up() -> None:
    party = priced(BANDS, 3.0, people=3)
    assert party.total_cents == 3 * (200 + 100)
    assert [p.total_cents for p in party.people] == [300, 300, 300]
    assert (party.fare_cents, party.surcharge_cents) == (200, 100)


def test_reductions_are_a_share_of_the_fare_not_of_the_surcharge() -> None:
    party = priced(ZONES, 3.0, "A", "B", people=3, reduced={"child": 1, "reduced": 1})
    by_kind = {p.category: (p.fare_cents, p.surcharge_cents) for p in party.people}
    assert by_kind == {"full": (290, 50), "child": (145, 50), "reduced": (218, 50)}  # 217.5 up
    assert party.total_cents == 290 + 145 + 218 + 3 * 50
    with pytest.raises(ValueError, match="no reduction 'senior'"):
        priced(ZONES, 3.0, people=1, reduced={"senior": 1})
    with pytest.raises(ValueError, match="more riders than people"):
        priced(ZONES, 3.0, people=1, reduced={"child": 1}, deutschlandticket=1)


def test_deutschlandticket_holders_pay_the_surcharge_or_nothing_or_everything() -> None:
    holders = priced(BANDS, 3.0, people=2, deutschlandticket=1)
    assert [(p.category, p.total_cents) for p in holders.people] == [
        ("full", 300), ("deutschlandticket", 100)
    ]  # fmt: skip
    waived = Tariff("distance", surcharge_cents=100, bands=BANDS.bands,
                    deutschlandticket_valid=True, deutschlandticket_surcharge=False)  # fmt: skip
    assert priced(waived, 3.0, deutschlandticket=1).total_cents == 0
    # not valid in this tariff: the holder pays like everyone
    assert priced(ZONES, 3.0, "A", "A", deutschlandticket=1).total_cents == 180 + 50


def test_the_fare_as_json() -> None:
    data = priced(BANDS, 40.0, people=2).to_json()
    assert data["currency"] == "EUR" and data["total_cents"] == 1100
    assert data["up_to_km"] is None  # an open band is null, not Infinity (not JSON)
    assert data["reductions"] == {"child": 0.5}
    assert data["people"][0] == {
        "category": "full", "fare_cents": 450, "surcharge_cents": 100, "total_cents": 550
    }  # fmt: skip


def test_the_fare_between_two_stops_of_the_catalogue(catalog: StopCatalog) -> None:
    a, b = (catalog.resolve(n, field="x") for n in
            ("Bernburg (Saale), Busbahnhof", "Staßfurt, Bahnhof (Bus)"))  # fmt: skip
    km = float(catalog.distance_m[catalog.row[a], catalog.row[b]]) / 1000
    found = trip_fare(BANDS, catalog, a, b, 2)
    assert found is not None and found.distance_km == round(km, 1)
    assert found.total_cents == 2 * (450 + 100) and km > 15
    zones = trip_fare(ZONES, catalog, a, b, 1)
    assert zones is not None and zones.level == "between_municipalities"
    assert trip_fare(None, catalog, a, b, 1) is None


def test_the_default_service_file_sets_no_prices() -> None:
    assert load_service().fares is None


def test_the_tariff_of_a_service_file(tmp_path: Path) -> None:
    tariff = load_service(with_fares(tmp_path)).fares
    assert tariff == Tariff(
        "distance",
        surcharge_cents=100,
        bands=(FareBand(5.0, 200), FareBand(15.0, 300), FareBand(float("inf"), 450)),
        reductions=(("child", 0.5),),
        deutschlandticket_valid=True,
        deutschlandticket_surcharge=True,
    )
    zones = """
[fares]
mode = "zones"
same_municipality_eur = 1.8
between_municipalities_eur = 2.9
deutschlandticket_valid = false
"""
    tariff = load_service(with_fares(tmp_path, zones)).fares
    assert tariff is not None and tariff.mode == "zones"
    assert (tariff.same_municipality_cents, tariff.between_municipalities_cents) == (180, 290)
    assert tariff.surcharge_cents == 0 and tariff.reductions == ()


@pytest.mark.parametrize(
    ("old", "new", "key", "reason"),
    [
        ('mode = "distance"', 'mode = "km"', "fares.mode", 'must be "distance" or "zones"'),
        ('mode = "distance"\n', "", "fares.mode", "is missing"),
        ("surcharge_eur = 1.00", "surcharge_eur = -1", "fares.surcharge_eur",
         "must be between 0.0 and 1000.0"),
        ("surcharge_eur = 1.00", "surcharge_eur = 1.005", "fares.surcharge_eur",
         "must be whole cents"),
        ("surcharge_eur = 1.00", 'surcharge_eur = "1,00"', "fares.surcharge_eur",
         "must be a float"),
        ("deutschlandticket_valid = true\n", "", "fares.deutschlandticket_valid", "is missing"),
        ("deutschlandticket_valid = true", 'deutschlandticket_valid = "yes"',
         "fares.deutschlandticket_valid", "must be a bool"),
        ("child = 0.5", "child = 1.5", "fares.reductions.child", "must be between 0.0 and 1.0"),
        ("child = 0.5", "kids = 0.5", "fares.reductions.kids", "unknown key"),
        ("surcharge_eur = 1.00", "surcharge = 1.00", "fares.surcharge", "unknown key"),
        ("up_to_km = 15", "up_to_km = 4", "fares.band[1].up_to_km",
         "above the band before it"),
        ("up_to_km = 5\n", "up_to_km = 0\n", "fares.band[0].up_to_km", "must be above 0"),
        ("price_eur = 3.00", "price_eur = 3000", "fares.band[1].price_eur",
         "must be between 0.0 and 1000.0"),
        ("price_eur = 3.00", "price = 3.00", "fares.band[1].price", "unknown key"),
        ('mode = "distance"', 'mode = "zones"', "fares.band", 'only with mode = "distance"'),
        ("surcharge_eur = 1.00", "surcharge_eur = 1.00\nsame_municipality_eur = 2",
         "fares.same_municipality_eur", 'only with mode = "zones"'),
    ],
)  # fmt: skip
def test_broken_fares_are_refused_naming_the_key(
    tmp_path: Path, old: str, new: str, key: str, reason: str
) -> None:
    assert old in FARES_TOML
    path = with_fares(tmp_path, FARES_TOML.replace(old, new, 1))
    with pytest.raises(ServiceFileError) as info:
        load_service(path)
    assert info.value.field == f"{path}:{key}"
    assert reason in info.value.reason


def test_zones_need_both_levels_and_distance_needs_bands(tmp_path: Path) -> None:
    zones = '\n[fares]\nmode = "zones"\nsame_municipality_eur = 2\ndeutschlandticket_valid = true\n'
    with pytest.raises(ServiceFileError) as info:
        load_service(with_fares(tmp_path, zones))
    assert info.value.field.endswith(":fares.between_municipalities_eur")
    distance = '\n[fares]\nmode = "distance"\ndeutschlandticket_valid = true\n'
    with pytest.raises(ServiceFileError) as info:
        load_service(with_fares(tmp_path, distance))
    assert info.value.field.endswith(":fares.band") and "is missing" in info.value.reason


def test_a_broken_tariff_stops_the_command_with_exit_code_2(tmp_path: Path) -> None:
    path = with_fares(tmp_path, FARES_TOML.replace("child = 0.5", "child = 2"))
    out = str(tmp_path / "flex.zip")
    result = CliRunner().invoke(export, ["gtfs-flex", "--service", str(path), "--out", out])
    assert result.exit_code == 2, result.output
    assert f"{path}:fares.reductions.child: must be between 0.0 and 1.0" in result.output


def test_a_requests_fare_counts_everyone(catalog: StopCatalog) -> None:
    a, b = catalog.nodes[0], catalog.nodes[1]
    request = Request("X", catalog.row[a], catalog.row[b], passengers=2, wheelchairs=1)
    found = request_fare(ZONES, catalog, request)
    assert found is not None and len(found.people) == 3


def test_the_scenario_report_shows_revenue_or_that_there_is_no_tariff(tmp_path: Path) -> None:
    import pandas as pd

    from planner.scenarios.report import format_kpi, mean_revenue_cents
    from web.scenario_report import write_report

    priced = pd.DataFrame({"status": ["ok", "ok", "error"], "seed": [1, 2, 3],
                           "run": ["a", "b", "c"], "error": ["", "", "boom"],
                           "revenue_cents": [1000, 2001, None]})  # fmt: skip
    assert mean_revenue_cents(priced) == 1501  # half a cent rounds up
    assert format_kpi("revenue_cents", 2001) == "20"  # whole euros in the table
    free = priced.assign(revenue_cents=None)
    assert mean_revenue_cents(free) is None
    assert mean_revenue_cents(free.drop(columns="revenue_cents")) is None
    failed = free[free["status"] == "error"].assign(scenario="t")  # no charts to draw
    failed.to_csv(tmp_path / "kpis.csv", index=False)
    for lang, said in (("de", "nicht konfiguriert"), ("en", "not configured")):
        page = write_report(failed, tmp_path, boundary_file=tmp_path / "x", lang=lang)
        assert said in page.read_text(encoding="utf-8")
