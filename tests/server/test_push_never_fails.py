"""A push never makes the hub fail: whatever a batch carries, the answer is a 4xx or receipts.

A Hypothesis property throws batches of valid changes mixed with changes full of values JSON
or the hub cannot hold (integers past 64 bits, NaN, infinities, lone surrogates, nesting a
few hundred deep) and damaged envelopes at the hub, through the Flask test client; then a
few fixed cases: the hub's checks of a visit against its beneficiary, and bodies the hub
must refuse whole.
"""

from __future__ import annotations

import gzip
import itertools
import json
import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import TestResponse

from server.app import create_app
from server.enrolment import issue_code
from server.storage import User
from server.timeutil import utc_iso
from tests.conftest import KELURAHAN, OTHER_KELURAHAN, beneficiary, visit

BASE_MS = 1_732_345_678_901
PUSH = "/api/v1/sync/push"
PULL = "/api/v1/sync/pull"


def new_id() -> str:
    return str(uuid.uuid4())


def checked(response: TestResponse) -> TestResponse:
    """The invariants of every answer: never a 5xx, and every error is the JSON error body."""
    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code >= 400:
        assert response.mimetype == "application/json"
        body = json.loads(response.get_data())
        assert {"code", "error", "message"} <= set(body)
        assert body["code"] == response.status_code
    return response


@dataclass
class Laptop:
    """An enrolled device speaking the protocol by hand (a small copy of test_api's)."""

    client: FlaskClient
    device_id: str
    token: str
    user: str
    ticks: Iterator[int] = field(default_factory=itertools.count)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def change(
        self, entity: str, fields: dict[str, Any], record_id: str | None = None
    ) -> dict[str, Any]:
        return {
            "change_id": new_id(),
            "entity": entity,
            "record_id": record_id or new_id(),
            "base_seq": None,
            "fields": fields,
            "hlc": f"{BASE_MS + next(self.ticks):016d}:000000:{self.device_id}",
            "device_id": self.device_id,
            "author_id": self.user,
        }

    def push_body(self, body: bytes, gzipped: bool = True) -> TestResponse:
        headers = {**self.auth, "Content-Type": "application/json"}
        if gzipped:
            headers["Content-Encoding"] = "gzip"
        return checked(self.client.post(PUSH, data=body, headers=headers))

    def push(self, changes: list[Any]) -> list[dict[str, Any]]:
        body = {"protocol": 1, "schema_version": 1, "changes": changes}
        response = self.push_body(gzip.compress(json.dumps(body).encode(), mtime=0))
        assert response.status_code == 200, response.get_json()
        return response.get_json()["receipts"]

    def pull(self, **params: Any) -> TestResponse:
        return checked(self.client.get(PULL, query_string=params, headers=self.auth))


