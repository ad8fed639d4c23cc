"""Schemathesis against the hub's own OpenAPI description: no 5xx, no answer the spec denies.

The spec is loaded from the app in process (WSGI, `/openapi.json`), and every operation in it
is driven with generated requests, valid and invalid, twice: once as an enrolled laptop (a
real device token, through the API) and once without a token. Every answer must be below
500, carry a status the operation documents, and a body matching its schema (errors included:
`{"code", "error", "message", "errors"?}`). Bounded: `MAX_EXAMPLES` per operation and phase,
derandomized under the `pendamping-ci` profile (tests/conftest.py); a run takes seconds.

Routes outside the spec (a web blueprint under /web/, for one) are not fuzzed here.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from server.app import create_app
from server.enrolment import issue_code
from server.storage import User
from server.timeutil import utc_iso
from tests.conftest import beneficiary

MAX_EXAMPLES = 25
#: Operations answered without a device token.
PUBLIC = {
    ("get", "/api/v1/health"),
    ("post", "/api/v1/enroll"),
    ("options", "/api/v1/attachments"),
}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
#: The WSGI transport does not inflate gzip answers as an HTTP client would (schemathesis
#: sends requests' `Accept-Encoding: gzip, deflate`); gzip answers are tested in test_api.
PLAIN = {"Accept-Encoding": "identity"}
BOUNDED = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def _hub() -> Flask:
    """A hub with no rate limits (the fuzzer calls far faster than a laptop or a person).
    Built when the module is collected: the operations to parametrize come from its spec."""
    return create_app(
        {
            "DATA_DIR": Path(tempfile.mkdtemp(prefix="pendamping-fuzz-")),
            "TESTING": True,
            "RATE_LIMIT_BURST": 0,
            "RATE_LIMIT_PER_S": 0,
            "ENROLL_FAILURES_MAX": 0,
        }
    )


APP = _hub()
#: tus PATCH bodies are raw bytes, as for application/octet-stream.
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")
#: Every operation of the spec; a route outside it (a web blueprint under /web/) is not fuzzed.
schema = schemathesis.openapi.from_wsgi("/openapi.json", APP).exclude(path_regex=r"^/web/")


@pytest.fixture(scope="module")
def fuzzed_app() -> Iterator[Flask]:
    yield APP
    APP.extensions["pendamping"].storage.close()
    shutil.rmtree(APP.config["DATA_DIR"], ignore_errors=True)


@pytest.fixture(scope="module")
def token(fuzzed_app: Flask) -> str:
    """A supervisor's device token, enrolled through the API (so conflicts answer 200)."""
    storage = fuzzed_app.extensions["pendamping"].storage
    storage.add_user(User("sari", "supervisor", ("31.71.01",)), utc_iso())
    client = fuzzed_app.test_client()
    enrolled = client.post(
        "/api/v1/enroll",
        json={"code": issue_code(storage, "sari", 24), "device_name": "laptop-sari"},
    )
    assert enrolled.status_code == 201, enrolled.get_json()
    body = enrolled.get_json()
    change = {
        "change_id": "00000000-0000-4000-8000-000000000001",
        "entity": "beneficiary",
        "record_id": "00000000-0000-4000-8000-000000000002",
        "base_seq": None,
        "fields": beneficiary(),
        "hlc": f"{1_732_345_678_901:016d}:000000:{body['device_id']}",
        "device_id": body["device_id"],
        "author_id": "sari",
    }
    pushed = client.post(
        "/api/v1/sync/push",
        json={"protocol": 1, "schema_version": 1, "changes": [change]},
        headers={"Authorization": f"Bearer {body['token']}"},
    )
    assert pushed.get_json()["receipts"][0]["status"] == "applied"
    return body["token"]


@schema.parametrize()
@BOUNDED
def test_every_operation_as_an_enrolled_laptop(case, token):
    case.call_and_validate(headers={**PLAIN, "Authorization": f"Bearer {token}"}, checks=CHECKS)


@schema.parametrize()
@BOUNDED
def test_every_operation_without_a_token(case, fuzzed_app):
    case.call_and_validate(headers=PLAIN, checks=CHECKS)


def test_the_spec_is_valid_and_lists_every_error_an_operation_can_answer(fuzzed_app):
    """No catch-all `default`: each operation names its statuses, every error with the
    hub's error body; a view behind a device token lists 401 and 429."""
    spec = fuzzed_app.test_client().get("/openapi.json").get_json()
    validate(spec)
    assert set(spec["components"]["schemas"]["Error"]["required"]) == {"code", "error", "message"}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            responses = operation["responses"]
            assert "default" not in responses, (method, path)
            assert {"400", "413", "415", "503"} <= set(responses), (method, path)
            if (method, path) not in PUBLIC:
                assert {"401", "429"} <= set(responses), (method, path)
            for status, response in responses.items():
                if int(status) >= 400:
                    ref = response["$ref"].rsplit("/", 1)[1]
                    content = spec["components"]["responses"][ref]["content"]
                    assert content["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/Error"
                    }
