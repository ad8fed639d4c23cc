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

import psycopg
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
from tests.support.served_hub import ServedHub, write_settings
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


#: The hub's storage backends, as `hub_backend` names them.
BACKENDS = ("sqlite", "postgresql")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "both_backends: run each test that uses the hub (hub_app, hub_process, hub_config) "
        "once on SQLite and once on PostgreSQL",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked `both_backends` run once per backend: `hub_backend` is parametrized
    (ids `sqlite` and `postgresql`) wherever a test's fixtures reach it."""
    if metafunc.definition.get_closest_marker("both_backends") and (
        "hub_backend" in metafunc.fixturenames
    ):
        metafunc.parametrize("hub_backend", BACKENDS)


@pytest.fixture
def hub_backend() -> str:
    """The hub's storage backend for this test: "sqlite" (the default, as the quick start
    has it) or "postgresql". Mark a module or test `both_backends` to run it on both."""
    return "sqlite"


@pytest.fixture
def hub_config(hub_backend: str, request: pytest.FixtureRequest) -> Iterator[dict[str, object]]:
    """The settings that choose `hub_backend`, for `hub_app` (create_app's mapping) and
    `hub_process` (its hub.cfg): nothing on SQLite (DATA_DIR/hub.sqlite3, the default), a
    fresh empty database's `STORAGE_URL` on PostgreSQL (the cluster starts only then)."""
    if hub_backend == "sqlite":
        yield {}
    elif hub_backend == "postgresql":
        url = request.getfixturevalue("pg_url")
        yield {"STORAGE_URL": url}
        assert_hub_used_postgresql(url)
    else:
        raise ValueError(f"hub_backend must be one of {BACKENDS}, not {hub_backend!r}")


def assert_hub_used_postgresql(url: str, *data_dirs: Path) -> None:
    """A test said to run on PostgreSQL really did: the hub made its tables in the database
    at `url`, and no SQLite file in any of `data_dirs` (a setting the hub ignored would
    otherwise pass every test on SQLite twice)."""
    for data in data_dirs:
        assert not (data / "hub.sqlite3").exists(), f"the hub wrote {data / 'hub.sqlite3'}"
    if data_dirs:
        return
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    assert row is not None and row[0] > 0, f"the hub made no table in {url}"


@pytest.fixture
def hub_app(tmp_path: Path, hub_config: dict[str, object]) -> Iterator[Flask]:
    data = tmp_path / "hub"
    if hub_config:  # also in hub.cfg, for `pendamping-hub --data DATA ...` run in a test
        write_settings(data, hub_config)
    app = create_app({"DATA_DIR": data, "TESTING": True, **hub_config})
    yield app
    app.extensions["pendamping"].storage.close()
    if "STORAGE_URL" in hub_config:
        assert_hub_used_postgresql(str(hub_config["STORAGE_URL"]), data)


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
def hub_process(tmp_path: Path, hub_config: dict[str, object]) -> Iterator[ServedHub]:
    """`pendamping-hub serve` as its own process, initialised but not yet started; its
    hub.cfg holds `hub_config` (the backend), so its CLI and its server use the same."""
    hub = ServedHub(tmp_path / "served-hub", settings=hub_config)
    hub.cli("init")
    yield hub
    hub.kill()
    if "STORAGE_URL" in hub_config:
        assert_hub_used_postgresql(str(hub_config["STORAGE_URL"]), hub.data)
