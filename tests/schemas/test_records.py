"""The record schemas: strict, canonical, in Bahasa Indonesia, and blind to server fields."""

from __future__ import annotations

from typing import Any

import pytest
from marshmallow import ValidationError

from schemas.records import RECORD_SCHEMAS, SERVER_FIELDS, load_fields
from tests.conftest import KELURAHAN, beneficiary, visit

BENEFICIARY_ID = "3f2b8c1e-0a4d-4c6e-9b1f-2d7e5a9c0b11"


def device_request(**overrides: Any) -> dict[str, Any]:
    data = {
        "beneficiary_id": BENEFICIARY_ID,
        "kelurahan": KELURAHAN,
        "device_type": "kursi_roda",
        "reason": "Lumpuh sejak 2019.",
    }
    data.update(overrides)
    return data


VALID = {
    "beneficiary": beneficiary(),
    "visit": visit(BENEFICIARY_ID, kelurahan=KELURAHAN),
    "device_request": device_request(),
}


def refusal(entity: str, data: Any, *, creating: bool) -> dict[str, Any]:
    """The messages of a load that must fail."""
    with pytest.raises(ValidationError) as refused:
        load_fields(entity, data, creating=creating)
    return refused.value.normalized_messages()


@pytest.mark.parametrize("entity", list(VALID))
def test_a_complete_new_record_loads(entity):
    loaded = load_fields(entity, VALID[entity], creating=True)
    assert loaded["kelurahan"] == KELURAHAN


@pytest.mark.parametrize(
    ("entity", "required"),
    [
        ("beneficiary", {"kelurahan", "name", "sex"}),
        ("visit", {"kelurahan", "beneficiary_id", "visited_at", "purpose"}),
        ("device_request", {"kelurahan", "beneficiary_id", "device_type"}),
    ],
    ids=[
        "a beneficiary needs kelurahan, name and sex",
        "a visit needs kelurahan, beneficiary, time and purpose",
        "a device request needs kelurahan, beneficiary and device type",
    ],
)
def test_a_new_record_names_every_missing_required_field(entity, required):
    messages = refusal(entity, {}, creating=True)
    assert messages == {name: ["Wajib diisi."] for name in required}


@pytest.mark.parametrize(
    ("entity", "fields"),
    [
        ("beneficiary", {"phone": "0812-3456-7890"}),
        ("visit", {"findings": "Sudah membaik."}),
        ("device_request", {"status": "diverifikasi"}),
    ],
    ids=["a new phone number", "new findings of a visit", "a new status of a request"],
)
def test_an_update_with_only_some_fields_loads_as_sent(entity, fields):
    assert load_fields(entity, fields, creating=False) == fields


def test_an_update_gets_no_defaults_added():
    assert load_fields("device_request", {"reason": "Lain"}, creating=False) == {"reason": "Lain"}


def test_a_new_device_request_starts_as_diajukan():
    assert load_fields("device_request", device_request(), creating=True)["status"] == "diajukan"


def test_an_update_without_fields_is_refused():
    assert refusal("beneficiary", {}, creating=False) == {"fields": ["Perubahan tanpa isian."]}


@pytest.mark.parametrize("data", [None, [], "nama", 5], ids=["null", "a list", "text", "a number"])
def test_fields_that_are_not_an_object_are_refused(data):
    assert refusal("beneficiary", data, creating=True) == {"fields": ["Harus berupa objek."]}


@pytest.mark.parametrize("entity", list(VALID))
def test_an_unknown_field_is_refused_and_named(entity):
    messages = refusal(entity, {**VALID[entity], "hobi": "memancing"}, creating=True)
    assert messages == {"hobi": ["Isian tidak dikenal."]}


def test_the_server_fields_are_the_ones_the_hub_assigns():
    # issue 12 adds a visit's `review`: the district office's, written on the hub only
    assert {
        "id",
        "created_at",
        "updated_at",
        "status_history",
        "merged_into",
        "review",
    } == SERVER_FIELDS


@pytest.mark.parametrize("entity", list(VALID))
@pytest.mark.parametrize("field", sorted(SERVER_FIELDS))
@pytest.mark.parametrize("creating", [True, False], ids=["on create", "on update"])
def test_a_server_field_in_a_change_is_refused_and_named(entity, field, creating):
    data = {**VALID[entity], field: "2026-11-23T09:30:00Z"}
    assert refusal(entity, data, creating=creating) == {field: ["Isian tidak dikenal."]}


def test_no_schema_declares_a_server_field():
    for schema in RECORD_SCHEMAS.values():
        assert not SERVER_FIELDS & set(schema.fields)


# -- canonical values -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("2026-11-23T09:30:00+07:00", "2026-11-23T09:30:00+07:00"),
        ("2026-11-23T10:30:00+08:00", "2026-11-23T10:30:00+08:00"),
        ("2026-11-23T02:30:00+00:00", "2026-11-23T02:30:00Z"),
        ("2026-11-23T02:30:00Z", "2026-11-23T02:30:00Z"),
        ("2026-11-23T09:30:00.123456+07:00", "2026-11-23T09:30:00+07:00"),
    ],
    ids=[
        "a WIB offset is kept",
        "a WITA offset is kept",
        "UTC is written Z",
        "Z stays Z",
        "fractions of a second are dropped",
    ],
)
def test_a_visit_time_is_stored_canonical_with_its_offset(sent, stored):
    assert load_fields("visit", {"visited_at": sent}, creating=False) == {"visited_at": stored}


