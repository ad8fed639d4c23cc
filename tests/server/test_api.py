"""The hub's HTTP API through the Flask test client: enrolment, push, pull, and every refusal.

Every call goes through :class:`Api`, which fails the test on any 5xx and checks that every
error body carries `code`, `error` and `message`.
"""

from __future__ import annotations

import gzip
import itertools
import json
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import werkzeug.exceptions
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from schemas.error_codes import ErrorCode
from server.app import create_app
from server.enrolment import issue_code
from server.storage import HubStorage, User
from server.timeutil import utc_iso
from tests.conftest import KELURAHAN, beneficiary, visit

BASE_MS = 1_732_345_678_901
NEIGHBOUR_KELURAHAN = "31.71.02.1001"
PUSH = "/api/v1/sync/push"
PULL = "/api/v1/sync/pull"


def gz(payload: Any) -> bytes:
    return gzip.compress(json.dumps(payload).encode("utf-8"), mtime=0)


def batch(changes: list[dict[str, Any]]) -> dict[str, Any]:
    return {"protocol": 1, "schema_version": 1, "changes": changes}


def new_id() -> str:
    return str(uuid.uuid4())


def device_request(beneficiary_id: str, **overrides: Any) -> dict[str, Any]:
    data = {
        "beneficiary_id": beneficiary_id,
        "kelurahan": KELURAHAN,
        "device_type": "kursi_roda",
        "reason": "Tidak bisa berjalan sejak stroke.",
    }
    data.update(overrides)
    return data


@dataclass
class Api:
    """The test client, with the invariants every answer of the hub must keep."""

    client: FlaskClient

    def call(self, method: str, path: str, **kwargs: Any) -> TestResponse:
        response = self.client.open(path, method=method, **kwargs)
        assert response.status_code < 500, response.get_data(as_text=True)
        if response.status_code >= 400:
            assert response.mimetype == "application/json"
            body = json.loads(response.get_data())
            assert {"code", "error", "message"} <= set(body)
            assert body["code"] == response.status_code
        return response

    def enroll(self, code: str, device_name: str = "Laptop") -> TestResponse:
        return self.call("POST", "/api/v1/enroll", json={"code": code, "device_name": device_name})


@dataclass
class Laptop:
    """An enrolled device talking to the hub."""

    api: Api
    device_id: str
    token: str
    user: str
    _ticks: Iterator[int] = field(default_factory=itertools.count)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def change(
        self, entity: str, fields: dict[str, Any], record_id: str | None = None, **envelope: Any
    ) -> dict[str, Any]:
        """A change as the laptop would queue it, with a fresh HLC."""
        made = {
            "change_id": new_id(),
            "entity": entity,
            "record_id": record_id or new_id(),
            "base_seq": None,
            "fields": fields,
            "hlc": f"{BASE_MS + next(self._ticks):016d}:000000:{self.device_id}",
            "device_id": self.device_id,
            "author_id": self.user,
        }
        made.update(envelope)
        return made

    def push_body(self, body: bytes, **headers: str) -> TestResponse:
        return self.api.call(
            "POST",
            PUSH,
            data=body,
            headers={
                **self.auth,
                "Content-Type": "application/json",
                "Content-Encoding": "gzip",
                **headers,
            },
        )

    def push(self, changes: list[dict[str, Any]]) -> dict[str, Any]:
        response = self.push_body(gz(batch(changes)))
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def pull(self, **params: Any) -> TestResponse:
        return self.api.call("GET", PULL, query_string=params, headers=self.auth)

    def pull_all(self, limit: int = 500) -> list[dict[str, Any]]:
        records, since = [], 0
        while True:
            page = self.pull(since=since, limit=limit).get_json()
            records += page["records"]
            since = page["next"]
            if not page["more"]:
                return records


def enrol_on(api: Api, storage: HubStorage, name: str, role: str, wilayah: tuple[str, ...]):
    storage.add_user(User(name, role, wilayah), utc_iso())
    body = api.enroll(issue_code(storage, name, 24), f"laptop-{name}").get_json()
    return Laptop(api, body["device_id"], body["token"], name)


@pytest.fixture
def api(hub_app: Flask) -> Api:
    return Api(hub_app.test_client())


