"""Behind a reverse proxy (docs/operations.md): with `PROXY_HOPS` the per-address limits
count each client by the address the proxy saw; without it a forwarded header is ignored,
so no client can name an address of its choice and slip past them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from server.app import create_app
from tests.support.served_hub import ServedHub

ENROLL = "/api/v1/enroll"
BAD_CODE = "AAAA-BBBB-CCCC"


def _app(tmp_path: Path, hops: int) -> Flask:
    return create_app(
        {
            "DATA_DIR": tmp_path / "hub",
            "TESTING": True,
            "ENROLL_FAILURES_MAX": 2,
            "PROXY_HOPS": hops,
        }
    )


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[FlaskClient]:
    app = _app(tmp_path, hops=1)
    yield app.test_client()
    app.extensions["pendamping"].storage.close()


@pytest.fixture
def direct(tmp_path: Path) -> Iterator[FlaskClient]:
    app = _app(tmp_path, hops=0)
    yield app.test_client()
    app.extensions["pendamping"].storage.close()


def _enrol(client: FlaskClient, forwarded_for: str) -> int:
    """A failed enrolment arriving from the proxy at 10.20.0.1 for `forwarded_for`."""
    return client.post(
        ENROLL,
        json={"code": BAD_CODE, "device_name": "Laptop"},
        headers={"X-Forwarded-For": forwarded_for},
        environ_base={"REMOTE_ADDR": "10.20.0.1"},
    ).status_code


def test_behind_a_trusted_proxy_each_client_has_its_own_enrolment_limit(proxied: FlaskClient):
    assert [_enrol(proxied, "192.168.7.10") for _ in range(3)] == [403, 403, 429]
    assert _enrol(proxied, "192.168.7.11") == 403  # another laptop is not held


def test_a_client_cannot_add_an_address_of_its_own_before_the_proxys(proxied: FlaskClient):
    """The proxy appends what it saw; only the last `PROXY_HOPS` entries are believed."""
    assert [_enrol(proxied, f"1.1.1.{n}, 192.168.7.10") for n in range(3)] == [403, 403, 429]


def test_without_proxy_hops_a_forwarded_header_is_ignored(direct: FlaskClient):
    assert [_enrol(direct, f"192.168.7.{n}") for n in range(3)] == [403, 403, 429]


@pytest.mark.e2e
def test_the_served_hub_passes_the_proxys_header_only_when_told(tmp_path: Path):
    hub = ServedHub(tmp_path / "served", settings={"ENROLL_FAILURES_MAX": 1, "PROXY_HOPS": 1})
    hub.cli("init")
    hub.start()
    try:

        def enrol(address: str) -> int:
            return requests.post(
                hub.url + ENROLL,
                json={"code": BAD_CODE, "device_name": "Laptop"},
                headers={"X-Forwarded-For": address},
                timeout=10,
            ).status_code

        assert [enrol("192.168.7.10"), enrol("192.168.7.10")] == [403, 429]
        assert enrol("192.168.7.11") == 403
    finally:
        hub.stop()
