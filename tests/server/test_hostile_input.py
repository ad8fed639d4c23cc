"""Hostile input at the hub: what an attacker (or a broken client) sends is refused by name,
or stored and served back literally; never a 500, never a partial write, no NIK in the logs.

Covered elsewhere and not repeated here:

- tests/server/test_api.py: a malformed or truncated gzip body is `400 bad_gzip`; a gzip bomb
  against a 1 MB limit is 413 with nothing written; another Content-Encoding is 415; invalid
  JSON is `400 bad_request`; an unknown field is rejected naming it (`hobi`); `since`/`limit`
  out of range or not numbers are 422 naming the parameter.
- tests/server/test_push_never_fails.py: a property test throwing batches of odd values (lone
  surrogates, NaN, integers past 64 bits, nesting thousands deep, damaged envelopes) at push;
  bytes after a gzip member; a body that is not UTF-8.
- tests/server/test_openapi_fuzz.py: schemathesis over every operation of the OpenAPI spec.
- tests/server/test_audit.py: no NIK or name in the audit table (in-process).
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import sqlite3
import tracemalloc
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from client_sync import FieldDevice
from server.app import create_app
from server.writer import BatchWriter
from tests.conftest import KELURAHAN, beneficiary, visit
from tests.server.test_api import zeros_gzipped
from tests.server.test_push_never_fails import Laptop, enrol

PUSH = "/api/v1/sync/push"
PULL = "/api/v1/sync/pull"

#: Strings that mean something to SQL, HTML, template engines, file systems, terminals and
#: JSON writers. The hub must treat every one as plain text.
HOSTILE = {
    "sql": "'; DROP TABLE records; --",
    "sql-or": "x' OR '1'='1' /*",
    "html": "<script>alert(1)</script>",
    "template": "{{7*7}} ${7*7} <%= 7*7 %> #{7*7}",
    "path": "../../etc/passwd",
    "nul": "Sri\x00Wahyuni",
    "rtl override": "\u202eanilam\u202c.exe",
    "json breakout": '", "nik": "3171014508450001", "x": "',
    "backslashes": "C:\\Windows\\system32\\ \\u0000 \\n",
    "crlf": "baris\r\nSet-Cookie: sesi=1",
    "zero width": "Sri\u200bWah\ufeffyuni",
    "astral": "Ibu 🦽 ꦱꦿꦶ 𝕊𝕣𝕚",
}
#: Control characters are refused by the schemas since issue 15 (a NUL anywhere; a newline
#: in a one-line field such as a name): tests/schemas/test_control_characters.py. The rest
#: of HOSTILE is stored and served back literally.
REFUSED = {"nul"}
NOT_ONE_LINE = {"crlf"}
#: The same kind of string, exactly at each field's limit (characters, not bytes).
AT_LIMIT = {
    "name": ("ꦱ'<" * 70)[:200],
    "address": ("'; DROP TABLE records; -- <script>" * 20)[:500],
    "findings": ("{{7*7}}\r\n\u202e🦽" * 1500)[:10_000],
}


def hub_tables(app: Flask) -> tuple[list[tuple[str, str]], str]:
    """The hub file's schema and its integrity check, read as someone holding the file."""
    with sqlite3.connect(Path(app.config["DATA_DIR"]) / "hub.sqlite3") as conn:
        schema = conn.execute("SELECT type, name FROM sqlite_master ORDER BY type, name")
        return schema.fetchall(), conn.execute("PRAGMA integrity_check").fetchone()[0]


