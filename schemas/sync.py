"""The sync envelope of DESIGN.md §4: change, push request, receipt, pull page, enrolment.

The hub validates a push in two steps so that one bad change never sinks a batch: the
request loads with :class:`PushRequestSchema` (the list itself), then each change loads on
its own with :class:`ChangeSchema` and its `fields` with the entity's record schema.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

from marshmallow import RAISE, ValidationError, validate
from marshmallow import fields as ma

from schemas.codes import ENTITIES
from schemas.fastload import FastLoader
from schemas.fields import UuidText
from schemas.hlc import is_hlc
from schemas.messages import Schema
from schemas.protocol import (
    AUTHOR_ID_MAX,
    DEVICE_ID_MAX,
    DEVICE_NAME_MAX,
    ENROLL_CODE_MAX,
    ENROLL_CODE_MIN,
    MAX_SEQ,
    PROTOCOL_VERSION,
    PULL_LIMIT_DEFAULT,
    PULL_LIMIT_MAX,
)
from schemas.validators import validate_single_line

__all__ = [
    "RECEIPT_STATUSES",
    "ChangeSchema",
    "EnrollRequestSchema",
    "EnrollResponseSchema",
    "PullArgsSchema",
    "PullExitSchema",
    "PullPageSchema",
    "PullRecordSchema",
    "PushRequestSchema",
    "PushResponseSchema",
    "ReceiptSchema",
    "batch_check",
    "compact_receipts",
    "expand_receipts",
    "load_change",
]

RECEIPT_STATUSES: tuple[str, ...] = ("applied", "merged", "conflict", "duplicate", "rejected")


class _Strict(Schema):
    class Meta:
        unknown = RAISE


def _check_hlc(value: str) -> None:
    if not is_hlc(value):
        raise ValidationError("Harus HLC 'ms:counter:node' dengan waktu sebelum tahun 10000.")


class ChangeSchema(_Strict):
    """One edit made on a laptop. `change_id` is made once and reused on every resend."""

    change_id = UuidText(required=True)
    entity = ma.String(required=True, validate=validate.OneOf(ENTITIES))
    record_id = UuidText(required=True)
    base_seq = ma.Integer(
        required=True, strict=True, allow_none=True, validate=validate.Range(min=0, max=MAX_SEQ)
    )
    # a wire field named like Schema.fields: marshmallow takes it as declared, mypy cannot
    fields = ma.Dict(required=True)  # type: ignore[assignment]  # checked per entity schema
    hlc = ma.String(
        required=True,
        validate=_check_hlc,
    )
    device_id = ma.String(required=True, validate=validate.Length(min=1, max=DEVICE_ID_MAX))
    author_id = ma.String(required=True, validate=validate.Length(min=1, max=AUTHOR_ID_MAX))
    #: ``put`` (the default, omitted on the wire) sets fields; ``delete`` makes a tombstone.
    op = ma.String(validate=validate.OneOf(("put", "delete")))


class PushRequestSchema(_Strict):
    """A batch of changes. The changes are checked one by one, so here they are raw."""

    protocol = ma.Integer(required=True, strict=True, validate=validate.Equal(PROTOCOL_VERSION))
    schema_version = ma.Integer(required=True, strict=True, validate=validate.Range(min=1))
    # Raw: each change is loaded on its own by load_change, which names its errors.
    changes = ma.List(ma.Raw(metadata={"type": "object"}), required=True)
    #: ``compact`` asks for receipts as :func:`compact_receipts` writes them
    receipts = ma.String(load_default="full", validate=validate.OneOf(("full", "compact")))


class ReceiptSchema(_Strict):
    """What became of one change. `seq` is the record's hub sequence after it."""

    change_id = ma.String(required=True, allow_none=True)
    status = ma.String(required=True, validate=validate.OneOf(RECEIPT_STATUSES))
    seq = ma.Integer(allow_none=True)
    errors = ma.Dict(keys=ma.String())
    hlc = ma.String(metadata={"description": "the HLC the hub gave a change it clamped"})
    quiet = ma.Boolean(
        metadata={"description": "applied as sent: not echoed in pulls, the laptop stamps it"}
    )


class PushResponseSchema(_Strict):
    """Full receipts, or (when the push asked for them) compact ones and a check."""

    receipts = ma.List(ma.Nested(ReceiptSchema))
    compact = ma.List(
        ma.Raw(),
        metadata={"description": "[first_seq, count] runs of quiet receipts, else receipts"},
    )
    check = ma.String(metadata={"description": "batch_check of the change ids pushed"})
    duplicates = ma.Integer(required=True)
    received_at = ma.String(
        metadata={
            "description": "the hub's UTC time of receipt (ISO 8601) when the push carried"
            " changes; optional: an older hub does not send it, an older laptop ignores it"
        }
    )


class PullArgsSchema(_Strict):
    """Query of a pull: records whose hub seq is above `since`, at most `limit` of them."""

    since = ma.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_SEQ))
    limit = ma.Integer(
        load_default=PULL_LIMIT_DEFAULT, validate=validate.Range(min=1, max=PULL_LIMIT_MAX)
    )


class PullRecordSchema(_Strict):
    """The hub's current state of one record."""

    entity = ma.String(required=True)
    id = ma.String(required=True)
    seq = ma.Integer(required=True)
    deleted = ma.Boolean(required=True)
    hlc = ma.String(required=True)
    data = ma.Dict(required=True)


