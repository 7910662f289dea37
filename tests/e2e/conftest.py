"""A real server (waitress, in a thread) and headless Chromium (Debian's) driven by Playwright."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright
from waitress import create_server

from planner.booking import BookingEngine
from planner.darp.search import kernels
from planner.world import WorldConfig
from web import create_app
from web.auth import add_user
from web.config import AppConfig

CHROMIUM = os.environ.get("RUFBUS_CHROMIUM", "/usr/bin/chromium")
#: Flags for a root sandbox with no network but loopback (see the machine notes).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """Run ``app`` under waitress on a free port of 127.0.0.1; yields its base URL."""
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.task_dispatcher.shutdown()

    def close_channels() -> None:
        # closing every channel (listener, connections, trigger) empties the socket map,
        # which ends waitress's event loop
        for channel in list(server._map.values()):  # noqa: SLF001
            channel.close()

    # in the loop's own thread: closed from here, a socket could vanish under a running
    # select() (EBADF in the server thread, seen once at teardown)
    server.trigger.pull_trigger(close_channels)
    thread.join(timeout=30)  # a busy machine may need more than a few seconds
    assert not thread.is_alive()


@pytest.fixture
def live_server(world_config: WorldConfig, engine: BookingEngine) -> Iterator[str]:
    """The app under waitress on a free port of 127.0.0.1; yields its base URL."""
    kernels.warm_up()  # as `rufbus serve` does: the first re-optimisation must not compile
    config = AppConfig(world_config, secret_key="e2e", optimize_seconds=2)
    add_user(engine.store, "disp", "dispatcher", "dispatch-pw")
    with serve(create_app(config, engine=engine)) as base:
        yield base


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (make test does)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="de-DE")
    page = context.new_page()
    yield page
    context.close()


def screenshot(page: Page, name: str, *, height: int = 900) -> None:
    """Save a screenshot (the top ``height`` px) when ``RUFBUS_SCREENSHOT_DIR`` is set."""
    folder = os.environ.get("RUFBUS_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        clip = {"x": 0, "y": 0, "width": page.viewport_size["width"], "height": height}
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True, clip=clip)
