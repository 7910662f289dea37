"""A real server on 127.0.0.1: the last-seat race, and a restart that keeps every booking."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from planner.service import DEFAULT_SERVICE_FILE
from planner.timefmt import hhmm
from routing.settings import Settings
from web.cli import WORKER_NICENESS

RUFBUS = str(Path(sys.executable).parent / "rufbus")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base: str, method: str, path: str, body: dict | None = None, auth: str | None = None):
    """One HTTP request; returns (status, JSON)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if auth:
        request.add_header("Authorization", auth)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


class Server:
    """``rufbus serve`` in a subprocess, with its own database and a one-seat fleet."""

    def __init__(self, env: dict[str, str], *options: str) -> None:
        self.env = env
        self.options = options
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/api/v1"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [RUFBUS, "serve", "--port", str(self.port), *self.options],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.process.stdout.read().decode()
                self.process.stdout.close()
                raise RuntimeError(output)
            try:
                urllib.request.urlopen(self.base + "/openapi.json", timeout=2)
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("server did not start within 120 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        if self.process and self.process.stdout:
            self.process.stdout.close()


@pytest.fixture
def server_env(tmp_path: Path, settings: Settings) -> dict[str, str]:
    return server_environment(tmp_path, settings)


def add_dispatcher(env: dict[str, str]) -> None:
    """The dispatcher ``disp`` (password ``dispatch-pw``) in the database of ``env``."""
    subprocess.run(
        [RUFBUS, "users", "add", "disp", "--role", "dispatcher"],
        input="dispatch-pw\n",
        text=True,
        env=env,
        check=True,
    )


def server_environment(tmp_path: Path, settings: Settings) -> dict[str, str]:
    """The environment of ``rufbus serve`` with a database and a one-seat service in
    ``tmp_path``, and the dispatcher ``disp`` (password ``dispatch-pw``)."""
    service = DEFAULT_SERVICE_FILE.read_text(encoding="utf-8")
    # one bus with one seat: the second of two overlapping rides cannot fit
    service = service[: service.index("[[fleet]]")] + (
        '[[fleet]]\nid = "ONE"\ndepot = "Bernburg (Saale), Busbahnhof"\nseats = 1\n'
        'wheelchair_places = 0\nshift = ["05:30", "23:30"]\n'
    )
    service_file = tmp_path / "one-seat.toml"
    service_file.write_text(service, encoding="utf-8")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'server.sqlite3'}",
        "RUFBUS_SERVICE_FILE": str(service_file),
        "RUFBUS_DATA_DIR": str(settings.data_dir),
        "RUFBUS_CACHE_DIR": str(settings.cache_dir),
        "RUFBUS_SECRET_KEY": "server-test",
    }
    add_dispatcher(env)
    return env


@pytest.fixture
def server(server_env: dict[str, str]) -> Iterator[Server]:
    s = Server(server_env)
    s.start()
    yield s
    s.stop()


