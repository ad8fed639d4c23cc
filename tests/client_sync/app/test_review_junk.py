"""Never a 500, never a trace: every route of the field app, walked from its url_map, fed
junk in its path, its query, its form and its JSON (missing, negative, huge, non-UTF-8,
bad dates, ids of another kind, drafts that do not exist or are of another kind)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.client_sync.app.conftest import BASE, PASSPHRASE, Field, csrf_of
from tests.client_sync.app.test_penerima import in_store
from tests.conftest import beneficiary, visit

#: every query argument and form field a page reads
NAMES = [
    "q",
    "page",
    "after",
    "status",
    "pindah",
    "baru",
    "penerima",
    "program",
    "semua",
    "tampil",
    "bulan",
    "setelah_waktu",
    "setelah_id",
    "disimpan",
    "sama",
    "draft",
    "draft_id",
    "draft_kind",
    "draft_record",
    "record",
    "dibuang",
    "next",
    "nik",
    "birth_date",
    "sex",
    "exclude",
    "name",
    "kelurahan",
    "programs",
    "categories",
    "visited_at",
    "purpose",
    "verification_outcome",
    "lat",
    "lon",
    "a_adl_barthel",
    "lain_nama_0",
    "lain_nilai_0",
    "foto_jenis",
    "beneficiary_id",
    "device_type",
    "reason",
    "seen",
    "yakin",
    "confirm_nik",
    "passphrase",
    "hub_url",
    "code",
    "again",
    "lang",
]
#: one of each kind (the suite's time is shared: each value here is walked over every route)
JUNK = [
    "",
    "-1",
    "9" * 40,  # larger than any SQLite integer
    "1e309",
    "2026-02-30T25:61",
    "../../../etc/passwd<script>alert(1)</script>",
    "\x00\x01",
    "x" * 20_000,
]
RAW_QUERIES = [b"q=%ff%fe&bulan=%ff&page=%c3%28", b"draft=%ed%a0%80&after=%ff", b"%ff=%ff"]


@pytest.fixture
def ids(field: Field) -> dict[str, str]:
    field.unlock()

    def make(store: Any) -> dict[str, str]:
        person = store.add("beneficiary", beneficiary())
        seen = store.add("visit", visit(person))
        asked = store.add("device_request", {"beneficiary_id": person, "device_type": "kruk"})
        store.drafts.save("draf-kunjungan", "visit", {"purpose": "x"})
        store.drafts.save("draf-aneh", "beneficiary", {"name": ["a", {"b": 1}], "nik": 5})
        return {"beneficiary": person, "visit": seen, "device_request": asked}

    return in_store(field, make)


def _paths(field: Field, ids: dict[str, str]) -> list[tuple[str, str]]:
    """(rule, a path) for each route, its variable parts filled with real ids of every kind,
    draft ids of another kind and junk."""
    fillers = [
        *ids.values(),
        "draf-kunjungan",
        "draf-aneh",
        "tidak-ada",
        "9" * 40,
        "%FF%00",
        "..%2F..%2Fstore.db",
        "0" * 64,
    ]
    out = []
    for rule in field.app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule == "/masuk":
            continue
        if not rule.arguments:
            out.append((rule.rule, rule.rule))
            continue
        for filler in fillers:
            path = rule.rule
            for name in rule.arguments:
                path = path.replace(f"<{name}>", filler).replace(f"<path:{name}>", filler)
            out.append((rule.rule, path))
    return out


def _ok(field: Field, response: Any, what: str) -> None:
    body = response.get_data(as_text=True)
    assert response.status_code < 500, (what, response.status_code, body[:400])
    assert "Traceback" not in body and 'File "' not in body, what
    if field.app.extensions["pendamping_app"].keeper.device is None:  # /kunci, say
        field.post("/buka", {"passphrase": PASSPHRASE}, page="/buka")


def test_no_route_answers_junk_with_a_500(field: Field, ids: dict[str, str]):
    state = field.app.extensions["pendamping_app"]
    token = csrf_of(field.get("/"))
    headers = {"X-CSRFToken": token}
    for _rule, path in _paths(field, ids):
        methods = field.app.url_map.bind("127.0.0.1").allowed_methods(path) or ["GET", "POST"]
        for junk in JUNK:
            query = {name: junk for name in NAMES if name != "lang"}
            if "GET" in methods:
                _ok(field, field.client.get(path, base_url=BASE, query_string=query), (path, junk))
            if "POST" in methods:
                form = {**query, "csrf_token": token}
                sent = field.client.post(path, base_url=BASE, data=form, query_string=query)
                _ok(field, sent, ("POST", path, junk))
                for body in (
                    {"draft_id": junk, "kind": junk, "record_id": junk, "fields": junk},
                    {"draft_id": "d", "kind": "visit", "fields": {junk: junk}, "seq": junk},
                    [junk],
                    junk,
                ):
                    sent = field.client.post(path, base_url=BASE, json=body, headers=headers)
                    _ok(field, sent, ("JSON", path, junk, body))
        for raw in RAW_QUERIES:
            got = field.client.get(
                path, base_url=BASE, environ_overrides={"QUERY_STRING": raw.decode("latin-1")}
            )
            _ok(field, got, (path, raw))
        state.sync.join(timeout=10)


def test_no_page_answers_one_junk_argument_with_a_500(field: Field, ids: dict[str, str]):
    get_rules = {r.rule for r in field.app.url_map.iter_rules() if "GET" in (r.methods or ())}
    paths = [
        path
        for rule, path in _paths(field, ids)
        if rule in get_rules and ("<" not in rule or any(i in path for i in ids.values()))
    ]
    for name in NAMES:  # one at a time: an early refusal of another must not hide it
        for path in paths:
            for junk in ("9" * 40, "2026-13-45", "draf-kunjungan", ids["visit"]):
                got = field.client.get(path, base_url=BASE, query_string={name: junk})
                _ok(field, got, (path, name, junk))
