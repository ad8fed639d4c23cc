"""Fixtures for the field app: an app on an enrolled laptop home (encrypted, enrolled
against the in-process hub), its test client past the secret exchange, and a clock."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from client_sync.app import create_app
from tests.conftest import Laptops
from tests.support.transports import WsgiTransport

PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"
SECRET = "rahasia-awal-uji-0123456789"
PASSPHRASE = "kata-sandi-lapangan"
_CSRF = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


class Clock:
    """Monotonic seconds that move only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def csrf_of(page: TestResponse) -> str:
    found = _CSRF.search(page.get_data(as_text=True))
    assert found, "the page carries no CSRF token"
    return found.group(1)


@dataclass
class Field:
    """A browser-less user of the app, already past the secret URL."""

    app: Flask
    client: FlaskClient
    clock: Clock
    home: Path

    def get(self, path: str, **kw) -> TestResponse:
        return self.client.get(path, base_url=BASE, **kw)

    def post(self, path: str, data: dict | None = None, page: str | None = None) -> TestResponse:
        token = csrf_of(self.get(page or path))
        return self.client.post(path, base_url=BASE, data={"csrf_token": token, **(data or {})})

    def unlock(self, passphrase: str = PASSPHRASE) -> TestResponse:
        return self.post("/buka", {"passphrase": passphrase})


def make_field(home: Path, transport_factory=None, idle_minutes: float = 15) -> Field:
    clock = Clock()
    app = create_app(
        home,
        port=PORT,
        idle_minutes=idle_minutes,
        transport_factory=transport_factory,
        clock=clock,
        start_secret=SECRET,
        test_config={"TESTING": True},
    )
    client = app.test_client()
    entered = client.get(f"/masuk?kunci={SECRET}", base_url=BASE)
    assert entered.status_code == 303, entered.status_code
    return Field(app, client, clock, home)


@pytest.fixture
def enrolled_home(laptops: Laptops) -> Path:
    laptop = laptops.enroll("sari", passphrase=PASSPHRASE)
    laptop.close()
    return laptop.home


@pytest.fixture
def field(enrolled_home: Path, hub_app: Flask) -> Iterator[Field]:
    made = make_field(enrolled_home, lambda _url: WsgiTransport(hub_app))
    yield made
    state = made.app.extensions["pendamping_app"]
    state.sync.join(timeout=10)
    state.store_thread.run(state.keeper.lock)
    state.store_thread.shutdown()