def enrol(app: Flask, name: str, wilayah: tuple[str, ...]) -> Laptop:
    storage = app.extensions["pendamping"].storage
    storage.add_user(User(name, "pendamping", wilayah), utc_iso())
    client = app.test_client()
    response = client.post(
        "/api/v1/enroll",
        json={"code": issue_code(storage, name, 24), "device_name": f"laptop-{name}"},
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    return Laptop(client, body["device_id"], body["token"], name)


# -- JSON text the stdlib would not write ------------------------------------------------------


@dataclass(frozen=True)
class Deep:
    """`value` inside `levels` lists or objects: written out flat, never recursed into."""

    levels: int
    value: Any
    objects: bool


@dataclass(frozen=True)
class RawText:
    """A string written into the body unescaped, lone surrogates and all."""

    text: str


def dump(value: Any) -> str:
    """JSON text for `value`, writing what json.dumps refuses or rewrites: NaN, Infinity,
    integers of any size, lone surrogates as `\\ud800` escapes (or raw, see RawText)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # ensure_ascii: a lone surrogate becomes "\ud800"
    if isinstance(value, RawText):
        return '"' + value.text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, Deep):
        if value.objects:
            return '{"d":' * value.levels + dump(value.value) + "}" * value.levels
        return "[" * value.levels + dump(value.value) + "]" * value.levels
    if isinstance(value, list):
        return "[" + ",".join(dump(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{dump(k)}:{dump(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


SURROGATES = st.characters(categories=["Cs"])
SAFE_TEXT = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "31.71.01.1001", "kursi_roda", "\x00", "🦽", "a" * 300]),
)
#: Values JSON carries but the hub must not store: past 64 bits, or nested past its encoder.
ODD_LEAVES = st.one_of(
    st.integers(),
    st.sampled_from(
        [2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 10**20, -(10**30)]
    ),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e308, -0.0, 5e-324]),
)
#: Values that make the whole body unreadable: NaN, infinities, lone surrogates.
POISON = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf]),
    st.builds(lambda a, s, b: a + s + b, st.text(max_size=4), SURROGATES, st.text(max_size=4)),
    st.builds(RawText, st.builds(lambda s: f"x{s}", SURROGATES)),
)
TEXT = st.one_of(SAFE_TEXT, st.builds(RawText, SAFE_TEXT))
LEAVES = st.integers(0, 15).flatmap(
    lambda n: POISON if n == 0 else st.one_of(st.none(), st.booleans(), ODD_LEAVES, TEXT)
)
DEPTHS = st.one_of(st.integers(1, 8), st.integers(250, 300))
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(TEXT, inner, max_size=4),
        st.builds(Deep, DEPTHS, inner, st.booleans()),
    ),
    max_leaves=12,
)
FIELD_NAMES = st.one_of(
    st.sampled_from(
        [
            "name", "nik", "kelurahan", "sex", "birth_date", "programs", "categories",
            "address", "phone", "beneficiary_id", "visited_at", "purpose", "findings",
            "assessment", "follow_up", "lat", "lon", "attachments", "created_at",
        ]
    ),
    TEXT,
)  # fmt: skip
ENVELOPE_KEYS = [
    "change_id", "entity", "record_id", "base_seq", "fields", "hlc", "device_id", "author_id",
]  # fmt: skip


@st.composite
def batches(draw, laptop: Laptop) -> tuple[list[Any], list[bool], str | None]:
    """Changes, whether each is certainly valid, and the batch-level damage (or None)."""
    changes: list[Any] = []
    valid: list[bool] = []
    owners: list[str] = []
    kinds = ["beneficiary", "visit", "odd value", "junk fields", "junk change"]
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(kinds))
        if kind == "odd value":
            # Valid but for one value: a record the hub takes only if JSON carries it whole.
            odd = draw(
                st.one_of(
                    st.fixed_dictionaries(
                        {"assessment": st.dictionaries(TEXT, VALUES, max_size=3)}
                    ),
                    st.fixed_dictionaries({"findings": VALUES}),
                )
            )
            changes.append(laptop.change("visit", visit(new_id(), kelurahan=KELURAHAN, **odd)))
            valid.append(False)
            continue
        if kind == "junk fields":
            entity = draw(st.sampled_from(["beneficiary", "visit"]))
            base = (
                beneficiary() if entity == "beneficiary" else visit(new_id(), kelurahan=KELURAHAN)
            )
            fields = {} if draw(st.booleans()) else base
            fields.update(draw(st.dictionaries(FIELD_NAMES, VALUES, min_size=1, max_size=3)))
            changes.append(laptop.change(entity, fields))
            valid.append(False)
            continue
        if kind == "junk change":
            changes.append(draw(VALUES))
            valid.append(False)
            continue
        if kind == "beneficiary" or not owners:
            change = laptop.change("beneficiary", beneficiary(nik=None))
            owners.append(change["record_id"])
        else:
            owner = draw(st.sampled_from(owners))
            change = laptop.change("visit", visit(owner, kelurahan=KELURAHAN))
        damage = draw(st.sampled_from([None, None, None, "drop", "replace", "extra", "device"]))
        if damage == "drop":
            del change[draw(st.sampled_from(ENVELOPE_KEYS))]
        elif damage == "replace":
            change[draw(st.sampled_from(ENVELOPE_KEYS))] = draw(VALUES)
        elif damage == "extra":
            change[draw(TEXT.filter(lambda k: k not in ENVELOPE_KEYS))] = draw(VALUES)
        elif damage == "device":
            change["device_id"] = new_id()
        changes.append(change)
        valid.append(damage is None)
    batch_damage = draw(
        st.sampled_from(
            [None] * 6
            + ["protocol", "changes", "extra", "truncate", "garbage", "deep", "raw surrogate"]
        )
    )
    return changes, valid, batch_damage


def encode(draw, changes: list[Any], damage: str | None) -> bytes:
    envelope: dict[str, Any] = {"protocol": 1, "schema_version": 1, "changes": changes}
    if damage == "protocol":
        envelope["protocol"] = draw(VALUES)
    elif damage == "changes":
        envelope["changes"] = draw(VALUES)
    elif damage == "extra":
        envelope[draw(TEXT.filter(lambda k: k not in envelope))] = draw(VALUES)
    elif damage == "deep":
        envelope["changes"] = [*changes, Deep(draw(st.integers(1025, 3000)), None, False)]
    elif damage == "raw surrogate":
        envelope["changes"] = [*changes, {"fields": RawText("\ud800")}]
    text = dump(envelope)
    if damage == "truncate":
        text = text[: draw(st.integers(0, max(len(text) - 1, 0)))]
    elif damage == "garbage":
        text += draw(st.sampled_from(["x", "]", "}{", "\x00", " 1"]))
    return text.encode("utf-8", "surrogatepass")


def reads_as_json(body: bytes) -> bool:
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
    return True


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, Laptop, Laptop]]:
    """A hub, the laptop that pushes, and a colleague's that reads (a laptop's own plain
    writes are not echoed back to it)."""
    app = create_app({"DATA_DIR": tmp_path_factory.mktemp("fuzzed-hub"), "TESTING": True})
    yield app, enrol(app, "ani", ("31.71.01",)), enrol(app, "dewi", ("31.71.01",))
    app.extensions["pendamping"].storage.close()


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_a_push_is_never_a_server_error_and_valid_changes_always_apply(hub, data):
    app, laptop, reader = hub
    storage = app.extensions["pendamping"].storage
    changes, valid, damage = data.draw(batches(laptop))
    body = encode(data.draw, changes, damage)
    gzipped = data.draw(st.booleans())
    last_seq = storage.stats()["last_seq"]

    response = laptop.push_body(gzip.compress(body, mtime=0) if gzipped else body, gzipped)

    if damage is None and reads_as_json(body) and None not in changes:
        # One bad change never sinks its batch (a null change does: a 422, as test_api allows).
        assert response.status_code == 200, response.get_json()
    if response.status_code != 200 or damage is not None:
        return
    receipts = response.get_json()["receipts"]
    assert len(receipts) == len(changes)
    as_read = orjson.loads(body)["changes"]  # the changes as the hub read them
    for change, is_valid, receipt in zip(as_read, valid, receipts, strict=True):
        sent_id = change.get("change_id") if isinstance(change, dict) else None
        assert receipt["change_id"] == (sent_id if isinstance(sent_id, str) else None)
        if is_valid:
            assert receipt["status"] == "applied", receipt
    # What the hub took, it can serve back.
    page = reader.pull(since=last_seq, limit=5000)
    assert page.status_code == 200
    served = {r["id"] for r in page.get_json()["records"]}
    assert {c["record_id"] for c, ok in zip(changes, valid, strict=True) if ok} <= served


# -- a visit and its beneficiary, at the hub ---------------------------------------------------


@pytest.fixture
def kota(hub_app: Flask) -> Laptop:
    """A laptop whose wilayah is the whole kota, so only the beneficiary can refuse a visit."""
    return enrol(hub_app, "sari", ("31.71",))


def test_a_visit_in_another_kelurahan_than_its_beneficiary_is_rejected(kota: Laptop, hub_storage):
    owner = kota.change("beneficiary", beneficiary())
    stray = kota.change("visit", visit(owner["record_id"], kelurahan=OTHER_KELURAHAN))

    first, second = kota.push([owner, stray])

    assert first["status"] == "applied"
    assert second["status"] == "rejected"
    assert list(second["errors"]) == ["kelurahan"]
    assert KELURAHAN in second["errors"]["kelurahan"][0]
    assert hub_storage.stats()["records"]["visit"] == 0


def test_moving_a_visit_away_from_a_beneficiary_in_the_same_batch_is_rejected(kota: Laptop):
    owner = kota.change("beneficiary", beneficiary())
    made = kota.change("visit", visit(owner["record_id"], kelurahan=KELURAHAN))
    moved = kota.change("visit", {"kelurahan": OTHER_KELURAHAN}, record_id=made["record_id"])

    receipts = kota.push([owner, made, moved])

    assert [r["status"] for r in receipts] == ["applied", "applied", "rejected"]
    assert list(receipts[2]["errors"]) == ["kelurahan"]


def test_moving_a_visit_away_from_a_beneficiary_the_hub_holds_is_rejected(kota: Laptop):
    owner = kota.change("beneficiary", beneficiary())
    made = kota.change("visit", visit(owner["record_id"], kelurahan=KELURAHAN))
    assert [r["status"] for r in kota.push([owner, made])] == ["applied", "applied"]

    (receipt,) = kota.push(
        [kota.change("visit", {"kelurahan": OTHER_KELURAHAN}, record_id=made["record_id"])]
    )

    assert receipt["status"] == "rejected"
    assert list(receipt["errors"]) == ["kelurahan"]


def test_a_visit_whose_beneficiary_id_is_a_visit_is_rejected(kota: Laptop, hub_storage):
    owner = kota.change("beneficiary", beneficiary())
    first = kota.change("visit", visit(owner["record_id"], kelurahan=KELURAHAN))
    assert [r["status"] for r in kota.push([owner, first])] == ["applied", "applied"]

    (receipt,) = kota.push([kota.change("visit", visit(first["record_id"], kelurahan=KELURAHAN))])

    assert receipt["status"] == "rejected"
    assert list(receipt["errors"]) == ["beneficiary_id"]
    assert hub_storage.stats()["records"]["visit"] == 1


def test_a_visit_whose_beneficiary_the_hub_does_not_hold_yet_is_applied(
    kota: Laptop, hub_app: Flask
):
    elsewhere = new_id()  # made on another laptop, still on its way
    change = kota.change("visit", visit(elsewhere, kelurahan=OTHER_KELURAHAN))

    (receipt,) = kota.push([change])

    assert receipt["status"] == "applied"
    (record,) = enrol(hub_app, "dewi", ("31.71",)).pull().get_json()["records"]
    assert (record["id"], record["data"]["beneficiary_id"]) == (change["record_id"], elsewhere)


# -- values the hub cannot hold ---------------------------------------------------------------


def nested(levels: int) -> dict[str, Any]:
    value: Any = "dasar"
    for _ in range(levels):
        value = {"d": value}
    return value


@pytest.fixture
def ani(hub_app: Flask) -> Laptop:
    return enrol(hub_app, "ani", ("31.71.01",))


@pytest.mark.parametrize(
    "value",
    [nested(300), [nested(7)], 2**63, 2**64 - 1],
    ids=[
        "an object 300 deep",
        "an object seven deep in a list",
        "an integer of 2**63",
        "an integer of 2**64-1",
    ],
)
def test_a_value_the_hub_cannot_hold_is_rejected_naming_its_field(ani: Laptop, hub_storage, value):
    odd = ani.change("visit", visit(new_id(), kelurahan=KELURAHAN, assessment={"k": value}))
    good = ani.change("beneficiary", beneficiary())

    first, second = ani.push([odd, good])

    assert (first["status"], list(first.get("errors", {}))) == ("rejected", ["assessment"])
    assert second["status"] == "applied"
    assert hub_storage.stats()["records"] == {"beneficiary": 1, "visit": 0, "device_request": 0}


@pytest.mark.parametrize("value", [2**64, -(2**63) - 1], ids=["2**64", "-2**63-1"])
def test_an_integer_past_64_bits_is_rejected_not_stored_as_a_float(ani: Laptop, value):
    (receipt,) = ani.push(
        [ani.change("visit", visit(new_id(), kelurahan=KELURAHAN, assessment={"k": value}))]
    )
    assert receipt["status"] == "rejected"
    assert list(receipt["errors"]) == ["assessment"]


# -- bodies and queries refused whole --------------------------------------------------------


@pytest.mark.parametrize("since", [2**63, 2**64, 10**30], ids=["2**63", "2**64", "10**30"])
def test_a_since_beyond_the_largest_sqlite_integer_is_refused_naming_since(ani: Laptop, since):
    response = ani.pull(since=since)
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["since"]


def test_the_largest_since_is_accepted(ani: Laptop):
    response = ani.pull(since=2**63 - 1)
    assert response.status_code == 200
    assert response.get_json()["records"] == []


@pytest.mark.parametrize("gzipped", [True, False], ids=["gzipped", "plain"])
def test_a_body_nested_two_thousand_deep_is_a_400(ani: Laptop, hub_storage, gzipped):
    body = b"[" * 2000
    response = ani.push_body(gzip.compress(body, mtime=0) if gzipped else body, gzipped)
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request"
    assert hub_storage.stats()["changes"] == 0


@pytest.mark.parametrize(
    "trailer",
    [b"garbage", b"\x00" * 8, gzip.compress(b"{}", mtime=0)],
    ids=["text", "zero bytes", "a second gzip member"],
)
def test_a_gzip_body_followed_by_more_bytes_is_a_400_bad_gzip(ani: Laptop, hub_storage, trailer):
    valid = {
        "protocol": 1,
        "schema_version": 1,
        "changes": [ani.change("beneficiary", beneficiary())],
    }
    response = ani.push_body(gzip.compress(json.dumps(valid).encode(), mtime=0) + trailer)
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_gzip"
    assert hub_storage.stats()["changes"] == 0


@pytest.mark.parametrize(
    "text",
    [b'"\xed\xa0\x80"', b'"\xff"'],
    ids=["a raw lone surrogate", "a byte that is never UTF-8"],
)
def test_a_body_that_is_not_utf8_is_a_400(ani: Laptop, hub_storage, text):
    body = b'{"protocol":1,"schema_version":1,"changes":[{"change_id":' + text + b"}]}"
    response = ani.push_body(gzip.compress(body, mtime=0))
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request"
    assert hub_storage.stats()["changes"] == 0
