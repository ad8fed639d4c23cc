"""The three record schemas of DESIGN.md §3: beneficiary, visit and device_request.

A change carries only the fields its edit set, so the hub and the laptop load a change's
`fields` with ``partial=True`` unless the change creates the record. `id`, `created_at`,
`updated_at` and `status_history` are the hub's to assign and never come in a change.
Every load returns JSON-native values, ready to store.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from marshmallow import RAISE, ValidationError, fields, validate

from schemas.codes import (
    CATEGORIES,
    DEVICE_STATUSES,
    DEVICE_TYPES,
    DISABILITY_TYPES,
    INITIAL_DEVICE_STATUS,
    SEXES,
    VERIFICATION_OUTCOMES,
    VISIT_PURPOSES,
)
from schemas.compiled import CompiledLoader, json_plain
from schemas.fastload import FastLoader
from schemas.fields import IsoDate, IsoDateTime, UuidText
from schemas.jsonsafe import unsafe_fields
from schemas.messages import Schema
from schemas.review import NOTE_MAX, REVIEW_FIELD
from schemas.validators import (
    MULTILINE_CONTROL,
    SINGLE_LINE_CONTROL,
    validate_kelurahan,
    validate_multiline,
    validate_nik,
    validate_single_line,
)

__all__ = [
    "RECORD_SCHEMAS",
    "SERVER_FIELDS",
    "BeneficiarySchema",
    "DeviceRequestSchema",
    "VisitSchema",
    "complete_fields",
    "load_fields",
    "preload_fields",
]

_PROGRAM_CODE = validate.Regexp(r"^[A-Z][A-Z0-9_]{1,15}$", error="Kode program tidak valid.")
_SHA256 = validate.Regexp(r"^[0-9a-f]{64}$", error="Harus sha256 (64 huruf hex kecil).")
_PHONE = validate.Regexp(r"^\+?[0-9][0-9 -]{5,19}$", error="Nomor telepon tidak valid.")

#: Fields the hub assigns; a change that sets one is refused like any unknown field. A
#: visit's `review` is the district office's (schemas/review.py), written on the hub only.
SERVER_FIELDS: frozenset[str] = frozenset(
    {"id", "created_at", "updated_at", "status_history", "merged_into", REVIEW_FIELD}
)


def _unique(values: list[Any]) -> None:
    if len(set(values)) != len(values):
        raise ValidationError("Nilai tidak boleh berulang.")


def _code_list(choices: tuple[str, ...]) -> fields.List:
    return fields.List(
        fields.String(validate=validate.OneOf(choices)),
        validate=[validate.Length(max=len(choices)), _unique],
    )


def _plain_structure(value: dict[str, Any]) -> None:
    """An assessment's keys are one-line text, and its texts at any depth multi-line notes.
    One check over the whole object (not one per key field), so msgspec still types it."""
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, inner in item.items():
                if isinstance(key, str) and SINGLE_LINE_CONTROL.search(key):
                    validate_single_line(key)
                stack.append(inner)
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and MULTILINE_CONTROL.search(item):
            validate_multiline(item)


def _structured() -> fields.Dict:
    """A structured object such as an assessment: text keys, at most 100 of them."""
    return fields.Dict(
        keys=fields.String(validate=validate.Length(max=100)),
        allow_none=True,
        validate=[validate.Length(max=100), _plain_structure],
    )


def _attachments() -> fields.List:
    """Photos of the record, by the sha256 of their content (the files travel by tus)."""
    return fields.List(fields.String(validate=_SHA256), validate=validate.Length(max=50))


def _text(max_len: int, *, multiline: bool = False, **kwargs: Any) -> fields.String:
    """Free text: one line (a name, an id), or a note that may hold newlines and tabs."""
    plain = validate_multiline if multiline else validate_single_line
    return fields.String(validate=[validate.Length(max=max_len), plain], **kwargs)


class _RecordSchema(Schema):
    class Meta:
        unknown = RAISE

    kelurahan = fields.String(required=True, validate=validate_kelurahan)


class BeneficiarySchema(_RecordSchema):
    """A penerima manfaat. `nik` may be absent: not everyone has an e-KTP yet."""

    nik = fields.String(allow_none=True, validate=validate_nik)
    name = fields.String(
        required=True, validate=[validate.Length(min=1, max=200), validate_single_line]
    )
    birth_date = IsoDate(allow_none=True)
    sex = fields.String(required=True, validate=validate.OneOf(SEXES))
    address = _text(500, multiline=True, allow_none=True)
    categories = _code_list(CATEGORIES)
    disability_types = _code_list(DISABILITY_TYPES)
    programs = fields.List(
        fields.String(validate=_PROGRAM_CODE), validate=[validate.Length(max=20), _unique]
    )
    dtsen_id = _text(40, allow_none=True)
    phone = fields.String(allow_none=True, validate=_PHONE)
    attachments = _attachments()  # the house photo


class VisitSchema(_RecordSchema):
    """A kunjungan to a beneficiary's home; it carries the beneficiary's kelurahan."""

    beneficiary_id = UuidText(required=True)
    caseworker_id = _text(100, allow_none=True)
    visited_at = IsoDateTime(required=True)
    purpose = fields.String(required=True, validate=validate.OneOf(VISIT_PURPOSES))
    findings = _text(10_000, multiline=True, allow_none=True)
    assessment = _structured()
    follow_up = _text(5_000, multiline=True, allow_none=True)
    lat = fields.Float(allow_none=True, validate=validate.Range(-90, 90), allow_nan=False)
    lon = fields.Float(allow_none=True, validate=validate.Range(-180, 180), allow_nan=False)
    attachments = _attachments()
    #: what the visit found for the monthly verification (docs/office.md): layak,
    #: tidak_layak, meninggal, pindah; absent on a visit that verified nothing
    verification_outcome = fields.String(
        allow_none=True, validate=validate.OneOf(VERIFICATION_OUTCOMES)
    )


class DeviceRequestSchema(_RecordSchema):
    """A request for an assistive device (ABF); it starts as `diajukan`."""

    beneficiary_id = UuidText(required=True)
    device_type = fields.String(required=True, validate=validate.OneOf(DEVICE_TYPES))
    reason = _text(5_000, multiline=True, allow_none=True)
    assessment = _structured()
    status = fields.String(
        load_default=INITIAL_DEVICE_STATUS, validate=validate.OneOf(DEVICE_STATUSES)
    )
    attachments = _attachments()  # the ABF handover photo, the signature
    #: why the office rejected it (``ditolak``)
    reject_reason = _text(NOTE_MAX, multiline=True, allow_none=True)
    #: the handover (``diserahkan``): the day, and who received the device
    handover_date = IsoDate(allow_none=True)
    received_by = _text(200, allow_none=True)


RECORD_SCHEMAS: dict[str, Schema] = {
    "beneficiary": BeneficiarySchema(),
    "visit": VisitSchema(),
    "device_request": DeviceRequestSchema(),
}


#: Validators that refuse nothing but control characters (SINGLE_LINE_CONTROL, and
#: MULTILINE_CONTROL within it): a push skips them for a change whose JSON holds none.
_CONTROL_ONLY = (validate_single_line, validate_multiline, _plain_structure)

#: Every SINGLE_LINE_CONTROL character as orjson writes it, in a key or a text at any depth:
#: U+0000-U+001F escaped (``\b \t \n \f \r`` or ``\u00XX``), DEL and U+0080-U+009F and
#: U+2028/U+2029 as their raw UTF-8 bytes. Also matches a few texts without one (an
#: escaped backslash before ``n``, say): those take the per-field checks, nothing more.
_CONTROL_IN_JSON = re.compile(rb"\\[bfnrtu]|\x7f|\xc2[\x80-\x9f]|\xe2\x80[\xa8\xa9]")

#: msgspec first (schemas/compiled.py), then marshmallow's fields, then the schema itself
_LOADERS = {
    entity: CompiledLoader(schema, FastLoader(schema).load, skippable=_CONTROL_ONLY)
    for entity, schema in RECORD_SCHEMAS.items()
}


def _no_control(data: Any, sent: bytes | None) -> bool:
    """True when no key or text anywhere in `data` holds a control character, found with
    one search over its JSON (`sent`, else encoded here); False when unsure."""
    if sent is None:
        try:
            sent = orjson.dumps(data)
        except TypeError:  # not JSON (orjson's error is a TypeError): check field by field
            return False
    if sent.isascii() and b"\\" not in sent and b"\x7f" not in sent:
        return True  # most changes: three passes in C, a third of the regex's cost
    return _CONTROL_IN_JSON.search(sent) is None


def load_fields(entity: str, data: Any, *, creating: bool) -> dict[str, Any]:
    """Validate the fields of one change and return them canonical.

    :param creating: the change makes a new record, so every required field must be there.
    :raises ValidationError: with messages keyed by field name.
    """
    if not isinstance(data, dict):
        raise ValidationError({"fields": ["Harus berupa objek."]})
    if not data and not creating:
        raise ValidationError({"fields": ["Perubahan tanpa isian."]})
    loaded = _LOADERS[entity].load(data, partial=not creating)
    unsafe = unsafe_fields(loaded)  # what the schema lets through but JSON cannot carry
    if unsafe:
        raise ValidationError(unsafe)
    return loaded


def preload_fields(entity: str, data: Any, sent: bytes | None = None) -> dict[str, Any] | None:
    """Every field the change sets, checked and canonical, when all pass; else None.

    This is the part of :func:`load_fields` that does not depend on whether the record
    exists yet, so a push does it for its whole batch before its write transaction, and
    :func:`complete_fields` finishes it inside. None (invalid, or not decided by the
    compiled path) leaves everything to :func:`load_fields`, which names the field.

    :param sent: ``orjson.dumps(data)``, when the caller has it: one search of it for
        control characters stands for every text field's own check (the common case, none
        anywhere); where it finds one, each field's check runs as before.
    """
    loader = _LOADERS.get(entity)
    if loader is None or type(data) is not dict:
        return None
    loaded = loader.accept(data, partial=True, lean=_no_control(data, sent))
    if loaded is None:
        return None
    for name in loader.loose.intersection(loaded):  # msgspec checked the rest for JSON
        if not json_plain(loaded[name]):
            return None  # load_fields runs the full check and names the field
    return loaded


def complete_fields(
    entity: str, data: Any, preloaded: dict[str, Any] | None, *, creating: bool
) -> dict[str, Any]:
    """What ``load_fields(entity, data, creating=creating)`` returns (or raises), given
    :func:`preload_fields`' result for the same `data`: without a second load when it holds.

    :raises ValidationError: with messages keyed by field name.
    """
    if preloaded is None:
        return load_fields(entity, data, creating=creating)
    if not creating:
        if not data:
            raise ValidationError({"fields": ["Perubahan tanpa isian."]})
        return preloaded
    completed = _LOADERS[entity].complete(preloaded)
    if completed is None or (completed is not preloaded and unsafe_fields(completed)):
        return load_fields(entity, data, creating=creating)  # the schema says what is wrong
    return completed
