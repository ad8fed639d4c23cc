"""Shared fixtures: a hub app on a temporary data folder, enrolled laptops, a served hub.

`hub_app` is in-process (Flask test client); `live_hub` serves the same app with waitress on
a real loopback socket in a thread; `hub_process` runs `pendamping-hub serve` as its own
process, for tests that kill it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import waitress
from flask import Flask
from hypothesis import settings
from waitress import wasyncore

from client_sync import FieldDevice
from server.app import create_app
from server.enrolment import issue_code
from server.storage import HubStorage, User
from server.timeutil import utc_iso
from tests.support.postgres import PgCluster, PgUnavailable, start_cluster
from tests.support.served_hub import ServedHub
from tests.support.transports import WsgiTransport

# In CI (`CI` set, as `.ci/run` has it) every property test replays a fixed set of examples;
# run locally, or with HYPOTHESIS_PROFILE=nightly, they explore afresh.
settings.register_profile("pendamping-ci", derandomize=True, deadline=None)
if os.environ.get("CI") and not os.environ.get("HYPOTHESIS_PROFILE"):
    settings.load_profile("pendamping-ci")

KELURAHAN = "31.71.01.1001"
OTHER_KELURAHAN = "31.71.02.1003"


def beneficiary(**overrides) -> dict:
    """A valid beneficiary in KELURAHAN; override any field."""
    data = {
        "name": "Ibu Sri Wahyuni",
        "sex": "P",
        "kelurahan": KELURAHAN,
        "nik": "3171014508450001",
        "birth_date": "1945-08-05",
        "categories": ["lansia"],
        "programs": ["KLJ"],
    }
    data.update(overrides)
    return data


def visit(beneficiary_id: str, **overrides) -> dict:
    """A valid visit to `beneficiary_id`; its kelurahan comes from the beneficiary."""
    data = {
        "beneficiary_id": beneficiary_id,
        "visited_at": "2026-11-23T09:30:00+07:00",
        "purpose": "monitoring",
        "findings": "Kondisi baik, perlu kursi roda.",
    }
    data.update(overrides)
    return data


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """A throw-away PostgreSQL server for this test session (one per xdist worker).

    Installed with apt-get first when missing and running as root; otherwise the tests that
    need it fail with one line saying how to install it (CI runs both backends)."""
    try:
        cluster = start_cluster()
    except PgUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    yield cluster
    cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> Iterator[str]:
    """A fresh, empty database of its own: `postgresql://postgres@127.0.0.1:PORT/NAME`.

    Dropped after the test, with any connection a test left open ended."""
    url = pg_cluster.create_database()
    yield url
    pg_cluster.drop_database(url.rsplit("/", 1)[1])


@pytest.fixture
def hub_app(tmp_path: Path) -> Iterator[Flask]:
    app = create_app({"DATA_DIR": tmp_path / "hub", "TESTING": True})
    yield app
    app.extensions["pendamping"].storage.close()


@pytest.fixture
def hub_storage(hub_app: Flask) -> HubStorage:
    return hub_app.extensions["pendamping"].storage


@pytest.fixture
def add_user(hub_storage: HubStorage) -> Callable[..., str]:
    """Add a user and return a fresh enrolment code for it."""

    def make(name: str, role: str = "pendamping", wilayah: tuple[str, ...] = ("31.71.01",)):
        hub_storage.add_user(User(name, role, wilayah), utc_iso())
        return issue_code(hub_storage, name, 24)

    return make


@dataclass
class Laptops:
    """Makes enrolled laptops against the in-process hub."""

    app: Flask
    tmp_path: Path
    add_user: Callable[..., str]

    def enroll(
        self,
        name: str,
        wilayah: tuple[str, ...] = ("31.71.01",),
        role: str = "pendamping",
        transport_factory=None,
        passphrase: str | None = None,
    ) -> FieldDevice:
        """Enrol laptop `name`; `passphrase` encrypts its store (default: the environment's)."""
        code = self.add_user(name, role, wilayah)
        factory = transport_factory or (lambda _url: WsgiTransport(self.app))
        return FieldDevice.enroll(
            self.tmp_path / f"laptop-{name}",
            "http://hub.test",
            code,
            f"laptop-{name}",
            transport_factory=factory,
            passphrase=passphrase,
        )


@pytest.fixture
def laptops(hub_app: Flask, tmp_path: Path, add_user) -> Iterator[Laptops]:
    made = Laptops(hub_app, tmp_path, add_user)
    yield made


@pytest.fixture
def live_hub(hub_app: Flask) -> Iterator[str]:
    """The hub served by waitress on a loopback socket; yields its base URL.

    Stopped in order: in-flight requests finish, then the loop's own thread closes every
    socket (closing them from this thread while a request was still being answered failed
    about one run in thirty with EBADF in waitress' thread)."""
    server = waitress.create_server(hub_app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.task_dispatcher.shutdown()
    server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
    thread.join(timeout=5)


@pytest.fixture
def hub_process(tmp_path: Path) -> Iterator[ServedHub]:
    """`pendamping-hub serve` as its own process, initialised but not yet started."""
    hub = ServedHub(tmp_path / "served-hub")
    hub.cli("init")
    yield hub
    hub.kill()
