"""Benchmark: offer latency on a busy day, in-process and over HTTP, and re-optimisation.

A day is filled with ``--bookings`` confirmed bookings (seeded random trips between the
district's bookable stops, wish times 06:00-20:00) on ``--vehicles`` buses of the default
service. Then ``--offers`` further offers are timed in-process and over HTTP against
``rufbus serve`` on 127.0.0.1 (same database), and the day is re-optimised.

Run: ``.venv/bin/python benchmarks/bench_booking.py`` (about 2 minutes).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from tqdm import tqdm

from planner.booking import TripRequest
from planner.service import VehicleSpec, load_service
from planner.store.db import open_store
from planner.timefmt import hhmm
from planner.world import World, load_world, make_engine
from routing.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_matrix import machine  # noqa: E402


def random_trip(rng: random.Random, nodes: list[int], day) -> TripRequest:
    origin, destination = rng.sample(nodes, 2)
    minute = rng.randrange(6 * 60, 20 * 60, 5)
    kind = "pickup" if rng.random() < 0.7 else "arrival"
    return TripRequest(day, origin, destination, kind, minute * 60, rng.choice([1, 1, 1, 2]))


def trip_json(trip: TripRequest) -> dict:
    return {
        "origin": trip.origin,
        "destination": trip.destination,
        "date": trip.day.isoformat(),
        "time": hhmm(trip.time_s),
        "kind": trip.kind,
        "passengers": trip.passengers + trip.wheelchairs,  # the API counts everyone
        "wheelchairs": trip.wheelchairs,
    }


def percentiles(values: list[float]) -> str:
    ms = np.array(values) * 1000
    return f"{np.percentile(ms, 50):.1f} / {np.percentile(ms, 95):.1f}"


def bench_setup(vehicles: int, **changes: Any) -> World:
    """The world (without the timetable; settings from the environment) of the default
    service with ``vehicles`` minibuses (8 seats, 1 wheelchair place) spread over its depots
    and further ``changes`` of its fields."""
    service = load_service()
    depots = [v.depot for v in service.fleet]
    fleet = tuple(
        VehicleSpec(
            f"BUS-{k + 1}", depots[k % len(depots)], 8, 1, 5 * 3600 + 1800, 23 * 3600 + 1800
        )
        for k in range(vehicles)
    )
    service = dataclasses.replace(service, fleet=fleet, **changes)
    return load_world(Settings.from_env(), service, timetable=False)


def day_arguments(description: str) -> argparse.ArgumentParser:
    """The options of a busy-day benchmark: bookings, vehicles, timed offers, seed."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--bookings", type=int, default=300)
    parser.add_argument("--vehicles", type=int, default=15)
    parser.add_argument("--offers", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    return parser


def random_trips(rng: random.Random, nodes: list[int], day: Any) -> Iterator[TripRequest]:
    """Endless seeded random trips between any two of ``nodes`` on ``day``."""
    while True:
        yield random_trip(rng, nodes, day)


def fill_day(
    engine: Any,
    trips: Iterator[TripRequest],
    bookings: int,
    on_booked: Any = None,
    full_below: float = 0.0,
) -> tuple[int, list[float], list[float]]:
    """Book ``trips`` (first offer confirmed) until ``bookings`` are confirmed.

    Gives up after 20 requests per booking, or when the day is full: fewer than
    ``full_below`` of the last 500 requests got a booking. Returns the requests tried and the
    seconds of every offer and every confirmation; ``on_booked(n, offers, confirms)`` runs
    after the n-th confirmation with the timings so far.
    """
    attempts = 0
    offers: list[float] = []
    confirms: list[float] = []
    booked_at: list[int] = []  # the attempt of each booking
    with tqdm(total=bookings, desc="filling the day", unit="booking") as bar:
        while bar.n < bookings and attempts < 20 * bookings:
            if attempts >= 500 and sum(a > attempts - 500 for a in booked_at[-500:]) < (
                full_below * 500
            ):
                tqdm.write(f"the day is full at {bar.n} bookings ({attempts} requests)")
                break
            attempts += 1
            start = time.perf_counter()
            result = engine.offer(next(trips))
            offers.append(time.perf_counter() - start)
            if not result.offers:
                continue
            start = time.perf_counter()
            engine.confirm(result.offers[0].id, name="Bench", phone="0000 00000")
            confirms.append(time.perf_counter() - start)
            booked_at.append(attempts)
            bar.update()
            if on_booked is not None:
                on_booked(bar.n, offers, confirms)
    return attempts, offers, confirms


def stamp() -> str:
    """The date, commit and machine of a benchmark run."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return f"{time.strftime('%Y-%m-%d')}, commit {commit}, {machine()}"


def header(bookings: int, vehicles: int, attempts: int) -> None:
    """Print the date, commit and machine, and how the day was filled."""
    print(f"\n{stamp()}")
    print(
        f"{bookings} bookings confirmed on {vehicles} vehicles "
        f"({attempts} requests, {bookings / attempts:.0%} accepted)\n"
    )


def offers_over_http(
    service: Any, url: str, workdir: Path, trips: list[TripRequest], *, background: bool = True
) -> list[float]:
    """Seconds per offer of ``trips`` against ``rufbus serve`` on the database at ``url``.

    The server runs the given service (its fleet written to a service file in ``workdir``),
    with its background re-optimisation unless ``background`` is False (``--no-worker``).
    """
    fleet = service.fleet
    service_file = workdir / "service.toml"
    text = Path(service.path).read_text(encoding="utf-8")
    text = text[: text.index("[[fleet]]")].replace("horizon_days = 14", "horizon_days = 30")
    # the lines-first check off, as in the benchmarks' in-process engine: the same work on
    # both sides, and no timetables for 30 days built under the first timed requests
    assert "check = true" in text
    text = text.replace("check = true", "check = false")
    for v in fleet:
        text += (
            f'[[fleet]]\nid = "{v.id}"\ndepot = "{v.depot}"\nseats = 8\nwheelchair_places = 1\n'
            'shift = ["05:30", "23:30"]\n'
        )
    service_file.write_text(text, encoding="utf-8")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "RUFBUS_SERVICE_FILE": str(service_file),
        "RUFBUS_SECRET_KEY": "bench",
        # one client sends every offer: lift the per-address throttle (30 a minute)
        "RUFBUS_OFFERS_PER_MINUTE": str(100 * len(trips)),
    }
    port = 8765
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "rufbus"), "serve", "--port", str(port)]
        + ([] if background else ["--no-worker"]),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/openapi.json", timeout=2)
                break
            except OSError:
                time.sleep(0.3)
        urllib.request.urlopen(base + "/openapi.json", timeout=2)  # fails if it never came up
        over_http = []
        for trip in tqdm(trips, desc="offers over HTTP"):
            body = json.dumps(trip_json(trip)).encode()
            request = urllib.request.Request(base + "/offers", data=body, method="POST")
            request.add_header("Content-Type", "application/json")
            start = time.perf_counter()
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
            over_http.append(time.perf_counter() - start)
    finally:
        server.terminate()
        server.wait()
    return over_http


def main() -> None:
    parser = day_arguments(__doc__.splitlines()[0])
    parser.add_argument("--optimize-seconds", type=float, default=60)
    args = parser.parse_args()

    world = bench_setup(args.vehicles, horizon_days=30)
    service, catalog = world.service, world.catalog
    workdir = Path(tempfile.mkdtemp(prefix="rufbus-bench-"))
    url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    engine = make_engine(world, open_store(url))
    day = datetime.now(ZoneInfo(service.timezone)).date() + timedelta(days=3)
    rng = random.Random(args.seed)
    nodes = list(catalog.nodes)

    attempts, fill_latency, confirms = fill_day(
        engine, random_trips(rng, nodes, day), args.bookings
    )
    booked = len(confirms)
    trips = [random_trip(rng, nodes, day) for _ in range(args.offers)]
    in_process = []
    for trip in tqdm(trips, desc="offers in-process"):
        start = time.perf_counter()
        engine.offer(trip)
        in_process.append(time.perf_counter() - start)

    # the same offers over HTTP, against a real server on the same database
    over_http = offers_over_http(service, url, workdir, trips)

    started = time.perf_counter()
    result = engine.optimize(day, time_limit=args.optimize_seconds)
    optimize_s = time.perf_counter() - started
    problems = engine.validate_day(day)
    header(booked, args.vehicles, attempts)
    print("| measure | p50 / p95 (ms) |")
    print("|---|---:|")
    print(f"| offer while filling the day (0 to {booked} bookings) | {percentiles(fill_latency)} |")
    print(f"| offer at {booked} bookings, in-process | {percentiles(in_process)} |")
    print(f"| offer at {booked} bookings, over HTTP | {percentiles(over_http)} |")
    before, after = result.get("before", {}), result.get("after", {})
    print(
        f"\nre-optimisation ({args.optimize_seconds:.0f} s limit, {optimize_s:.0f} s wall): "
        f"stored={result['stored']} ({result['reason']})"
    )
    print("| KPI | before | after |")
    print("|---|---:|---:|")
    for key in (
        "vehicle_hours",
        "vehicle_km",
        "empty_km",
        "passengers_per_vehicle_hour",
        "pooling_rate",
        "mean_ride_min",
    ):
        print(f"| {key} | {before.get(key)} | {after.get(key)} |")
    print(f"\nvalidator on the stored plan: {'no violations' if not problems else problems[:3]}")


if __name__ == "__main__":
    main()
