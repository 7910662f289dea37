"""Shared constants and helpers of the web tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask.testing import FlaskClient

from planner.service import DEFAULT_SERVICE_FILE

#: Tuesday 1 December 2026, 07:00 in Berlin: the tests book rides for the next day.
START = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
DAY = "2026-12-02"


@dataclass
class Clock:
    """A clock the tests move by hand."""

    now: datetime = field(default=START)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


DISPATCHER = {"Authorization": "Basic ZGlzcDpkaXNwYXRjaC1wdw=="}  # disp:dispatch-pw
ANALYST = {"Authorization": "Basic YW5hOmFuYWx5c3QtcHc="}  # ana:analyst-pw


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token of the form on the page at ``path``."""
    html = client.get(path).get_data(as_text=True)
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def wished(offers: list[dict]) -> dict:
    """The offer nearest the rider's wish (the API lists offers by time, not by nearness)."""
    return min(offers, key=lambda o: abs(o["shift_min"]))


#: A tariff as a service file holds it (the test service file of the fare tests; made-up
#: test values, not the Rufbus Salzland's prices, which are not published).
FARES_TOML = """
[fares]
mode = "distance"
surcharge_eur = 1.00
deutschlandticket_valid = true
deutschlandticket_surcharge = true

[fares.reductions]
child = 0.5

[[fares.band]]
up_to_km = 5
price_eur = 2.00

[[fares.band]]
up_to_km = 15
price_eur = 3.00

[[fares.band]]
up_to_km = inf
price_eur = 4.50
"""


def with_fares(tmp_path: Path, section: str = FARES_TOML, *, phone: str = "") -> Path:
    """The default service file with the tariff ``section`` and the hotline ``phone``."""
    text = DEFAULT_SERVICE_FILE.read_text(encoding="utf-8")
    assert 'phone = ""' in text
    text = text.replace('phone = ""', f'phone = "{phone}"', 1)
    path = tmp_path / "fares.toml"
    path.write_text(text + section, encoding="utf-8")
    return path