class PullExitSchema(_Strict):
    """A record that left the caller's scope at `seq`: the laptop drops its copy."""

    id = ma.String(required=True)
    entity = ma.String(required=True)
    seq = ma.Integer(required=True)


class PullPageSchema(_Strict):
    """A page of a pull; the hub writes it as text, in this order (schemas/pull_page.py)."""

    records = ma.List(ma.Nested(PullRecordSchema), required=True)
    conflicts = ma.List(ma.Dict(), required=True)
    #: records that left the caller's scope within the page's span; absent when none
    exits = ma.List(ma.Nested(PullExitSchema))
    next = ma.Integer(required=True)
    more = ma.Boolean(required=True)


class EnrollRequestSchema(_Strict):
    code = ma.String(
        required=True, validate=validate.Length(min=ENROLL_CODE_MIN, max=ENROLL_CODE_MAX)
    )
    device_name = ma.String(
        required=True,
        validate=[validate.Length(min=1, max=DEVICE_NAME_MAX), validate_single_line],
    )


class EnrollResponseSchema(_Strict):
    device_id = ma.String(required=True)
    token = ma.String(required=True)
    user = ma.String(required=True)
    role = ma.String(required=True)
    wilayah = ma.List(ma.String(), required=True)


_change_loader = FastLoader(ChangeSchema())
_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ENTITY_SET = frozenset(ENTITIES)
_CHANGE_KEYS = frozenset(ChangeSchema().declared_fields) - {"op"}


def _fast_change(raw: Any) -> dict[str, Any] | None:
    """The change itself when it is plainly well formed, else None.

    Profiling a 10,000-change push showed the envelope costing as much as the record
    inside it (UUID parsing, regex and length validators through marshmallow's field
    machinery). This accepts only what :class:`ChangeSchema` loads to the very same value
    (canonical lower-case UUIDs, in-range integers, a matching HLC); anything else goes to
    the schema, which stays the one authority on validity and on error messages. A
    Hypothesis test holds the two to that.
    """
    if type(raw) is not dict or raw.keys() != _CHANGE_KEYS:
        return None  # (a delete's `op` goes the schema's way: deletes are rare)
    base_seq, entity, hlc = raw["base_seq"], raw["entity"], raw["hlc"]
    device_id, author_id = raw["device_id"], raw["author_id"]
    if (
        type(raw["change_id"]) is str
        and _UUID_RE.fullmatch(raw["change_id"])
        and type(raw["record_id"]) is str
        and _UUID_RE.fullmatch(raw["record_id"])
        and type(entity) is str
        and entity in _ENTITY_SET
        and (base_seq is None or (type(base_seq) is int and 0 <= base_seq <= MAX_SEQ))
        and type(raw["fields"]) is dict
        and type(hlc) is str
        and is_hlc(hlc)
        and type(device_id) is str
        and 1 <= len(device_id) <= DEVICE_ID_MAX
        and type(author_id) is str
        and 1 <= len(author_id) <= AUTHOR_ID_MAX
    ):
        return raw
    return None


def load_change(raw: Any) -> dict[str, Any]:
    """Load one change of a push as ``ChangeSchema().load`` does, faster when it is valid.

    :raises marshmallow.ValidationError: keyed by the envelope's field names.
    """
    fast = _fast_change(raw)
    return fast if fast is not None else _change_loader.load(raw)


_RUN_KEYS = frozenset({"change_id", "status", "seq", "quiet"})


def batch_check(change_ids: Sequence[str | None]) -> str:
    """16 hex digits naming a batch by its change ids, so a laptop can tell that compact
    receipts (which carry no ids) answer the batch it sent and not another."""
    joined = "\n".join(c if isinstance(c, str) else "" for c in change_ids)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:16]


def compact_receipts(receipts: Sequence[dict[str, Any]]) -> list[Any]:
    """Receipts for the wire: a quiet `applied` receipt whose seq follows the one before it
    joins a run ``[first_seq, count]``; any other receipt goes whole. A thousand new visits
    answer in a dozen bytes instead of a thousand change ids."""
    out: list[Any] = []
    for receipt in receipts:
        if (
            receipt.keys() == _RUN_KEYS
            and receipt["status"] == "applied"
            and receipt["quiet"] is True
            and type(receipt["seq"]) is int
        ):
            last = out[-1] if out else None
            if isinstance(last, list) and last[0] + last[1] == receipt["seq"]:
                last[1] += 1
            else:
                out.append([receipt["seq"], 1])
        else:
            out.append(receipt)
    return out


def expand_receipts(items: Any, change_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The receipts :func:`compact_receipts` wrote, one per change id, in order.

    :raises ValueError: `items` is not such a list, or does not cover exactly these ids.
    """
    if not isinstance(items, list):
        raise ValueError("compact receipts are not a list")
    receipts: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, dict):
            receipts.append(item)
            continue
        if (
            not isinstance(item, list)
            or len(item) != 2
            or not all(type(n) is int for n in item)
            or item[1] < 1
            or len(receipts) + item[1] > len(change_ids)
        ):
            raise ValueError("a run of compact receipts is malformed")
        first, count = item
        for offset in range(count):
            change_id = change_ids[len(receipts)]
            receipts.append(
                {"change_id": change_id, "status": "applied", "seq": first + offset, "quiet": True}
            )
    if len(receipts) != len(change_ids):
        raise ValueError("compact receipts do not cover the batch")
    return receipts
