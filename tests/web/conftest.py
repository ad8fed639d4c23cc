"""Fixtures for the office's web pages: a supervisor with a password, a logged-in test
client, conflicts raised by real laptops in two wilayah, and a real headless Chromium.

The browser is Debian's `chromium` at /usr/bin/chromium (`python3 dev.py test` installs it
on a fresh Linux CI machine, as root), or PENDAMPING_CHROMIUM. Playwright's own browser
download is never used. Without a browser the browser tests skip, except under CI on Linux,
where they fail: there they must run.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from waitress import wasyncore
from werkzeug.test import TestResponse

from client_sync import FieldDevice
from client_sync.app.serve import Served, bind
from schemas.hlc import wall_ms
from server.passwords import hash_password
from server.scope import EVERYWHERE
from server.storage import HubStorage, User
from server.timeutil import utc_iso
from tests.conftest import Laptops, beneficiary
from tests.support.served_hub import free_port

PASSWORD = "kata-sandi-kantor-31"
#: a kelurahan, a NIK and two laptop owners per wilayah the tests use
AREAS = {
    "31.71": ("31.71.01.1001", "3171014508450001", ("siti", "budi")),
    "31.72": ("31.72.01.1001", "3172014508450002", ("ani", "dewi")),
}
CHROMIUM = os.environ.get("PENDAMPING_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
_CSRF = re.compile(r'name="(?:c\d+-)?csrf_token" type="hidden" value="([^"]+)"')


def csrf_of(page: TestResponse) -> str:
    """The CSRF token a rendered page carries."""
    found = _CSRF.search(page.get_data(as_text=True))
    assert found, "the page carries no CSRF token"
    return found.group(1)


@pytest.fixture
def add_web_user(hub_storage: HubStorage) -> Callable[..., User]:
    """Add a supervisor (by default) of 31.71 with PASSWORD."""

    def make(
        name: str = "bu-kasi",
        role: str = "supervisor",
        wilayah: tuple[str, ...] = ("31.71",),
        password: str | None = PASSWORD,
    ) -> User:
        user = User(name, role, wilayah, hash_password(password) if password else None)
        hub_storage.add_user(user, utc_iso())
        return user

    return make


@dataclass
class Web:
    """A browser-less visitor of /web/ on the Flask test client."""

    client: FlaskClient

    def login(self, name: str = "bu-kasi", password: str = PASSWORD, **kw) -> TestResponse:
        token = csrf_of(self.client.get("/web/login", **kw))
        return self.client.post(
            "/web/login", data={"csrf_token": token, "name": name, "password": password}, **kw
        )

    def page(self, path: str) -> str:
        response = self.client.get(path)
        assert response.status_code == 200, response.status_code
        return response.get_data(as_text=True)


@pytest.fixture
def web(hub_app: Flask) -> Web:
    return Web(hub_app.test_client())


@dataclass
class RaisedConflict:
    conflict_id: int
    record_id: str
    laptops: tuple[FieldDevice, FieldDevice]


@pytest.fixture
def raise_conflict(laptops: Laptops, hub_app: Flask) -> Callable[..., RaisedConflict]:
    """Two laptops of `area` edit one beneficiary's `field` offline: one value is queued."""
    service = hub_app.extensions["pendamping"].conflicts

    def make(
        area: str = "31.71",
        field: str = "address",
        values: tuple[str, str] = ("Jl. Melati 3", "Jl. Mawar 1"),
    ) -> RaisedConflict:
        kelurahan, nik, (first, second) = AREAS[area]
        a = laptops.enroll(first, wilayah=(kelurahan.rsplit(".", 1)[0],))
        b = laptops.enroll(second, wilayah=(kelurahan.rsplit(".", 1)[0],))
        bid = a.store.add("beneficiary", beneficiary(kelurahan=kelurahan, nik=nik))
        for laptop in (a, b, a, b):
            laptop.sync()
        a.store.update("beneficiary", bid, {field: values[0]})
        b.store._wall = lambda: wall_ms() + 60_000  # b's later edit wins; a's value is lost
        b.store.update("beneficiary", bid, {field: values[1]})
        for laptop in (a, b, a):
            laptop.sync()
        [queued] = [c for c in service.list(EVERYWHERE) if c["record_id"] == bid]
        return RaisedConflict(queued["conflict_id"], bid, (a, b))

    return make


def make_silent(storage: HubStorage, laptop: FieldDevice, days: int) -> None:
    """Make the hub last hear from `laptop` `days` ago."""
    when = (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    with storage.write() as session:
        session.touch_device(laptop.store.identity.device_id, when, synced=True)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") and sys.platform.startswith("linux"):
        pytest.fail(f"{reason} (CI must run the browser tests: see dev.py)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """A headless Chromium, one per test module."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[dev]')")
    if not Path(CHROMIUM).exists():
        _unavailable(
            f"no browser at {CHROMIUM}: install Debian's chromium (apt-get install chromium) "
            "or set PENDAMPING_CHROMIUM"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=FLAGS, timeout=30_000
        )
        yield launched
        launched.close()


#: the office's screen: the pages must fit it without sideways scrolling
VIEWPORT = {"width": 1366, "height": 768}


@pytest.fixture
def page(browser, live_hub: str):
    """A page of a fresh browser context at the office's screen size, downloads allowed
    (a test module with other needs defines its own `page`)."""
    context = browser.new_context(locale="id-ID", viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(8_000)
    yield context.new_page()
    context.close()


def fits_the_window(page) -> None:
    """Nothing wider than the window: no sideways scrolling at 1366 px."""
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORT["width"]


@contextmanager
def field_app_served(home: Path) -> Iterator[Served]:
    """`pendamping app`'s server for the laptop at `home` (waitress on 127.0.0.1, a free
    port) on a thread, as the command serves it; stopped after, its store locked."""
    served = bind(home, port=free_port())
    thread = threading.Thread(target=served.server.run, daemon=True)  # type: ignore[attr-defined]
    thread.start()
    try:
        yield served
    finally:
        server = served.server
        server.task_dispatcher.shutdown()  # type: ignore[attr-defined]
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))  # type: ignore[attr-defined]
        thread.join(timeout=5)
        served.close()