@pytest.mark.parametrize(
    "sent",
    ["2026-11-23T09:30:00", "2026-11-23", "kemarin", "", 1732345678, "1879-12-31T23:00:00+07:00"],
    ids=["a naive time", "a date alone", "a word", "empty", "a number", "before 1880"],
)
def test_a_visit_time_without_a_zone_or_unreadable_is_refused_in_indonesian(sent):
    messages = refusal("visit", {"visited_at": sent}, creating=False)
    assert messages == {
        "visited_at": ["Waktu harus ISO 8601 dengan zona waktu, mis. 2026-11-23T09:30:00+07:00."]
    }


def test_a_birth_date_is_stored_as_written():
    loaded = load_fields("beneficiary", {"birth_date": "1945-08-05"}, creating=False)
    assert loaded == {"birth_date": "1945-08-05"}


@pytest.mark.parametrize(
    "sent",
    ["1945-8-5", "05-08-1945", "1945-02-30", "1879-12-31", "19450805", "1945-08-05T00:00", 1945],
    ids=[
        "a date without leading zeros",
        "a day-first date",
        "30 February",
        "a date before 1880",
        "a date without dashes",
        "a date with a time",
        "a number",
    ],
)
def test_a_malformed_birth_date_is_refused_in_indonesian(sent):
    messages = refusal("beneficiary", {"birth_date": sent}, creating=False)
    assert messages == {"birth_date": ["Tanggal harus berbentuk YYYY-MM-DD."]}


def test_a_week_date_is_not_taken_for_a_calendar_date():
    messages = refusal("beneficiary", {"birth_date": "2026-W01-1"}, creating=False)
    assert "birth_date" in messages


def test_a_beneficiary_id_is_stored_as_a_lower_case_uuid():
    loaded = load_fields("visit", {"beneficiary_id": BENEFICIARY_ID.upper()}, creating=False)
    assert loaded == {"beneficiary_id": BENEFICIARY_ID}


def test_a_beneficiary_id_that_is_not_a_uuid_is_refused():
    assert "beneficiary_id" in refusal("visit", {"beneficiary_id": "budi"}, creating=False)


# -- field rules, in Bahasa Indonesia -------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "fields", "expected"),
    [
        ("beneficiary", {"sex": "W"}, {"sex": ["Harus salah satu dari: L, P."]}),
        ("beneficiary", {"name": ""}, {"name": ["Panjang harus antara 1 dan 200."]}),
        ("beneficiary", {"address": 5}, {"address": ["Harus berupa teks."]}),
        ("beneficiary", {"categories": "lansia"}, {"categories": ["Harus berupa daftar."]}),
        (
            "beneficiary",
            {"categories": ["lansia", "lansia"]},
            {"categories": ["Nilai tidak boleh berulang."]},
        ),
        (
            "beneficiary",
            {"disability_types": ["buta"]},
            {
                "disability_types": {
                    0: ["Harus salah satu dari: fisik, intelektual, mental, sensorik."]
                }
            },
        ),
        ("beneficiary", {"programs": ["klj"]}, {"programs": {0: ["Kode program tidak valid."]}}),
        ("beneficiary", {"phone": "telp 123"}, {"phone": ["Nomor telepon tidak valid."]}),
        ("beneficiary", {"name": None}, {"name": ["Tidak boleh kosong."]}),
        (
            "beneficiary",
            {"kelurahan": "31.71.01"},
            {"kelurahan": ["Kode kelurahan harus berbentuk 31.71.01.1001."]},
        ),
        (
            "visit",
            {"purpose": "arisan"},
            {
                "purpose": [
                    "Harus salah satu dari: verifikasi, monitoring, asesmen, penyaluran, lainnya."
                ]
            },
        ),
        ("visit", {"lat": float("nan")}, {"lat": ["Angka khusus (NaN/Infinity) tidak diizinkan."]}),
        (
            "visit",
            {"lat": 91},
            {
                "lat": [
                    "Harus lebih besar atau sama dengan -90 dan lebih kecil atau sama dengan 90."
                ]
            },
        ),
        (
            "visit",
            {"attachments": ["abc"]},
            {"attachments": {0: ["Harus sha256 (64 huruf hex kecil)."]}},
        ),
        (
            "device_request",
            {"device_type": "sepeda"},
            {
                "device_type": [
                    "Harus salah satu dari: kursi_roda, kursi_roda_adaptif, kruk, tongkat,"
                    " tongkat_putih, walker, alat_bantu_dengar, kaki_palsu, tangan_palsu, lainnya."
                ]
            },
        ),
        (
            "device_request",
            {"status": "hilang"},
            {
                "status": [
                    "Harus salah satu dari: diajukan, diverifikasi, disetujui, diserahkan,"
                    " ditolak, dibatalkan."
                ]
            },
        ),
    ],
    ids=[
        "sex is L or P",
        "a name is not empty",
        "an address is text",
        "categories are a list",
        "categories do not repeat",
        "disability types come from the code list",
        "programme codes are upper case",
        "a phone number has digits",
        "a name is not null",
        "a kelurahan is a full code",
        "a visit purpose comes from the code list",
        "a latitude is not NaN",
        "a latitude is within 90 degrees",
        "an attachment is a sha256",
        "a device type comes from the code list",
        "a status comes from the lifecycle",
    ],
)
def test_a_bad_field_is_refused_with_an_indonesian_message(entity, fields, expected):
    assert refusal(entity, fields, creating=False) == expected


def test_an_invalid_nik_is_refused_under_its_name():
    messages = refusal("beneficiary", {"nik": "3171014508450000"}, creating=False)
    assert messages == {"nik": ["Nomor urut NIK (4 digit terakhir) tidak boleh 0000."]}


def test_a_beneficiary_without_a_nik_is_allowed():
    loaded = load_fields("beneficiary", beneficiary(nik=None), creating=True)
    assert loaded["nik"] is None
    data = beneficiary()
    del data["nik"]
    assert "nik" not in load_fields("beneficiary", data, creating=True)
