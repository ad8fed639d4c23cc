"""NIK and wilayah validators, and the wilayah scope rule that hub and laptop share."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from marshmallow import ValidationError

from schemas.codes import PROVINCE_CODES
from schemas.validators import in_scope, validate_kelurahan, validate_nik, validate_wilayah

MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
NOT_PROVINCES = sorted(f"{n:02d}" for n in range(100) if f"{n:02d}" not in PROVINCE_CODES)


@st.composite
def niks(draw) -> str:
    """A valid NIK: province, kab/kota, kecamatan, DDMMYY (+40 for women), serial."""
    province = draw(st.sampled_from(sorted(PROVINCE_CODES)))
    kabupaten = draw(st.integers(1, 99))
    kecamatan = draw(st.integers(1, 99))
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, MONTH_DAYS[month - 1]))
    woman = draw(st.booleans())
    year = draw(st.integers(0, 99))
    serial = draw(st.integers(1, 9999))
    return (
        f"{province}{kabupaten:02d}{kecamatan:02d}"
        f"{day + 40 if woman else day:02d}{month:02d}{year:02d}{serial:04d}"
    )


def replace(nik: str, start: int, text: str) -> str:
    return nik[:start] + text + nik[start + len(text) :]


CORRUPTIONS = {
    "an unknown province": lambda nik, data: replace(
        nik, 0, data.draw(st.sampled_from(NOT_PROVINCES))
    ),
    "kabupaten 00": lambda nik, _data: replace(nik, 2, "00"),
    "kecamatan 00": lambda nik, _data: replace(nik, 4, "00"),
    "day 00": lambda nik, _data: replace(nik, 6, "00"),
    "day 32": lambda nik, _data: replace(nik, 6, "32"),
    "day 40": lambda nik, _data: replace(nik, 6, "40"),
    "day 72": lambda nik, _data: replace(nik, 6, "72"),
    "month 00": lambda nik, _data: replace(nik, 8, "00"),
    "month 13": lambda nik, _data: replace(nik, 8, "13"),
    "serial 0000": lambda nik, _data: replace(nik, 12, "0000"),
    "a letter": lambda nik, data: replace(nik, data.draw(st.integers(0, 15)), "X"),
    "a missing digit": lambda nik, _data: nik[:-1],
    "an extra digit": lambda nik, _data: nik + "1",
}


@given(niks())
def test_every_built_nik_is_valid(nik):
    validate_nik(nik)


@pytest.mark.parametrize("corruption", list(CORRUPTIONS), ids=lambda c: f"a NIK with {c} fails")
@given(nik=niks(), data=st.data())
def test_any_single_corruption_of_a_valid_nik_fails(nik, data, corruption):
    with pytest.raises(ValidationError):
        validate_nik(CORRUPTIONS[corruption](nik, data))


@pytest.mark.parametrize(
    "nik",
    [
        "3171014508450001",
        "3171010508450001",
        "3171017112990001",
        "3171016902000001",
        "3171012902000001",
        "9601013112009999",
    ],
    ids=[
        "day 45 is the fifth of a woman",
        "day 05 is the fifth of a man",
        "day 71 is the 31st of a woman",
        "a woman born on 29 February",
        "a man born on 29 February",
        "a Papua NIK with the last serial",
    ],
)
def test_a_valid_nik_passes(nik):
    validate_nik(nik)


@pytest.mark.parametrize(
    ("nik", "words"),
    [
        ("317101450845001", "16 digit"),
        ("31710145084500011", "16 digit"),
        ("3171 14508450001", "16 digit"),
        ("9971014508450001", "provinsi"),
        ("3100014508450001", "00"),
        ("3171004508450001", "00"),
        ("3171013102450001", "DDMMYY"),
        ("3171017002450001", "DDMMYY"),
        ("3171013104450001", "DDMMYY"),
        ("3171014513450001", "DDMMYY"),
        ("3171014508450000", "0000"),
    ],
    ids=[
        "fifteen digits are refused",
        "seventeen digits are refused",
        "a space is refused",
        "province 99 is refused",
        "kabupaten 00 is refused",
        "kecamatan 00 is refused",
        "31 February is refused",
        "30 February of a woman is refused",
        "31 April is refused",
        "month 13 is refused",
        "serial 0000 is refused",
    ],
)
def test_an_invalid_nik_is_refused_with_a_message_saying_why(nik, words):
    with pytest.raises(ValidationError) as refused:
        validate_nik(nik)
    assert words in refused.value.messages[0]


@pytest.mark.parametrize("value", [None, 3171014508450001, b"3171014508450001"])
def test_a_nik_that_is_not_text_is_refused(value):
    with pytest.raises(ValidationError):
        validate_nik(value)


@pytest.mark.parametrize(
    "nik",
    ["3171014508450\u0660\u06601", "31710\uff114508450001"],
    ids=["Arabic-Indic digits", "a full-width digit"],
)
def test_a_nik_with_digits_other_than_ascii_is_refused(nik):
    with pytest.raises(ValidationError):
        validate_nik(nik)


# -- wilayah codes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    ["31", "31.71", "31.71.01", "31.71.01.1001", "96.01.01.2001"],
    ids=["a province", "a kota", "a kecamatan", "a kelurahan", "a desa in Papua"],
)
def test_a_wilayah_code_at_any_level_is_valid(code):
    validate_wilayah(code)


@pytest.mark.parametrize(
    "code",
    ["", "3", "31.7", "31.71.1", "31.71.01.100", "31.71.01.10011", "31-71", "31.71.", "99.71"],
    ids=[
        "empty is refused",
        "one digit is refused",
        "a one-digit kota is refused",
        "a one-digit kecamatan is refused",
        "a three-digit kelurahan is refused",
        "a five-digit kelurahan is refused",
        "dashes are refused",
        "a trailing dot is refused",
        "an unknown province is refused",
    ],
)
def test_a_malformed_wilayah_code_is_refused(code):
    with pytest.raises(ValidationError):
        validate_wilayah(code)


def test_a_kelurahan_must_be_a_full_code():
    validate_kelurahan("31.71.01.1001")
    for partial in ("31", "31.71", "31.71.01"):
        with pytest.raises(ValidationError) as refused:
            validate_kelurahan(partial)
        assert refused.value.messages == ["Kode kelurahan harus berbentuk 31.71.01.1001."]


def test_a_kelurahan_with_full_width_digits_is_refused():
    with pytest.raises(ValidationError):
        validate_kelurahan("31.71.01.\uff11\uff10\uff10\uff11")


def test_a_kelurahan_in_an_unknown_province_is_refused():
    with pytest.raises(ValidationError) as refused:
        validate_kelurahan("99.71.01.1001")
    assert "'99'" in refused.value.messages[0]


# -- scope ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kelurahan", "wilayah", "covered"),
    [
        ("31.71.01.1001", "31.71.01", True),
        ("31.71.010.1001", "31.71.01", False),
        ("31.71.02.1001", "31.71.01", False),
        ("31.71.01.1001", "31.71", True),
        ("31.71.01.1001", "31.7", False),
        ("31.71.01.1001", "31", True),
        ("31.71.01.1001", "3", False),
        ("31.71.01.1001", "31.71.01.1001", True),
        ("31.71.01.10011", "31.71.01.1001", False),
        ("31.71.01.1001", "", True),
        ("31.71", "31.71.01", False),
    ],
    ids=[
        "a kecamatan covers its kelurahan",
        "a kecamatan does not cover a longer segment that starts like it",
        "a kecamatan does not cover its neighbour",
        "a kota covers its kelurahan",
        "a partial segment covers nothing",
        "a province covers its kelurahan",
        "one digit covers nothing",
        "a code covers itself",
        "a kelurahan does not cover a longer code",
        "an empty wilayah covers everything",
        "a narrower wilayah does not cover a wider code",
    ],
)
def test_in_scope_works_on_segment_boundaries(kelurahan, wilayah, covered):
    assert in_scope(kelurahan, wilayah) is covered