def confirm_at_once(base: str | list[str], offer_ids: list[str]) -> list[tuple[int, dict]]:
    """Confirm the offers from parallel threads released by one barrier.

    ``base`` is the server's API, or one per offer (offers made by different servers).
    """
    bases = base if isinstance(base, list) else [base] * len(offer_ids)
    results: list[tuple[int, dict]] = []
    barrier = threading.Barrier(len(offer_ids))

    def confirm(base: str, offer_id: str, name: str) -> None:
        barrier.wait()
        body = {"offer_id": offer_id, "name": name, "phone": "03471 99999"}
        results.append(call(base, "POST", "/bookings", body))

    threads = [
        threading.Thread(target=confirm, args=(bases[k], oid, f"Rider {k}"))
        for k, oid in enumerate(offer_ids)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def future_day(days: int) -> str:
    return (datetime.now(ZoneInfo("Europe/Berlin")).date() + timedelta(days=days)).isoformat()


TRIP = {
    "origin": "Bernburg (Saale), Busbahnhof",
    "destination": "Staßfurt, Bahnhof (Bus)",
    "time": "10:00",
}
DISPATCHER = "Basic ZGlzcDpkaXNwYXRjaC1wdw=="  # disp:dispatch-pw


def test_last_seat_race_and_restart(server: Server) -> None:
    confirmed: list[str] = []
    for days in (2, 3, 4):
        day = future_day(days)
        # two riders get an offer for the same seat before either confirms
        offers = [call(server.base, "POST", "/offers", {**TRIP, "date": day}) for _ in range(2)]
        ids = [body["offers"][0]["offer_id"] for status, body in offers if status == 200]
        assert len(ids) == 2
        results = confirm_at_once(server.base, ids)
        statuses = sorted(status for status, _ in results)
        assert statuses == [201, 409], results
        refusal = next(body for status, body in results if status == 409)
        assert refusal["error"]["field"] == "offer_id"
        assert "no longer available" in refusal["error"]["message"]
        confirmed.append(next(b["bookings"][0]["code"] for s, b in results if s == 201))
        status, plan = call(server.base, "GET", f"/plans/{day}", auth=DISPATCHER)
        assert status == 200
        assert sum(len(v["stops"]) for v in plan["vehicles"]) == 2

    server.stop()
    server.start()  # same database: every confirmed booking is still there
    for code in confirmed:
        status, booking = call(server.base, "GET", f"/bookings/{code}")
        assert status == 200 and booking["status"] == "confirmed"


def test_serve_applies_the_retention_policy_at_start(server_env: dict[str, str]) -> None:
    from planner.store.db import Booking, Offer, open_store

    store = open_store(server_env["DATABASE_URL"])
    ride = dict(
        origin_node=1, origin_name="A", destination_node=2, destination_name="B", passengers=1,
        wheelchairs=0, wish_kind="pickup", wish_s=36000, window_start_s=36000.0,
        window_end_s=36900.0, max_ride_s=1800.0, direct_s=900.0, est_pickup_s=36000.0,
        est_arrival_s=37000.0, vehicle_id="ONE", phone="03471 123456", note="Rollator",
    )  # fmt: skip
    with store.session() as s:
        s.add(Booking(code="OLDOLDOLD1", day="2020-01-02", name="Erika Alt", **ride))
        s.add(Booking(code="NEWNEWNEW1", day=future_day(1), name="Lena Neu", **ride))
        s.add(Offer(id="old-offer", day="2020-01-02", payload={},
                    expires_at=datetime(2020, 1, 1, tzinfo=ZoneInfo("UTC"))))  # fmt: skip
    server = Server(server_env)
    server.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with store.session() as s:
                old, new = (s.get(Booking, k).name for k in (1, 2))
                offer = s.get(Offer, "old-offer")
            if old == "" and offer is None:
                break
            time.sleep(0.2)
        assert (old, new, offer) == ("", "Lena Neu", None)
    finally:
        server.stop()
        store.close()


def test_kill_9_during_a_booking_burst_loses_no_confirmed_booking(
    server_env: dict[str, str],
) -> None:
    """Riders race for the one seat at 14 times of a day; the server is killed (SIGKILL)
    in the middle of it, three times. Every booking that was answered 201 is still there
    after the restart, served by the stored plan, and no seat holds two riders."""
    # the bus alone: no timetable to build at each of the four starts
    service = Path(server_env["RUFBUS_SERVICE_FILE"])
    no_lines = service.with_name("no-lines.toml")
    text = service.read_text(encoding="utf-8")
    assert "check = true" in text
    no_lines.write_text(text.replace("check = true", "check = false"), encoding="utf-8")
    env = {**server_env, "RUFBUS_OFFERS_PER_MINUTE": "100000",
           "RUFBUS_LOOKUPS_PER_MINUTE": "100000", "RUFBUS_SERVICE_FILE": str(no_lines)}  # fmt: skip
    server = Server(env)
    acknowledged: dict[str, str] = {}  # code -> day, for every 201 the riders saw
    cut: list[str] = []  # the day of every request the kill cut off
    lock = threading.Lock()

    def rider(day: str, wish: str, k: int) -> None:
        try:
            status, body = call(server.base, "POST", "/offers", {**TRIP, "date": day,
                                                                 "time": wish})  # fmt: skip
            if status != 200 or not body["offers"]:
                return
            answer = {"offer_id": body["offers"][0]["offer_id"], "name": f"Rider {k}",
                      "phone": "03471 99999"}  # fmt: skip
            status, body = call(server.base, "POST", "/bookings", answer)
            if status == 201:
                with lock:
                    acknowledged[body["bookings"][0]["code"]] = day
        except (OSError, json.JSONDecodeError):  # the server died under the request
            with lock:
                cut.append(day)

    # killed by count, not after a pause: a fast server finishes a burst in well under 1 s
    for burst, kill_after in enumerate((2, 4, 6)):
        server.start()
        day = future_day(2 + burst)
        wishes = [hhmm(h * 3600) for h in range(6, 20) for _ in range(2)]  # two per hour
        threads = [threading.Thread(target=rider, args=(day, w, k)) for k, w in enumerate(wishes)]
        for t in threads:
            t.start()
        # kill while the burst is under way: after its first confirmations, before its last
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and list(acknowledged.values()).count(day) < kill_after:
            time.sleep(0.001)
        server.process.kill()  # SIGKILL: no clean shutdown, no flush
        server.process.wait(timeout=30)
        for t in threads:
            t.join(timeout=120)
        server.stop()
        assert list(acknowledged.values()).count(day) >= kill_after and day in cut  # mid-burst

    server.start()
    try:
        assert acknowledged, "no booking was confirmed before the kills"
        for code in acknowledged:
            status, booking = call(server.base, "GET", f"/bookings/{code}")
            assert status == 200 and booking["status"] == "confirmed", (code, booking)
        for day in set(acknowledged.values()):
            status, plan = call(server.base, "GET", f"/plans/{day}", auth=DISPATCHER)
            assert status == 200
            stops = [s for v in plan["vehicles"] for s in v["stops"]]
            served = {s["code"] for s in stops if s["kind"] == "pickup"}
            assert {c for c, d in acknowledged.items() if d == day} <= served
            assert all(s["load"] <= 1 for s in stops)  # one seat, never two riders
            assert plan["kpis"]["served"] == plan["kpis"]["requests"]
    finally:
        server.stop()


def children(pid: int) -> set[int]:
    """The live child processes of ``pid`` (from /proc; zombies count as gone)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        state, parent = stat[stat.rindex(")") + 2 :].split()[:2]
        if int(parent) == pid and state != "Z":
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def test_serve_runs_one_background_worker_and_leaves_none_behind(
    server_env: dict[str, str],
) -> None:
    server = Server(server_env)
    server.start()
    assert server.process is not None
    try:
        (worker,) = children(server.process.pid)
        assert "rufbus" in Path(f"/proc/{worker}/cmdline").read_text()
        # a re-optimisation waits for a free core; a rider's offer does not
        lower = min(19, os.getpriority(os.PRIO_PROCESS, server.process.pid) + WORKER_NICENESS)
        deadline = time.monotonic() + 10  # the forked worker lowers its own priority first
        while os.getpriority(os.PRIO_PROCESS, worker) != lower and time.monotonic() < deadline:
            time.sleep(0.05)
        assert os.getpriority(os.PRIO_PROCESS, worker) == lower
    finally:
        server.stop()
    assert server.process.returncode == 0
    assert not alive(worker)  # stopped by serve itself, not orphaned

    quiet = Server(server_env, "--no-worker")
    quiet.start()
    try:
        assert quiet.process is not None and children(quiet.process.pid) == set()
    finally:
        quiet.stop()


def test_rufbus_worker_reoptimises_a_due_day_and_ends_on_sigterm(
    tmp_path: Path, settings: Settings
) -> None:
    """25 bookings (by insertion) on the three Bernburg buses make the day due; the worker
    re-optimises it (the plan it stores passes the validator), logs no rider's data, and
    SIGTERM ends it with exit code 0."""
    from planner.booking import BookingEngine
    from planner.booking.reoptimize import REASON
    from planner.scenarios.demand import DemandParams, read_places, sample_demand
    from planner.service import load_service
    from planner.store.db import PlanVersion, open_store
    from planner.world import load_world

    text = DEFAULT_SERVICE_FILE.read_text(encoding="utf-8")
    bernburg = "[[fleet]]".join(text.split("[[fleet]]")[:2])  # the BBG buses only
    assert 'id = "BBG"' in bernburg and 'id = "SBK"' not in bernburg
    service_file = tmp_path / "bernburg.toml"
    # offers by insertion only: the repair at offer time re-plans the day already, and this
    # is about the worker finding something to improve
    assert "repair_ms = 50" in bernburg
    quick = bernburg.replace("time_limit_s = 5", "time_limit_s = 1")
    service_file.write_text(quick.replace("repair_ms = 50", "repair_ms = 0"), "utf-8")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite3'}",
        "RUFBUS_SERVICE_FILE": str(service_file),
        "RUFBUS_DATA_DIR": str(settings.data_dir),
        "RUFBUS_CACHE_DIR": str(settings.cache_dir),
    }
    service = load_service(service_file)
    world = load_world(settings, service, timetable=False)
    store = open_store(env["DATABASE_URL"])
    engine = BookingEngine(service, world.catalog, store)
    day = datetime.fromisoformat(future_day(2)).date()
    places = read_places(settings.data_file("places"), world.catalog)
    booked = 0
    for request in sample_demand(places, day, DemandParams(requests=80), seed=11):
        offers = engine.offer(request.trip, with_alternatives=False).offers
        if offers and booked < 25:
            engine.confirm(offers[0].id, name="Erika Mustermann", phone="03471 555 0101")
            booked += 1
    assert booked == 25

    def reasons() -> list[str]:
        with store.session() as session:
            query = select(PlanVersion.reason).where(PlanVersion.day == day.isoformat())
            return list(session.scalars(query.order_by(PlanVersion.version)))

    process = subprocess.Popen([RUFBUS, "-v", "worker", "--poll", "0.5"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while REASON not in reasons() and time.monotonic() < deadline:
            assert process.poll() is None, process.stdout.read().decode()
            time.sleep(0.3)
        assert reasons()[-1] == REASON
        assert engine.validate_day(day) == []  # the independent validator, every booking served
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
        output = process.stdout.read().decode()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        store.close()
    assert f"re-optimised {day} after 25 changes: stored a better plan" in output
    assert "Erika" not in output and "0101" not in output