@pytest.fixture
def enrol(api: Api, add_user) -> Callable[..., Laptop]:
    """Add a user and enrol a laptop for it through the API."""

    def make(
        name: str = "ani", role: str = "pendamping", wilayah: tuple[str, ...] = ("31.71.01",)
    ) -> Laptop:
        response = api.enroll(add_user(name, role, wilayah), f"laptop-{name}")
        assert response.status_code == 201
        body = response.get_json()
        return Laptop(api, body["device_id"], body["token"], name)

    return make


@pytest.fixture
def ani(enrol) -> Laptop:
    """A pendamping scoped to kecamatan 31.71.01."""
    return enrol("ani")


@pytest.fixture
def dewi(enrol) -> Laptop:
    """Ani's colleague in the same kecamatan: she pulls what ani pushes (ani's own plain
    writes are not echoed back to ani)."""
    return enrol("dewi")


# -- health, docs, routing ------------------------------------------------------------------


def test_health_answers_ok_with_the_protocol_it_speaks(api: Api):
    response = api.call("GET", "/api/v1/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "protocol": 1, "schema_version": 1}


def test_openapi_lists_every_path(api: Api):
    spec = api.call("GET", "/openapi.json").get_json()
    assert set(spec["paths"]) == {
        "/api/v1/health",
        "/api/v1/enroll",
        "/api/v1/sync/push",
        "/api/v1/sync/pull",
        "/api/v1/conflicts",
        "/api/v1/conflicts/{conflict_id}/resolve",
        "/api/v1/attachments",
        "/api/v1/attachments/{upload_id}",
        "/api/v1/sync/receipts",
    }


def test_an_unknown_route_is_a_json_404(api: Api):
    response = api.call("GET", "/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_a_wrong_method_is_a_json_405(api: Api):
    response = api.call("GET", PUSH)
    assert response.status_code == 405
    assert response.get_json()["error"] == "method_not_allowed"


# -- enrolment ------------------------------------------------------------------------------


def test_enrolment_returns_a_device_token_and_the_users_scope(api: Api, add_user):
    response = api.enroll(add_user("ani", "pendamping", ("31.71.01",)), "Laptop Ani")
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"device_id", "token", "user", "role", "wilayah"}
    assert (body["user"], body["role"], body["wilayah"]) == ("ani", "pendamping", ["31.71.01"])
    assert len(body["token"]) >= 32
    uuid.UUID(body["device_id"])


@pytest.mark.parametrize(
    "retype",
    [
        str.lower,
        lambda code: code.replace("-", ""),
        lambda code: code.replace("-", " "),
        lambda code: f"  {code.lower().replace('-', '')}  ",
    ],
    ids=[
        "a code typed in lower case enrols",
        "a code typed without dashes enrols",
        "a code typed with spaces for dashes enrols",
        "a code typed in lower case without dashes and padded enrols",
    ],
)
def test_a_code_is_read_whatever_its_case_and_dashes(api: Api, add_user, retype):
    code = add_user("ani")
    assert api.enroll(retype(code)).status_code == 201


def test_a_used_code_is_refused_the_second_time(api: Api, add_user):
    code = add_user("ani")
    assert api.enroll(code, "Laptop 1").status_code == 201
    again = api.enroll(code, "Laptop 2")
    assert again.status_code == 403
    assert again.get_json()["error"] == "enroll_code_invalid"


def test_an_unknown_code_is_refused(api: Api, add_user):
    add_user("ani")
    refused = api.enroll("ABCD-EFGH-JKMN")
    assert (refused.status_code, refused.get_json()["error"]) == (403, "enroll_code_invalid")


@pytest.mark.parametrize("missing", ["code", "device_name"])
def test_enrolment_without_a_field_is_refused_naming_it(api: Api, add_user, missing):
    body = {"code": add_user("ani"), "device_name": "Laptop"}
    del body[missing]
    refused = api.call("POST", "/api/v1/enroll", json=body)
    assert refused.status_code == 422
    assert refused.get_json()["errors"] == {missing: ["Wajib diisi."]}


# -- authentication -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer ", "Bearer not-a-token", "Basic YW5pOnJhaGFzaWE=", "not-a-token"],
    ids=[
        "no header",
        "a bare Bearer",
        "an empty token",
        "an unknown token",
        "basic auth",
        "a token without a scheme",
    ],
)
@pytest.mark.parametrize(("method", "path"), [("POST", PUSH), ("GET", PULL)], ids=["push", "pull"])
def test_a_sync_call_without_a_valid_token_is_unauthorized(api: Api, ani, method, path, header):
    headers = {"Authorization": header} if header is not None else {}
    body = gz(batch([])) if method == "POST" else None
    if body is not None:
        headers["Content-Encoding"] = "gzip"
        headers["Content-Type"] = "application/json"
    response = api.call(method, path, data=body, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"


# -- push -----------------------------------------------------------------------------------


def test_a_valid_batch_returns_one_receipt_per_change_in_order(ani: Laptop, hub_storage):
    first = ani.change("beneficiary", beneficiary(nik=None, name="Pak Budi", sex="L"))
    second = ani.change("beneficiary", beneficiary())
    follow = ani.change("visit", visit(second["record_id"], kelurahan=KELURAHAN))
    before = utc_iso()
    result = ani.push([first, second, follow])
    # the hub's time of receipt (issue 13 item 7), by the hub's clock, in the hub's format
    assert before <= result.pop("received_at") <= utc_iso()
    assert result == {
        "receipts": [
            {"change_id": first["change_id"], "status": "applied", "seq": 1},
            {"change_id": second["change_id"], "status": "applied", "seq": 2},
            {"change_id": follow["change_id"], "status": "applied", "seq": 3},
        ],
        "duplicates": 0,
    }
    assert hub_storage.stats()["records"] == {"beneficiary": 2, "visit": 1, "device_request": 0}


def test_an_empty_batch_returns_no_receipts(ani: Laptop):
    assert ani.push([]) == {"receipts": [], "duplicates": 0}


def test_a_plain_json_batch_is_accepted_too(ani: Laptop):
    change = ani.change("beneficiary", beneficiary())
    response = ani.api.call("POST", PUSH, json=batch([change]), headers=ani.auth)
    assert response.get_json()["receipts"][0]["status"] == "applied"


@pytest.fixture
def mixed_batch(ani: Laptop) -> list[dict[str, Any]]:
    """One valid change, then four that are wrong in four different ways."""
    valid = ani.change("beneficiary", beneficiary())
    bad_nik = ani.change("beneficiary", beneficiary(nik="3171014508450000"))
    unknown = ani.change("beneficiary", beneficiary(hobi="memancing"))
    outside = ani.change("beneficiary", beneficiary(kelurahan=NEIGHBOUR_KELURAHAN))
    broken = ani.change("beneficiary", beneficiary())
    del broken["hlc"]
    return [valid, bad_nik, unknown, outside, broken]


def test_a_mixed_batch_applies_the_valid_change_and_names_each_fault(
    ani: Laptop, dewi: Laptop, mixed_batch, hub_storage
):
    receipts = ani.push(mixed_batch)["receipts"]
    assert [r["status"] for r in receipts] == ["applied"] + ["rejected"] * 4
    assert [r["change_id"] for r in receipts] == [c["change_id"] for c in mixed_batch]
    assert list(receipts[1]["errors"]) == ["nik"]
    assert receipts[2]["errors"] == {"hobi": ["Isian tidak dikenal."]}
    assert list(receipts[3]["errors"]) == ["kelurahan"]
    assert NEIGHBOUR_KELURAHAN in receipts[3]["errors"]["kelurahan"][0]
    assert list(receipts[4]["errors"]) == ["hlc"]
    assert hub_storage.stats()["records"]["beneficiary"] == 1
    assert [r["id"] for r in dewi.pull_all()] == [mixed_batch[0]["record_id"]]


@pytest.mark.parametrize("junk", [5, "change", ["a", "list"]], ids=["a number", "text", "a list"])
def test_a_change_that_is_not_an_object_is_rejected_alone(ani: Laptop, junk):
    valid = ani.change("beneficiary", beneficiary())
    receipts = ani.push([junk, valid])["receipts"]
    assert receipts[0]["status"] == "rejected"
    assert receipts[0]["change_id"] is None
    assert receipts[1]["status"] == "applied"


def test_a_resent_batch_returns_the_original_receipts(ani: Laptop, mixed_batch, hub_storage):
    body = gz(batch(mixed_batch))
    first = ani.push_body(body).get_data(as_text=True)
    stats = hub_storage.stats()

    again = ani.push_body(body).get_data(as_text=True)

    def receipts_text(text: str) -> str:
        return text[: text.rindex(',"duplicates":')]

    assert receipts_text(again) == receipts_text(first)
    assert json.loads(first)["duplicates"] == 0
    assert json.loads(again)["duplicates"] == 4  # the envelope-broken change was never stored
    assert hub_storage.stats() == stats


def test_a_change_sent_twice_in_one_batch_is_applied_once(ani: Laptop, hub_storage):
    change = ani.change("beneficiary", beneficiary())
    result = ani.push([change, change])
    assert result["receipts"][0] == result["receipts"][1]
    assert result["duplicates"] == 1
    assert hub_storage.stats()["changes"] == 1


def test_a_change_whose_device_id_is_not_the_callers_is_rejected_naming_device_id(
    ani: Laptop, enrol
):
    budi = enrol("budi")
    forged = ani.change("beneficiary", beneficiary(), device_id=budi.device_id)
    (receipt,) = ani.push([forged])["receipts"]
    assert receipt["status"] == "rejected"
    assert list(receipt["errors"]) == ["device_id"]


def test_a_server_field_in_a_change_is_rejected_naming_it(ani: Laptop):
    change = ani.change("beneficiary", {**beneficiary(), "created_at": "2026-01-01T00:00:00Z"})
    (receipt,) = ani.push([change])["receipts"]
    assert receipt["status"] == "rejected"
    assert list(receipt["errors"]) == ["created_at"]


def test_an_unknown_programme_is_rejected_naming_programs(ani: Laptop):
    (receipt,) = ani.push([ani.change("beneficiary", beneficiary(programs=["KLJ", "BLT"]))])[
        "receipts"
    ]
    assert receipt["status"] == "rejected"
    assert list(receipt["errors"]) == ["programs"]
    assert "BLT" in receipt["errors"]["programs"][0]


def test_a_record_id_reused_for_another_entity_is_rejected_naming_record_id(ani: Laptop):
    person = ani.change("beneficiary", beneficiary())
    reuse = ani.change(
        "visit", visit(person["record_id"], kelurahan=KELURAHAN), record_id=person["record_id"]
    )
    first, second = ani.push([person, reuse])["receipts"]
    assert first["status"] == "applied"
    assert second["status"] == "rejected"
    assert list(second["errors"]) == ["record_id"]


def test_an_update_of_a_record_outside_the_wilayah_is_rejected(ani: Laptop, enrol):
    budi = enrol("budi", wilayah=("31.71.02",))
    theirs = budi.change("beneficiary", beneficiary(kelurahan=NEIGHBOUR_KELURAHAN))
    budi.push([theirs])
    update = ani.change("beneficiary", {"phone": "0812-0000-0000"}, record_id=theirs["record_id"])
    (receipt,) = ani.push([update])["receipts"]
    assert receipt["status"] == "rejected"
    assert list(receipt["errors"]) == ["kelurahan"]


def test_a_late_edit_with_an_older_clock_loses_and_is_kept_as_a_conflict(
    ani: Laptop, enrol, hub_storage
):
    dewi = enrol("dewi")
    created = ani.change("beneficiary", beneficiary())
    base = ani.push([created])["receipts"][0]["seq"]
    newer = dewi.change(
        "beneficiary", {"address": "Jl. Mawar 1"}, created["record_id"], base_seq=base
    )
    newer["hlc"] = f"{BASE_MS + 1000:016d}:000000:{dewi.device_id}"
    older = ani.change("beneficiary", {"address": "Jl. Melati 3"}, created["record_id"])
    assert dewi.push([newer])["receipts"][0]["status"] == "applied"

    (receipt,) = ani.push([older])["receipts"]

    assert receipt["status"] == "conflict"
    assert receipt["seq"] > base
    assert hub_storage.stats()["open_conflicts"] == 1
    (record,) = ani.pull_all()
    assert record["data"]["address"] == "Jl. Mawar 1"


# -- device requests ------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["diverifikasi", "disetujui", "diserahkan", "ditolak"])
def test_a_new_device_request_must_start_as_diajukan(ani: Laptop, status):
    (receipt,) = ani.push([ani.change("device_request", device_request(new_id(), status=status))])[
        "receipts"
    ]
    assert receipt["status"] == "rejected"
    assert list(receipt["errors"]) == ["status"]


@pytest.mark.parametrize(
    ("path", "last_status"),
    [
        (["diverifikasi", "disetujui", "diserahkan"], "applied"),
        (["diverifikasi", "ditolak"], "applied"),
        (["diverifikasi", "disetujui", "dibatalkan"], "applied"),
        (["diserahkan"], "rejected"),
        (["disetujui"], "rejected"),
        (["diverifikasi", "disetujui", "ditolak"], "rejected"),
        (["dibatalkan", "diajukan"], "rejected"),
        (["diverifikasi", "disetujui", "diserahkan", "dibatalkan"], "rejected"),
    ],
    ids=[
        "a request goes from diajukan to diserahkan step by step",
        "a verified request may be refused",
        "an approved request may be cancelled",
        "a request cannot be handed over before approval",
        "a request cannot be approved before verification",
        "an approved request cannot be refused",
        "a cancelled request cannot come back",
        "a handed-over request cannot be cancelled",
    ],
)
def test_a_device_request_moves_only_along_its_lifecycle(enrol, path, last_status):
    office = enrol("kepala", role="admin", wilayah=())  # an admin may make every transition
    created = office.change("device_request", device_request(new_id()))
    steps = [
        office.change("device_request", {"status": status}, record_id=created["record_id"])
        for status in path
    ]
    receipts = office.push([created, *steps])["receipts"]
    assert [r["status"] for r in receipts[:-1]] == ["applied"] * len(path)
    assert receipts[-1]["status"] == last_status
    if last_status == "rejected":
        assert list(receipts[-1]["errors"]) == ["status"]


# -- wire faults ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"this is not gzip", gz(batch([]))[:-9], b"\x1f\x8b\x08\x00garbage", b""],
    ids=[
        "plain text called gzip",
        "a truncated gzip stream",
        "a gzip header then garbage",
        "an empty body called gzip",
    ],
)
def test_a_malformed_gzip_body_is_a_400_bad_gzip(ani: Laptop, body):
    response = ani.push_body(body)
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_gzip"


