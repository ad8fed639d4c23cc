"""Reading a NIK: the region, birth date and sex its 16 digits carry, for the forms.

A NIK is ``PPKKCC DDMMYY SSSS``: province, kabupaten/kota and kecamatan codes (Kemendagri),
the birth date with 40 added to the day for a woman, and a serial. :func:`read_nik` reads it
after :func:`schemas.validators.validate_nik` (the one authority on what a NIK may be, so a
form and the record schema refuse the same things with the same words), and
:func:`check_nik` compares it with a birth date and sex typed beside it. A mismatch is only
a warning: the record schema does not refuse it (a NIK issued with an error stays the
person's NIK), so neither does the form. No I/O.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from marshmallow import ValidationError

from schemas.validators import validate_nik

__all__ = ["NikCheck", "NikReading", "check_nik", "read_nik"]


@dataclass(frozen=True, slots=True)
class NikReading:
    """What a valid NIK says.

    `birth_date` is the day the NIK names with its century guessed (the latest year not
    after `today`: ``50`` is 1950, ``15`` is 2015), None when that day does not exist in
    that year (29 February of a year that is not a leap year). `birth_day_month` and
    `birth_yy` are what the digits say for certain.
    """

    nik: str
    province: str  # "31"
    kabupaten: str  # "31.71"
    kecamatan: str  # "31.71.01", as wilayah codes are written
    sex: str  # "L" or "P" (schemas.codes.SEXES)
    birth_day_month: tuple[int, int]
    birth_yy: int
    birth_date: dt.date | None


@dataclass(frozen=True, slots=True)
class NikCheck:
    """A NIK read beside what was typed: `warnings` by field name, in Bahasa Indonesia."""

    reading: NikReading
    warnings: dict[str, list[str]] = field(default_factory=dict)


def read_nik(value: object, *, today: dt.date | None = None, field_name: str = "nik") -> NikReading:
    """Read a NIK typed in a form (spaces around it ignored).

    :param today: the day the century is guessed against (default: today).
    :raises ValidationError: ``{field_name: [message]}``, the record schema's own message
        (wrong length, not digits, unknown province, impossible date, serial 0000).
    """
    text = value.strip() if isinstance(value, str) else value
    try:
        validate_nik(text)  # type: ignore[arg-type]  # refuses a non-str with its message
    except ValidationError as exc:
        raise ValidationError({field_name: list(exc.messages)}) from None
    assert isinstance(text, str)
    raw_day, month, yy = int(text[6:8]), int(text[8:10]), int(text[10:12])
    woman = raw_day > 40
    day = raw_day - 40 if woman else raw_day
    today = today or dt.date.today()
    year = 2000 + yy if 2000 + yy <= today.year else 1900 + yy
    try:
        born: dt.date | None = dt.date(year, month, day)
    except ValueError:
        born = None
    if born is not None and born > today:  # this year's later day: a century before
        try:
            born = dt.date(year - 100, month, day)
        except ValueError:
            born = None
    return NikReading(
        nik=text,
        province=text[0:2],
        kabupaten=f"{text[0:2]}.{text[2:4]}",
        kecamatan=f"{text[0:2]}.{text[2:4]}.{text[4:6]}",
        sex="P" if woman else "L",
        birth_day_month=(day, month),
        birth_yy=yy,
        birth_date=born,
    )


def check_nik(
    nik: object,
    *,
    birth_date: dt.date | str | None = None,
    sex: str | None = None,
    today: dt.date | None = None,
) -> NikCheck:
    """Read `nik` and compare it with the birth date and sex typed beside it.

    Only the day, the month and the last two digits of the year are compared (the NIK does
    not say the century). A value not given, or not readable, is not compared.

    :raises ValidationError: the NIK itself is invalid (see :func:`read_nik`).
    """
    reading = read_nik(nik, today=today)
    warnings: dict[str, list[str]] = {}
    born = _as_date(birth_date)
    day, month = reading.birth_day_month
    if born is not None and (born.day, born.month, born.year % 100) != (
        day,
        month,
        reading.birth_yy,
    ):
        warnings["birth_date"] = [
            f"Tanggal lahir {born.isoformat()} tidak cocok dengan NIK"
            f" ({day:02d}-{month:02d}-{reading.birth_yy:02d})."
        ]
    if sex in ("L", "P") and sex != reading.sex:
        said = "perempuan" if reading.sex == "P" else "laki-laki"
        warnings["sex"] = [f"NIK ini milik seorang {said} (jenis kelamin {reading.sex})."]
    return NikCheck(reading, warnings)


def _as_date(value: dt.date | str | None) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None
