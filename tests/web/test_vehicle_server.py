"""A real server killed with SIGKILL during a burst of driver events: every event it
acknowledged is on disk after the restart, and none is stored twice."""

from __future__ import annotations

import base64
import http.client
import json
import subprocess
import threading
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from planner.store.db import VehicleEventRow, open_store
from routing.settings import Settings
from tests.web.test_server import RUFBUS, Server, server_environment

DRIVER = "Basic " + base64.b64encode(b"fahrer:driver-pw").decode()


def add_driver(env: dict[str, str]) -> None:
    """The driver ``fahrer`` (password ``driver-pw``) in the database of ``env``."""
    subprocess.run([RUFBUS, "users", "add", "fahrer", "--role", "driver"], input="driver-pw\n",
                   text=True, env=env, check=True)  # fmt: skip


def post_events(base: str, vehicle: str, events: list[dict]) -> tuple[int, dict]:
    """POST one batch with the driver's Basic credentials."""
    request = urllib.request.Request(
        f"{base}/vehicles/{vehicle}/events",
        data=json.dumps({"events": events}).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": DRIVER},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def kill_during_event_burst(env: dict[str, str], vehicle: str = "ONE") -> int:
    """Four clients send 30 batches of 10 positions each; the server is killed (SIGKILL)
    after the first acknowledged batches. After a restart, every acknowledged client id is
    stored exactly once, and resending every batch stores nothing new.

    Returns
    -------
    acknowledged
        How many events the killed server had acknowledged.
    """
    add_driver(env)
    server = Server(env)
    server.start()
    now = datetime.now(ZoneInfo("Europe/Berlin")) - timedelta(minutes=1)
    batches = [
        [{"client_id": f"c{c}-b{b}-e{e}", "kind": "position", "at": now.isoformat(),
          "lat": 51.79, "lon": 11.74} for e in range(10)]
        for c in range(4) for b in range(30)
    ]  # fmt: skip
    acknowledged: list[str] = []
    failures: list[tuple[int, dict]] = []
    answered = threading.Event()
    lock = threading.Lock()

    def client(mine: list[list[dict]]) -> None:
        for batch in mine:
            try:
                status, body = post_events(server.base, vehicle, batch)
            # the server died under the request, also after its headers and before the body
            # (IncompleteRead): no acknowledgement either way, as for a driver's phone
            except (OSError, http.client.HTTPException, json.JSONDecodeError):
                return
            if status != 200:
                failures.append((status, body))
                answered.set()
                return
            with lock:
                acknowledged.extend(body["accepted"])
                if len(acknowledged) >= 50:
                    answered.set()

    threads = [threading.Thread(target=client, args=(batches[c * 30 : (c + 1) * 30],))
               for c in range(4)]  # fmt: skip
    for t in threads:
        t.start()
    assert answered.wait(120), "no batch was acknowledged"
    assert not failures, failures[:3]
    server.process.kill()  # SIGKILL: no clean shutdown, no flush
    server.process.wait(timeout=30)
    for t in threads:
        t.join(timeout=120)
    server.stop()
    with lock:
        seen = list(acknowledged)
    assert len(seen) < sum(map(len, batches)), "the burst ended before the kill"
    assert len(seen) == len(set(seen))

    server.start()  # same database
    try:
        store = open_store(env["DATABASE_URL"], migrate=False)
        with store.session() as s:
            stored = list(s.scalars(select(VehicleEventRow.client_id)))
            total = s.scalar(select(func.count()).select_from(VehicleEventRow))
        assert set(seen) <= set(stored)  # every acknowledged event survived
        assert total == len(set(stored))  # none twice
        for batch in batches:  # the devices resend everything they were not sure of
            status, body = post_events(server.base, vehicle, batch)
            assert status == 200
            assert not set(body["accepted"]) & set(seen)
        with store.session() as s:
            total = s.scalar(select(func.count()).select_from(VehicleEventRow))
        assert total == sum(map(len, batches))
        store.close()
    finally:
        server.stop()
    return len(seen)


def test_kill_9_during_a_burst_of_driver_events(tmp_path: Path, settings: Settings) -> None:
    assert kill_during_event_burst(server_environment(tmp_path, settings)) >= 50