@pytest.fixture
def small_hub(tmp_path: Path) -> Iterator[tuple[Api, HubStorage]]:
    app = create_app({"DATA_DIR": tmp_path / "small", "MAX_CONTENT_LENGTH": 1_000_000})
    storage = app.extensions["pendamping"].storage
    yield Api(app.test_client()), storage
    storage.close()


def zeros_gzipped(megabytes: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = bytes(1_000_000)
    return b"".join(packer.compress(chunk) for _ in range(megabytes)) + packer.flush()


def test_a_gzip_bomb_is_refused_with_413_and_writes_nothing(small_hub):
    api, storage = small_hub
    laptop = enrol_on(api, storage, "ani", "pendamping", ("31.71.01",))
    bomb = zeros_gzipped(100)
    assert len(bomb) < 1_000_000
    response = laptop.push_body(bomb)
    assert response.status_code == 413
    assert response.get_json()["error"] == "too_large"
    assert storage.stats()["changes"] == 0


def test_a_batch_just_under_the_limit_is_accepted(small_hub):
    api, storage = small_hub
    laptop = enrol_on(api, storage, "ani", "pendamping", ("31.71.01",))
    changes = [laptop.change("beneficiary", beneficiary()) for _ in range(50)]
    assert len(json.dumps(batch(changes))) < 1_000_000
    assert len(laptop.push(changes)["receipts"]) == 50


def test_invalid_json_is_a_400(ani: Laptop):
    response = ani.push_body(gzip.compress(b'{"protocol": 1, "changes": [', mtime=0))
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request"
    assert response.get_json()["errors"] == {"json": ["Badan permintaan bukan JSON yang sah."]}
    assert response.get_json()["message"] == "Permintaan tidak dapat dibaca."


def test_every_plain_http_error_has_an_indonesian_message(hub_app):
    from server.errors import _MESSAGES, answer

    assert {code for code in ErrorCode if code.generic} <= _MESSAGES.keys()
    with hub_app.test_request_context():
        teapot = answer(werkzeug.exceptions.ImATeapot()).get_json()
        busy = answer(werkzeug.exceptions.ServiceUnavailable()).get_json()
    assert teapot["message"] == "Permintaan tidak dapat dilayani (HTTP 418)."
    assert busy["message"] == "Hub sedang tidak dapat melayani; coba lagi nanti."


def test_a_batch_without_its_envelope_fields_is_refused_naming_them(ani: Laptop):
    response = ani.push_body(gz({"changes": []}))
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"protocol", "schema_version"}


