"""Validators for Indonesian identifiers (NIK, Kemendagri wilayah codes) and for free text.

Free text refuses control characters: a newline in a name splits the row of every list that
prints it, and a terminal escape (ESC, the C0 and C1 controls) recolours or rewrites the
office's screen; a NUL cuts the text short in C code along the way. One-line text (names,
ids) takes none of them (:func:`validate_single_line`); notes that may run over several
lines take newline, carriage return and tab, and nothing else (:func:`validate_multiline`).

Each raises :class:`marshmallow.ValidationError` with a message a district office can act on;
the schema that calls it puts the field's name on the error.
"""

from __future__ import annotations

import re

from marshmallow import ValidationError

from schemas.codes import PROVINCE_CODES

__all__ = [
    "MULTILINE_CONTROL",
    "SINGLE_LINE_CONTROL",
    "in_scope",
    "is_kelurahan_code",
    "validate_kelurahan",
    "validate_multiline",
    "validate_nik",
    "validate_single_line",
    "validate_wilayah",
]

#: what one-line text refuses: C0 controls, DEL, C1 controls, Unicode's line separators
SINGLE_LINE_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
#: what a multi-line note refuses: the same but newline, carriage return and tab
MULTILINE_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

_NIK_RE = re.compile(r"[0-9]{16}")
_WILAYAH_RE = re.compile(r"[0-9]{2}(?:\.[0-9]{2}(?:\.[0-9]{2}(?:\.[0-9]{4})?)?)?")
_KELURAHAN_RE = re.compile(r"[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}")
# Days per month, February with 29: the NIK's year has two digits, so a leap year is unknowable.
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def validate_nik(value: str) -> None:
    """Check a NIK: 16 digits, a real province, a DDMMYY birth date (+40 on the day for
    women) and a serial other than 0000."""
    if not isinstance(value, str) or not _NIK_RE.fullmatch(value):
        raise ValidationError("NIK harus 16 digit angka.")
    if value[0:2] not in PROVINCE_CODES:
        raise ValidationError(f"Kode provinsi NIK '{value[0:2]}' tidak dikenal.")
    if value[2:4] == "00" or value[4:6] == "00":
        raise ValidationError("Kode kabupaten/kota dan kecamatan pada NIK tidak boleh 00.")
    day, month = int(value[6:8]), int(value[8:10])
    if day > 40:
        day -= 40
    if not 1 <= month <= 12 or not 1 <= day <= _MONTH_DAYS[month - 1]:
        raise ValidationError("Tanggal lahir pada NIK (digit 7-12, DDMMYY) tidak valid.")
    if value[12:16] == "0000":
        raise ValidationError("Nomor urut NIK (4 digit terakhir) tidak boleh 0000.")


def validate_wilayah(value: str) -> None:
    """Check a wilayah code at any level: `31`, `31.71`, `31.71.01` or `31.71.01.1001`."""
    if not isinstance(value, str) or not _WILAYAH_RE.fullmatch(value):
        raise ValidationError(
            "Kode wilayah harus berbentuk 31, 31.71, 31.71.01 atau 31.71.01.1001."
        )
    if value[0:2] not in PROVINCE_CODES:
        raise ValidationError(f"Kode provinsi '{value[0:2]}' tidak dikenal.")


def validate_kelurahan(value: str) -> None:
    """Check a full kelurahan/desa code such as `31.71.01.1001`."""
    if not isinstance(value, str) or not _KELURAHAN_RE.fullmatch(value):
        raise ValidationError("Kode kelurahan harus berbentuk 31.71.01.1001.")
    validate_wilayah(value)


def is_kelurahan_code(value: str) -> bool:
    """Whether `value` is a whole kelurahan/desa code (the deepest level, four segments)."""
    return isinstance(value, str) and _KELURAHAN_RE.fullmatch(value) is not None


def in_scope(kelurahan: str, wilayah: str) -> bool:
    """True when `wilayah` covers `kelurahan` as a prefix on segment boundaries.

    `31.71.01` covers `31.71.01.1001` but not `31.71.010...`; an empty wilayah covers all.
    """
    if not wilayah:
        return True
    return kelurahan == wilayah or kelurahan.startswith(wilayah + ".")


def validate_single_line(value: str) -> None:
    """Check one-line text (a name, an id): no control character at all, not even a tab."""
    if isinstance(value, str) and SINGLE_LINE_CONTROL.search(value):
        raise ValidationError(
            "Tidak boleh memuat karakter kendali (baris baru, tab, escape terminal, NUL)."
        )


def validate_multiline(value: str) -> None:
    """Check a note that may run over lines: newline, carriage return and tab only."""
    if isinstance(value, str) and MULTILINE_CONTROL.search(value):
        raise ValidationError(
            "Tidak boleh memuat karakter kendali (escape terminal, NUL); "
            "hanya baris baru dan tab yang boleh."
        )
