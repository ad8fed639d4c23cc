"""Validation messages in Bahasa Indonesia, for marshmallow's built-in fields and validators.

The pendamping reads these on the laptop (the client validates with the same schemas before
anything is queued) and the district office reads them in receipts. They apply to the
schemas that derive from :class:`Schema` here, and to no one else's: marshmallow's own
defaults are left as they are (nothing is patched on import). A message a field or a
validator was given explicitly is kept.
"""

from __future__ import annotations

import copy
from typing import Any

from marshmallow import Schema as _Schema
from marshmallow import fields, validate

__all__ = ["Schema", "localize"]

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


def _merged(cls: type, extra: dict[type, dict[str, str]]) -> dict[str, str]:
    """A field class's messages as marshmallow merges them (base classes first), with
    `extra` laid over each class's own."""
    messages: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        messages.update(vars(klass).get("default_error_messages", {}))
        messages.update(extra.get(klass, {}))
    return messages


_BY_CLASS: dict[type, dict[str, tuple[str | None, str]]] = {}


def _indonesian(cls: type) -> dict[str, tuple[str | None, str]]:
    """For a field class: (English default, Indonesian) of each message that differs."""
    if cls not in _BY_CLASS:
        english, ours = _merged(cls, {}), _merged(cls, _FIELD_MESSAGES)
        _BY_CLASS[cls] = {k: (english.get(k), v) for k, v in ours.items() if english.get(k) != v}
    return _BY_CLASS[cls]


def _localize_validator(validator: Any) -> Any:
    kind = type(validator)
    if isinstance(validator, validate.Range) and validator.error is None:
        texts = _VALIDATOR_MESSAGES[validate.Range]
        low = texts["message_gte" if validator.min_inclusive else "message_gt"]
        high = texts["message_lte" if validator.max_inclusive else "message_lt"]
        validator = copy.copy(validator)
        validator.message_min = texts["message_min"].format(min_op=low)
        validator.message_max = texts["message_max"].format(max_op=high)
        validator.message_all = texts["message_all"].format(min_op=low, max_op=high)
    elif isinstance(validator, validate.Length) and validator.error is None:
        validator = copy.copy(validator)
        for name, text in _VALIDATOR_MESSAGES[validate.Length].items():
            setattr(validator, name, text)
    elif (
        kind in (validate.OneOf, validate.Equal, validate.Regexp)
        and validator.error == kind.default_message
    ):
        validator = copy.copy(validator)
        validator.error = _VALIDATOR_MESSAGES[kind]["default_message"]
    return validator


def localize(field: fields.Field) -> None:
    """Give `field` (a schema's own bound copy), its validators and its inner fields the
    Indonesian messages wherever they hold marshmallow's English defaults."""
    changes = {
        key: text
        for key, (english, text) in _indonesian(type(field)).items()
        if field.error_messages.get(key) == english
    }
    if changes:
        field.error_messages = {**field.error_messages, **changes}
    field.validators = [_localize_validator(v) for v in field.validators]
    for name in ("inner", "key_field", "value_field"):
        inner = getattr(field, name, None)
        if isinstance(inner, fields.Field):
            inner = copy.copy(inner)
            localize(inner)
            setattr(field, name, inner)
    if isinstance(field, fields.Tuple):
        field.tuple_fields = [copy.copy(f) for f in field.tuple_fields]
        for inner in field.tuple_fields:
            localize(inner)


class Schema(_Schema):
    """marshmallow's Schema, answering in Bahasa Indonesia: the base of every schema of ours."""

    error_messages = _SCHEMA_MESSAGES

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        localize(field_obj)