@pytest.mark.parametrize("encoding", ["br", "deflate", "compress"])
def test_a_body_in_another_encoding_is_refused_with_415(ani: Laptop, encoding):
    response = ani.push_body(b"\x8b\x05\x80{}\x03", **{"Content-Encoding": encoding})
    assert response.status_code == 415
    assert response.get_json()["error"] == "unsupported_encoding"


# -- pull -----------------------------------------------------------------------------------


def test_pull_pages_return_every_record_once_in_seq_order(ani: Laptop, dewi: Laptop):
    changes = [ani.change("beneficiary", beneficiary(name=f"Penerima {n}")) for n in range(11)]
    ani.push(changes)
    seen, since, pages = [], 0, 0
    while True:
        page = dewi.pull(since=since, limit=3).get_json()
        pages += 1
        assert len(page["records"]) <= 3
        seen += page["records"]
        since = page["next"]
        if not page["more"]:
            break
    assert pages == 4
    assert [r["id"] for r in seen] == [c["record_id"] for c in changes]
    assert [r["seq"] for r in seen] == list(range(1, 12))
    assert seen[0]["data"]["name"] == "Penerima 0"
    assert seen[0]["deleted"] is False


def test_a_pulled_record_carries_its_state_and_hub_timestamps(ani: Laptop, dewi: Laptop):
    change = ani.change("beneficiary", beneficiary())
    ani.push([change])
    (record,) = dewi.pull().get_json()["records"]
    assert (record["entity"], record["id"], record["hlc"]) == (
        "beneficiary",
        change["record_id"],
        change["hlc"],
    )
    assert {k: record["data"][k] for k in beneficiary()} == beneficiary()
    assert {"created_at", "updated_at"} <= set(record["data"])


