"""Validation messages in Bahasa Indonesia, for marshmallow's built-in fields.

The pendamping reads these on the laptop (the client validates with the same schemas before
anything is queued) and the district office reads them in receipts. marshmallow keeps its
defaults in class attributes, so they are replaced once, on import of :mod:`schemas`.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

__all__ = ["install"]

_FIELD_MESSAGES: dict[type, dict[str, str]] = {
    fields.Field: {
        "required": "Wajib diisi.",
        "null": "Tidak boleh kosong.",
        "validator_failed": "Nilai tidak valid.",
    },
    fields.String: {"invalid": "Harus berupa teks."},
    fields.Integer: {"invalid": "Harus bilangan bulat."},
    fields.Number: {"invalid": "Harus berupa angka.", "too_large": "Angka terlalu besar."},
    fields.Float: {"special": "Angka khusus (NaN/Infinity) tidak diizinkan."},
    fields.Boolean: {"invalid": "Harus true atau false."},
    fields.List: {"invalid": "Harus berupa daftar."},
    fields.Dict: {"invalid": "Harus berupa objek."},
    fields.Mapping: {"invalid": "Harus berupa objek."},
}
_VALIDATOR_MESSAGES: dict[type, dict[str, str]] = {
    validate.OneOf: {"default_message": "Harus salah satu dari: {choices}."},
    validate.Equal: {"default_message": "Harus sama dengan {other}."},
    validate.Regexp: {"default_message": "Format tidak sesuai."},
    validate.Length: {
        "message_min": "Terlalu pendek, minimal {min}.",
        "message_max": "Terlalu panjang, maksimal {max}.",
        "message_all": "Panjang harus antara {min} dan {max}.",
        "message_equal": "Panjang harus {equal}.",
    },
    validate.Range: {
        "message_min": "Harus {min_op} {{min}}.",
        "message_max": "Harus {max_op} {{max}}.",
        "message_all": "Harus {min_op} {{min}} dan {max_op} {{max}}.",
        "message_gte": "lebih besar atau sama dengan",
        "message_gt": "lebih besar dari",
        "message_lte": "lebih kecil atau sama dengan",
        "message_lt": "lebih kecil dari",
    },
}
_SCHEMA_MESSAGES = {
    "unknown": "Isian tidak dikenal.",
    "type": "Data harus berupa objek.",
}


def install() -> None:
    """Replace marshmallow's English defaults; idempotent."""
    for cls, messages in _FIELD_MESSAGES.items():
        cls.default_error_messages = {**cls.default_error_messages, **messages}
    for cls, attributes in _VALIDATOR_MESSAGES.items():
        for name, text in attributes.items():
            setattr(cls, name, text)
    Schema._default_error_messages = {**Schema._default_error_messages, **_SCHEMA_MESSAGES}