def utf8(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


# -- injection-shaped strings: stored and served back literally --------------------------------


def test_injection_shaped_strings_reach_a_second_laptop_byte_for_byte(laptops, hub_app: Flask):
    tables_before = hub_tables(hub_app)
    siti, budi = laptops.enroll("siti"), laptops.enroll("budi")
    sent: dict[tuple[str, str], dict[str, Any]] = {}
    for kind, text in HOSTILE.items():
        if kind in REFUSED:
            continue
        name = "Ibu Sri" if kind in NOT_ONE_LINE else text
        data = beneficiary(name=name, address=text, nik=None)
        person = siti.store.add("beneficiary", data)
        sent["beneficiary", person] = data
        call = visit(person, kelurahan=KELURAHAN, findings=text, follow_up=text)
        sent["visit", siti.store.add("visit", call)] = call
    limits = beneficiary(name=AT_LIMIT["name"], address=AT_LIMIT["address"], nik=None)
    person = siti.store.add("beneficiary", limits)
    sent["beneficiary", person] = limits
    call = visit(person, kelurahan=KELURAHAN, findings=AT_LIMIT["findings"])
    sent["visit", siti.store.add("visit", call)] = call

    pushed = siti.sync()
    pulled = budi.sync()

    assert (pushed.pushed, pushed.rejected, pushed.errors) == (len(sent), 0, [])
    assert pulled.pulled == len(sent)
    for (entity, record_id), data in sent.items():
        got = budi.store.get(entity, record_id)
        for name, value in data.items():
            assert utf8(got[name]) == utf8(value), (entity, name)
    # The hub serves them as sent, too, to a client reading its JSON directly.
    client = hub_app.test_client()
    auth = {"Authorization": f"Bearer {budi.store.identity.token}"}
    page = client.get(PULL, query_string={"limit": 5000}, headers=auth)
    served = {(r["entity"], r["id"]): r["data"] for r in page.get_json()["records"]}
    for key, data in sent.items():
        assert {name: served[key][name] for name in data} == data
    assert hub_tables(hub_app) == tables_before
    assert hub_tables(hub_app)[1] == "ok"


@pytest.fixture
def ani(hub_app: Flask) -> Laptop:
    return enrol(hub_app, "ani", ("31.71.01",))


@pytest.mark.parametrize(
    ("field", "entity"),
    [("name", "beneficiary"), ("address", "beneficiary"), ("findings", "visit")],
)
def test_a_string_one_past_its_limit_is_rejected_naming_the_field(
    ani: Laptop, hub_storage, field, entity
):
    longer = AT_LIMIT[field] + "'"
    data = (
        beneficiary(**{field: longer})
        if entity == "beneficiary"
        else visit(str(uuid.uuid4()), kelurahan=KELURAHAN, findings=longer)
    )

    (receipt,) = ani.push([ani.change(entity, data)])

    assert (receipt["status"], list(receipt["errors"])) == ("rejected", [field])
    assert hub_storage.stats()["records"][entity] == 0


# -- absurd paging ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("limit=-1", "limit"),
        (f"limit={10**30}", "limit"),
        ("limit=1e3", "limit"),
        ("limit=", "limit"),
        ("since=1e309", "since"),
        ("since=NaN", "since"),
        ("since=Infinity", "since"),
        ("since=-0.0", "since"),
        ("since=%00", "since"),
        ("since=0x10", "since"),
        ("limit=1&limit=5000", "limit"),
        ("since=0&since=99", "since"),
        ("limit=5&since=1&limit=5", "limit"),
    ],
)
def test_absurd_paging_is_refused_naming_the_parameter(ani: Laptop, query, named):
    response = ani.client.get(f"{PULL}?{query}", headers=ani.auth)
    assert response.status_code == 422, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["error"], list(body["errors"])) == ("invalid_field", [named])


def test_an_unknown_paging_parameter_is_refused_naming_it(ani: Laptop):
    response = ani.client.get(f"{PULL}?offset=10", headers=ani.auth)
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["offset"]


def test_a_repeated_conflicts_parameter_is_refused_naming_it(hub_app: Flask, add_user):
    client = hub_app.test_client()
    code = add_user("sari", "supervisor")
    token = client.post("/api/v1/enroll", json={"code": code, "device_name": "x"}).get_json()
    response = client.get(
        "/api/v1/conflicts?limit=1&limit=1000",
        headers={"Authorization": f"Bearer {token['token']}"},
    )
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["limit"]


# -- bodies too large --------------------------------------------------------------------------


@pytest.fixture
def small_hub(tmp_path: Path) -> Iterator[tuple[Flask, Laptop]]:
    """A hub taking 100 kB gzipped, 1 MB inflated (or plain)."""
    app = create_app(
        {
            "DATA_DIR": tmp_path / "small",
            "MAX_CONTENT_LENGTH": 1_000_000,
            "MAX_COMPRESSED_LENGTH": 100_000,
        }
    )
    yield app, enrol(app, "ani", ("31.71.01",))
    app.extensions["pendamping"].storage.close()


def batch_of(laptop: Laptop, n: int, **fields: Any) -> bytes:
    changes = [laptop.change("beneficiary", beneficiary(nik=None, **fields)) for _ in range(n)]
    return json.dumps({"protocol": 1, "schema_version": 1, "changes": changes}).encode()


def test_a_plain_body_over_max_content_length_is_413(small_hub):
    app, laptop = small_hub
    body = batch_of(laptop, 2_500, address="x" * 300)
    assert len(body) > 1_000_000

    response = laptop.push_body(body, gzipped=False)

    assert (response.status_code, response.get_json()["error"]) == (413, "too_large")
    assert app.extensions["pendamping"].storage.stats()["changes"] == 0


def test_a_gzip_body_over_the_compressed_limit_is_413_before_it_is_read(small_hub):
    app, laptop = small_hub
    body = gzip.compress(batch_of(laptop, 1) + b" " * 10 + os.urandom(150_000).hex().encode())
    assert len(body) > 100_000

    response = laptop.push_body(body)

    assert (response.status_code, response.get_json()["error"]) == (413, "too_large")
    assert app.extensions["pendamping"].storage.stats()["changes"] == 0