def test_an_update_moves_a_record_to_the_end_of_the_pull(ani: Laptop, dewi: Laptop):
    first = ani.change("beneficiary", beneficiary())
    second = ani.change("beneficiary", beneficiary(name="Pak Budi", sex="L", nik=None))
    ani.push([first, second])
    ani.push([ani.change("beneficiary", {"phone": "0812-1111-2222"}, first["record_id"])])
    records = dewi.pull_all()
    assert [r["id"] for r in records] == [second["record_id"], first["record_id"]]
    assert records[-1]["data"]["phone"] == "0812-1111-2222"


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"since": -1}, "since"),
        ({"since": "kemarin"}, "since"),
        ({"limit": 0}, "limit"),
        ({"limit": 10**9}, "limit"),
        ({"limit": "semua"}, "limit"),
    ],
    ids=[
        "a negative since is refused",
        "a since that is not a number is refused",
        "a limit of zero is refused",
        "a limit of a billion is refused",
        "a limit that is not a number is refused",
    ],
)
def test_a_bad_pull_parameter_is_refused_naming_it(ani: Laptop, params, named):
    response = ani.pull(**params)
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == [named]


@pytest.fixture
def two_kecamatan(ani: Laptop, enrol) -> tuple[str, str]:
    """A record in 31.71.01 pushed by ani, one in 31.71.02 pushed by budi; their ids."""
    budi = enrol("budi", wilayah=("31.71.02",))
    mine = ani.change("beneficiary", beneficiary())
    theirs = budi.change(
        "beneficiary", beneficiary(kelurahan=NEIGHBOUR_KELURAHAN, nik="3171024508450002")
    )
    assert ani.push([mine])["receipts"][0]["status"] == "applied"
    assert budi.push([theirs])["receipts"][0]["status"] == "applied"
    return mine["record_id"], theirs["record_id"]


