"""Reading a NIK for the forms: region, birth date and sex; the schema's own refusals,
naming the field; a mismatch with the typed birth date or sex is a warning only."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from marshmallow import ValidationError

from schemas.nik import check_nik, read_nik
from schemas.records import load_fields
from schemas.validators import validate_nik

TODAY = dt.date(2026, 12, 1)


def test_a_woman_s_nik_reads_as_her_region_birth_date_and_sex():
    reading = read_nik(" 3171014508450001 ", today=TODAY)
    assert (reading.province, reading.kabupaten, reading.kecamatan) == ("31", "31.71", "31.71.01")
    assert (reading.sex, reading.birth_date) == ("P", dt.date(1945, 8, 5))


def test_a_man_s_nik_and_the_century_guessed_from_today():
    assert read_nik("3171010508150001", today=TODAY).birth_date == dt.date(2015, 8, 5)
    assert read_nik("3171010512260001", today=TODAY).birth_date == dt.date(1926, 12, 5)
    assert read_nik("3171010508150001", today=TODAY).sex == "L"
    # 29 February of a year that is no leap year: the digits are read, no date offered
    leap = read_nik("3171012902230001", today=TODAY)
    assert (leap.birth_day_month, leap.birth_yy, leap.birth_date) == ((29, 2), 23, None)


@pytest.mark.parametrize(
    ("nik", "message"),
    [
        ("317101450845", "NIK harus 16 digit angka."),
        ("31710145084500O1", "NIK harus 16 digit angka."),
        ("9971014508450001", "Kode provinsi NIK '99' tidak dikenal."),
        ("3171017308450001", "Tanggal lahir pada NIK (digit 7-12, DDMMYY) tidak valid."),
        ("3171013102450001", "Tanggal lahir pada NIK (digit 7-12, DDMMYY) tidak valid."),
        ("3171014508450000", "Nomor urut NIK (4 digit terakhir) tidak boleh 0000."),
        (None, "NIK harus 16 digit angka."),
    ],
)
def test_what_cannot_be_a_nik_is_refused_with_the_schema_s_message(nik, message):
    with pytest.raises(ValidationError) as refused:
        read_nik(nik, today=TODAY)
    assert refused.value.messages == {"nik": [message]}


@given(st.text(alphabet="0123456789", min_size=16, max_size=16))
def test_the_reading_refuses_exactly_what_the_record_schema_refuses(nik):
    try:
        validate_nik(nik)
    except ValidationError:
        schema_ok = False
    else:
        schema_ok = True
    try:
        read_nik(nik, today=TODAY)
    except ValidationError:
        read_ok = False
    else:
        read_ok = True
    assert read_ok == schema_ok


def test_a_birth_date_or_sex_that_disagrees_is_a_warning_naming_the_field():
    agree = check_nik("3171014508450001", birth_date="1945-08-05", sex="P", today=TODAY)
    assert agree.warnings == {}
    other_century = check_nik("3171014508450001", birth_date="2045-08-05", today=TODAY)
    assert other_century.warnings == {}  # the NIK does not say the century
    differ = check_nik("3171014508450001", birth_date="1945-08-06", sex="L", today=TODAY)
    assert differ.warnings == {
        "birth_date": ["Tanggal lahir 1945-08-06 tidak cocok dengan NIK (05-08-45)."],
        "sex": ["NIK ini milik seorang perempuan (jenis kelamin P)."],
    }
    # the record schema takes such a beneficiary: a warning, not a refusal
    load_fields(
        "beneficiary",
        {
            "name": "Sri",
            "sex": "L",
            "kelurahan": "31.71.01.1001",
            "nik": "3171014508450001",
            "birth_date": "1945-08-06",
        },
        creating=True,
    )
