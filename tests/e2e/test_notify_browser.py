"""End-to-end in headless Chromium on a phone-sized screen: a rider books with e-mail
notifications, the worker's pass delivers the confirmation to a real SMTP server (aiosmtpd),
and the dispatcher sees it sent."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from playwright.sync_api import Page, expect

from planner.booking import BookingEngine
from planner.notify.channels import senders
from planner.notify.worker import run_pass
from planner.service import NotificationRule
from tests.e2e.conftest import screenshot
from tests.e2e.test_browser import login, search, serious_violations
from tests.notify_fakes import Mailbox, smtp_server


@pytest.fixture
def mailbox(engine: BookingEngine) -> Iterator[Mailbox]:
    """A real SMTP server, and the engine's service sending e-mail (and calls) through it."""
    with smtp_server() as box:
        rule = NotificationRule(
            channels=("email", "call"),
            sender_name="Rufbus Salzland",
            from_address="rufbus@example.org",
            smtp_host="127.0.0.1",
            smtp_port=box.port,
        )
        engine.service = replace(engine.service, notifications=rule)
        yield box


def no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0


@pytest.mark.parametrize("width", [390, 1280])
def test_a_rider_books_with_email_and_the_mail_arrives(
    page: Page, mailbox: Mailbox, live_server: str, engine: BookingEngine, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 844})
    suffix = "" if width == 390 else f"-{width}"
    search(page, live_server)
    page.locator('.offer[data-shift-min="0"]').get_by_role(
        "link", name="Diese Fahrt buchen"
    ).click()
    page.get_by_label("Name").fill("Erika Mustermann")
    page.get_by_label("Telefon").fill("03471 123456")
    page.get_by_label("E-Mail-Adresse").fill("erika@example.de")
    expect(page.get_by_role("group", name="Benachrichtigungen (freiwillig)")).to_be_visible()
    assert serious_violations(page) == []
    no_sideways_scroll(page)
    screenshot(page, f"notify-opt-in{suffix}", height=1400)
    page.get_by_role("button", name="Verbindlich buchen").click()
    expect(page.get_by_role("heading", name="Gebucht!")).to_be_visible()
    code = page.locator("#booking-code").inner_text()

    # the worker's pass (as `rufbus worker` runs it) hands the confirmation to the server
    result = run_pass(engine, senders(engine.service.notifications), engine.clock())
    assert result.sent == 1
    (mail,) = mailbox.mails
    assert mail["To"] == "erika@example.de"
    assert mail["Subject"] == "Rufbus gebucht"
    assert f"Rufbus {code} gebucht: Mi, 02.12., Abholung 08:10-08:25 Uhr" in mail.get_content()

    # the dispatcher sees it sent, on the booking's page and (nothing left) on the list
    login(page, live_server)
    page.goto(f"{live_server}/dispatch/booking/{code}")
    messages = page.get_by_role("table", name="Nachrichten an den Fahrgast")
    expect(messages.get_by_role("row", name=re.compile("Bestätigung.*gesendet"))).to_be_visible()
    assert serious_violations(page) == []
    no_sideways_scroll(page)
    screenshot(page, f"dispatch-booking-messages{suffix}", height=1800)
    page.get_by_role("link", name="Nachrichten", exact=True).click()
    expect(page.get_by_role("heading", name="Nachrichten an Fahrgäste")).to_be_visible()
    expect(page.locator("#no-problems")).to_have_text("Alle Nachrichten sind versandt.")
    assert serious_violations(page) == []
    screenshot(page, f"dispatch-notifications{suffix}")
