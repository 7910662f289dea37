"""``rufbus privacy``: apply the retention policy, answer a rider's access or erasure request.

These commands need only the database and the service file (not the network).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from planner.booking.privacy import apply_retention, erase_rider, export_rider, local_today
from planner.service import Service, load_service
from planner.store.db import Store, open_store, utcnow
from planner.world import WorldConfig
from routing.cli import user_errors


def _open() -> tuple[Service, Store]:
    config = WorldConfig.from_env()
    return load_service(config.service_file), open_store(config.database_url)


_same_phone = click.option(
    "--same-phone", is_flag=True, help="Include every booking with the same phone number."
)


@click.group()
def privacy() -> None:
    """Riders' personal data: retention, access and erasure (service file: [privacy])."""


@privacy.command("apply")
@click.option("--dry-run", is_flag=True, help="Only count what would be erased or deleted.")
@user_errors
def privacy_apply(dry_run: bool) -> None:
    """Erase personal data past the retention time and delete old expired offers."""
    service, store = _open()
    result = apply_retention(
        store, service.privacy, now=utcnow(), timezone=service.timezone, dry_run=dry_run
    )
    click.echo(str(result))


@privacy.command("erase")
@click.argument("code")
@_same_phone
@user_errors
def privacy_erase(code: str, same_phone: bool) -> None:
    """Erase the name, phone and note of booking CODE's rider (a request for erasure)."""
    service, store = _open()
    today = local_today(utcnow(), service.timezone)
    result = erase_rider(store, code, today=today, same_phone=same_phone)
    click.echo(f"erased the personal data of bookings {', '.join(result.codes)}"
               + (f" and {len(result.standing_ids)} standing bookings"
                  if result.standing_ids else ""))  # fmt: skip


@privacy.command("export")
@click.argument("code")
@_same_phone
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="JSON file.")
@user_errors
def privacy_export(code: str, same_phone: bool, out: Path | None) -> None:
    """Write everything stored about booking CODE's rider as JSON (a request for access)."""
    _service, store = _open()
    text = json.dumps(
        export_rider(store, code, now=utcnow(), same_phone=same_phone),
        indent=2,
        ensure_ascii=False,
    )
    if out is None:
        click.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {out}")