def peak_memory_of(call) -> int:
    """Bytes allocated at the peak while `call` ran, above what was held before."""
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - before


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """100 MB of zeros, gzipped: about 100 kB on the wire."""
    return zeros_gzipped(100)


def test_a_gzip_bomb_is_413_without_inflating_it_into_memory(hub_app: Flask, bomb):
    """At the default 32 MiB limit: the bomb is measured a chunk at a time, never kept, so
    memory moves by a few hundred kB rather than 32 MiB (or 100 MB)."""
    laptop = enrol(hub_app, "ani", ("31.71.01",))
    limit = hub_app.config["MAX_CONTENT_LENGTH"]
    responses = []

    peak = peak_memory_of(lambda: responses.append(laptop.push_body(bomb)))

    assert (responses[0].status_code, responses[0].get_json()["error"]) == (413, "too_large")
    assert limit >= 32 * 1024 * 1024
    assert peak < 4 * 1024 * 1024, f"{peak / 2**20:.1f} MiB"
    assert hub_app.extensions["pendamping"].storage.stats()["changes"] == 0


def test_a_truncated_gzip_body_over_a_real_socket_is_400_bad_gzip(live_hub: str, hub_app: Flask):
    laptop = enrol(hub_app, "ani", ("31.71.01",))
    body = gzip.compress(batch_of(laptop, 3), mtime=0)

    response = requests.post(
        live_hub + PUSH,
        data=body[: len(body) // 2],
        headers={**laptop.auth, "Content-Type": "application/json", "Content-Encoding": "gzip"},
        timeout=10,
    )

    assert (response.status_code, response.json()["error"]) == (400, "bad_gzip")
    assert hub_app.extensions["pendamping"].storage.stats()["changes"] == 0


# -- one transaction ---------------------------------------------------------------------------


def test_a_push_whose_last_change_fails_mid_transaction_writes_nothing(
    ani: Laptop, hub_storage, monkeypatch
):
    changes = [ani.change("beneficiary", beneficiary(nik=None)) for _ in range(3)]
    before = hub_storage.stats()
    real_apply = BatchWriter.apply
    calls = []

    def failing_apply(self, write):
        calls.append(write)
        if len(calls) == len(changes):
            raise sqlite3.OperationalError("disk I/O error")
        return real_apply(self, write)

    monkeypatch.setattr(BatchWriter, "apply", failing_apply)
    response = ani.client.post(
        PUSH, json={"protocol": 1, "schema_version": 1, "changes": changes}, headers=ani.auth
    )

    assert len(calls) == 3  # the first two were applied inside the transaction
    assert response.status_code == 503
    assert response.get_json()["error"] == "storage_unavailable"
    assert "Retry-After" in response.headers
    assert hub_storage.stats() == before
    monkeypatch.undo()
    receipts = ani.push(changes)  # nothing was remembered: the resend applies afresh
    assert [r["status"] for r in receipts] == ["applied"] * 3
    assert hub_storage.stats()["records"]["beneficiary"] == 3


# -- no NIK and no name in the logs ------------------------------------------------------------

SECRET_NIK = "3171014508450001"
SECRET_NAME = "Ibu Kartini Rahmawati Sulistyo"


def test_no_nik_or_name_reaches_any_log_over_a_served_hub(
    live_hub: str, hub_app: Flask, add_user, tmp_path: Path, caplog
):
    caplog.set_level(logging.DEBUG)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger):
            caplog.set_level(logging.DEBUG, logger=name)
            if not logger.propagate:  # reach caplog anyway
                logger.addHandler(caplog.handler)
    siti = FieldDevice.enroll(tmp_path / "siti", live_hub, add_user("siti"), "laptop-siti")
    budi = FieldDevice.enroll(tmp_path / "budi", live_hub, add_user("budi"), "laptop-budi")
    person = siti.store.add("beneficiary", beneficiary(name=SECRET_NAME, nik=SECRET_NIK))
    siti.store.add("visit", visit(person, kelurahan=KELURAHAN, findings=f"{SECRET_NAME} sehat"))
    # and a change the hub refuses, whose receipt carries the values' messages back
    siti.store.add("beneficiary", beneficiary(name=SECRET_NAME, nik=SECRET_NIK, programs=[]))

    assert siti.sync().pushed == 3
    assert budi.sync().pulled == 3
    assert budi.store.get("beneficiary", person)["nik"] == SECRET_NIK

    assert caplog.records, "nothing was logged at all: the check would prove nothing"
    for record in caplog.records:
        text = f"{record.getMessage()} {record.args!r} {record.exc_text} {vars(record)!r}"
        for secret in (SECRET_NIK, SECRET_NAME, "Kartini"):
            assert secret not in text, (record.name, record.getMessage())
