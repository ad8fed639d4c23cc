"""Failed enrolments are limited per client address: 429 with Retry-After, in Indonesian."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.app import create_app
from server.enrolment import issue_code
from server.error_map import http_error
from server.exceptions import TooManyRequests
from server.storage import User
from server.storage.sqlite_limits import SQLiteLimitStore
from server.throttle import ENROLL_LIMIT_MESSAGE, FailureLimiter
from server.timeutil import utc_iso

ENROLL = "/api/v1/enroll"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    made = create_app(
        {
            "DATA_DIR": tmp_path / "hub",
            "TESTING": True,
            "ENROLL_FAILURES_MAX": 3,
            "ENROLL_FAILURE_WINDOW_S": 900,
        }
    )
    yield made
    made.extensions["pendamping"].storage.close()


def enrol(client: FlaskClient, code: str, address: str = "10.0.0.7"):
    return client.post(
        ENROLL,
        json={"code": code, "device_name": "Laptop"},
        environ_base={"REMOTE_ADDR": address},
    )


def good_code(app: Flask, name: str) -> str:
    storage = app.extensions["pendamping"].storage
    storage.add_user(User(name, "pendamping", ("31.71.01",)), utc_iso())
    return issue_code(storage, name, 24)


def test_too_many_failed_codes_from_one_address_get_429_with_retry_after(app: Flask):
    client = app.test_client()
    for _ in range(3):
        assert enrol(client, "AAAA-BBBB-CCCC").status_code == 403

    refused = enrol(client, good_code(app, "ani"))  # even a good code waits now

    assert refused.status_code == 429
    assert refused.get_json()["error"] == "too_many_requests"
    assert "percobaan pendaftaran" in refused.get_json()["message"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 900


def test_another_address_still_enrols(app: Flask):
    client = app.test_client()
    for _ in range(3):
        enrol(client, "AAAA-BBBB-CCCC")

    assert enrol(client, good_code(app, "ani"), address="10.0.0.8").status_code == 201


def test_successful_enrolments_do_not_count(app: Flask):
    client = app.test_client()
    for n in range(5):
        assert enrol(client, good_code(app, f"user{n}")).status_code == 201


def test_a_malformed_body_is_not_a_failed_code(app: Flask):
    client = app.test_client()
    for _ in range(5):
        response = client.post(ENROLL, json={"code": "x"}, environ_base={"REMOTE_ADDR": "10.0.0.7"})
        assert response.status_code == 422
    assert enrol(client, good_code(app, "ani")).status_code == 201


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_limit_lifts_as_failures_leave_the_window(tmp_path: Path):
    clock = Clock()
    limiter = FailureLimiter(
        SQLiteLimitStore(tmp_path / "limits.sqlite3"), 2, 900, ENROLL_LIMIT_MESSAGE, clock
    )
    limiter.failed("ip")
    clock.now += 100
    limiter.failed("ip")
    with pytest.raises(TooManyRequests) as raised:
        limiter.check("ip")
    answer = http_error(raised.value)  # what the HTTP layer sends for it
    assert answer.extra_headers == {"Retry-After": "800"}
    assert "14 menit" in answer.description
    clock.now += 800  # the first failure is out of the window
    limiter.check("ip")
    limiter.check("another ip")


def test_a_limit_of_zero_limits_nothing(tmp_path: Path):
    limiter = FailureLimiter(
        SQLiteLimitStore(tmp_path / "limits.sqlite3"), 0, 900, ENROLL_LIMIT_MESSAGE
    )
    for _ in range(50):
        limiter.failed("ip")
    limiter.check("ip")