def test_a_pendamping_pulls_nothing_of_another_kecamatan(ani: Laptop, enrol, two_kecamatan):
    mine, theirs = two_kecamatan
    cici = enrol("cici", wilayah=("31.71.02",))
    dewi = enrol("dewi")
    assert [r["id"] for r in cici.pull_all()] == [theirs]
    assert [r["id"] for r in dewi.pull_all()] == [mine]
    assert [r["id"] for r in ani.pull_all()] == [mine]


def test_an_admin_pulls_everything(enrol, two_kecamatan):
    admin = enrol("kantor", role="admin", wilayah=())
    assert [r["id"] for r in admin.pull_all()] == list(two_kecamatan)


def test_a_supervisor_of_the_kota_pulls_both_kecamatan(enrol, two_kecamatan):
    supervisor = enrol("sari", role="supervisor", wilayah=("31.71",))
    assert [r["id"] for r in supervisor.pull_all()] == list(two_kecamatan)


def test_a_supervisor_of_another_kota_pulls_nothing(enrol, two_kecamatan):
    supervisor = enrol("sari", role="supervisor", wilayah=("31.72",))
    assert supervisor.pull_all() == []


def test_a_large_response_is_gzipped_when_the_client_accepts_it(ani: Laptop, dewi: Laptop):
    ani.push([ani.change("beneficiary", beneficiary(name=f"Penerima {n}")) for n in range(20)])
    zipped = dewi.api.call("GET", PULL, headers={**dewi.auth, "Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    page = json.loads(gzip.decompress(zipped.get_data()))
    assert len(page["records"]) == 20

    plain = dewi.pull()
    assert "Content-Encoding" not in plain.headers
    assert json.loads(plain.get_data()) == page


def test_a_small_response_is_not_gzipped(api: Api):
    response = api.call("GET", "/api/v1/health", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in response.headers


# -- known faults ---------------------------------------------------------------------------


def test_a_change_stamped_beyond_year_9999_does_not_sink_its_batch(ani: Laptop):
    good = ani.change("beneficiary", beneficiary())
    future = ani.change(
        "beneficiary", beneficiary(), hlc=f"9999999999999999:000000:{ani.device_id}"
    )
    receipts = ani.push([good, future])["receipts"]
    assert receipts[0]["status"] == "applied"
    assert receipts[1]["status"] == "rejected"


def test_a_since_beyond_the_largest_sqlite_integer_is_refused_naming_it(ani: Laptop):
    response = ani.pull(since=10**20)
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["since"]


def test_a_pendamping_without_a_wilayah_sees_nothing(enrol, two_kecamatan):
    nobody = enrol("lina", role="pendamping", wilayah=())
    assert nobody.pull_all() == []


def test_a_change_refused_for_one_item_of_a_list_is_rejected_alone(ani: Laptop):
    bad = ani.change("beneficiary", beneficiary(programs=["klj"]))
    good = ani.change("beneficiary", beneficiary())
    receipts = ani.push([bad, good])["receipts"]
    assert receipts[0]["status"] == "rejected"
    assert list(receipts[0]["errors"]) == ["programs"]
    assert receipts[1]["status"] == "applied"


def test_a_null_change_in_a_batch_is_not_a_server_error(ani: Laptop):
    response = ani.push_body(gz(batch([None, ani.change("beneficiary", beneficiary())])))
    assert response.status_code in (200, 422)


def test_a_concurrent_edit_overwritten_by_a_later_clock_is_kept_as_a_conflict(
    ani: Laptop, enrol, hub_storage
):
    dewi = enrol("dewi")
    created = ani.change("beneficiary", beneficiary())
    base = ani.push([created])["receipts"][0]["seq"]
    early = ani.change(
        "beneficiary", {"address": "Jl. Melati 3"}, created["record_id"], base_seq=base
    )
    late = dewi.change(
        "beneficiary", {"address": "Jl. Mawar 1"}, created["record_id"], base_seq=base
    )
    late["hlc"] = f"{BASE_MS + 1000:016d}:000000:{dewi.device_id}"
    assert ani.push([early])["receipts"][0]["status"] == "applied"
    dewi.push([late])
    assert hub_storage.stats()["open_conflicts"] == 1
