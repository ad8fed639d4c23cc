"""May this change be merged at all? The per-change checks of a push, before the merge rule.

Every refusal is a :class:`marshmallow.ValidationError` keyed by the field it concerns, which
becomes a `rejected` receipt; a refusal never affects the other changes of the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from marshmallow import ValidationError

from schemas.lifecycle import may_set
from schemas.records import SERVER_FIELDS, complete_fields
from server.scope import Scope
from server.storage import Device, RecordRow

__all__ = ["admit"]


def _refuse(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


def admit(
    device: Device,
    scope: Scope,
    change: Mapping[str, Any],
    row: RecordRow | None,
    programs: frozenset[str],
    lookup: Callable[[str], RecordRow | None],
    preloaded: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The change's fields, validated and canonical.

    :param scope: the device's user's scope, made once per push (``Scope.of(device.user)``).
    :param row: the record as the hub holds it, or None for a new record.
    :param lookup: finds another record (a visit's beneficiary) by id.
    :param preloaded: :func:`schemas.records.preload_fields` of the change's fields, done
        before the write transaction; the same checks, in the same order, either way.
    :raises ValidationError: naming the field that breaks a rule.
    """
    entity = change["entity"]
    if row is not None and row.entity != entity:
        raise _refuse("record_id", f"Sudah dipakai oleh {row.entity}.")
    server_fields = SERVER_FIELDS.intersection(change["fields"])
    if server_fields:
        raise ValidationError(
            {f: ["Diisi oleh hub, tidak boleh dikirim."] for f in sorted(server_fields)}
        )
    if change.get("op") == "delete":
        if change["fields"]:
            raise _refuse("fields", "Penghapusan tidak membawa isian.")
        if row is None:
            raise _refuse("record_id", "Tidak ada data dengan id ini di hub.")
        fields: dict[str, Any] = {}
    else:
        fields = complete_fields(entity, change["fields"], preloaded, creating=row is None)
    if entity != "beneficiary":
        fields = _follow_merge(fields, lookup)
    _check_scope(scope, fields, row)
    unknown = set(fields.get("programs") or ()) - programs
    if unknown:
        raise _refuse("programs", f"Program tidak dikenal hub: {', '.join(sorted(unknown))}.")
    if entity == "device_request" and "status" in fields:
        _check_status(device, fields["status"], row)
    if entity != "beneficiary":
        _check_owner(fields, row, lookup)
    return fields


def _check_scope(scope: Scope, fields: Mapping[str, Any], row: RecordRow | None) -> None:
    if scope.prefixes is None:
        return
    for kelurahan in {fields.get("kelurahan"), row.kelurahan if row else None} - {None}:
        if not scope.covers(str(kelurahan)):
            where = ", ".join(scope.prefixes) or "tidak ada wilayah"
            raise _refuse("kelurahan", f"{kelurahan} di luar wilayah perangkat ini ({where}).")


def _check_status(device: Device, status: str, row: RecordRow | None) -> None:
    """Who may move a request where; whether the move is legal is the merge's to judge,
    since it depends on what else happened concurrently."""
    current = row.data.get("status") if row else None
    if current is None and status != "diajukan":
        raise _refuse("status", "Permohonan baru harus berstatus diajukan.")
    if current is not None and status != current and not may_set(device.user.role, status):
        raise _refuse(
            "status", f"Peran {device.user.role} tidak boleh mengubah status menjadi {status}."
        )


def _follow_merge(
    fields: dict[str, Any], lookup: Callable[[str], RecordRow | None]
) -> dict[str, Any]:
    """A visit or request recorded for a beneficiary the office has since merged into
    another goes to the survivor, with the survivor's kelurahan, instead of to a tombstone."""
    owner_id = fields.get("beneficiary_id")
    for _ in range(5):  # a merge of a merge, at most a few deep
        owner = lookup(owner_id) if isinstance(owner_id, str) else None
        survivor = owner.data.get("merged_into") if owner and owner.deleted else None
        if not isinstance(survivor, str) or lookup(survivor) is None:
            break
        owner_id = survivor
        fields = {**fields, "beneficiary_id": survivor, "kelurahan": lookup(survivor).kelurahan}  # type: ignore[union-attr]
    return fields


def _check_owner(
    fields: Mapping[str, Any], row: RecordRow | None, lookup: Callable[[str], RecordRow | None]
) -> None:
    """A visit or request carries its beneficiary's kelurahan (DESIGN.md §3).

    Checked when the hub holds the beneficiary; a beneficiary not yet here (made on another
    laptop, still on its way) is taken on trust, as the laptop checked it.
    """
    if not {"beneficiary_id", "kelurahan"} & fields.keys():
        return
    owner_id = fields.get("beneficiary_id") or (row.data.get("beneficiary_id") if row else None)
    owner = lookup(owner_id) if owner_id else None
    if owner is None:
        return
    if owner.entity != "beneficiary":
        raise _refuse("beneficiary_id", "Bukan id penerima manfaat.")
    kelurahan = fields.get("kelurahan") or (row.kelurahan if row else None)
    if kelurahan != owner.kelurahan:
        raise _refuse(
            "kelurahan", f"Harus sama dengan kelurahan penerima manfaat ({owner.kelurahan})."
        )
