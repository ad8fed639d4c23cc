"""Push and pull: the hub side of one sync round, between the views and the storage.

A push is checked change by change (one bad change never sinks the batch) and written in one
transaction. Every change gets a receipt, stored with it, so a batch resent after a dropped
connection gets the very same receipts back and writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from marshmallow import ValidationError

from schemas.hlc import Timestamp
from schemas.lifecycle import is_legal_transition
from schemas.records import SERVER_FIELDS, load_fields
from schemas.sync import load_change
from schemas.validators import in_scope
from server.merge import merge_fields
from server.storage import ChangeRow, ConflictRow, Device, HubStorage, PullPage, RecordRow
from server.timeutil import iso_from_ms

__all__ = ["PushOutcome", "SyncService", "device_scopes"]


def device_scopes(device: Device) -> tuple[str, ...] | None:
    """The wilayah prefixes a device may read and write; None (an admin) means all.

    A pendamping or supervisor with no wilayah gets an empty tuple: nothing at all.
    """
    return None if device.user.role == "admin" else device.user.wilayah


def _encode_fields(fields: Any) -> str:
    """A change's fields as stored. A refused change may hold what orjson will not write
    (nesting past its limit); it is kept as far as the stdlib can, else as a marker."""
    try:
        return orjson.dumps(fields, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:
        try:
            return json.dumps(fields, default=repr)
        except (RecursionError, ValueError):
            return '{"_tidak_terbaca": true}'


@dataclass(slots=True)
class PushOutcome:
    receipts: list[dict[str, Any]] = field(default_factory=list)
    duplicates: int = 0


def _rejected(change_id: Any, errors: dict[str, Any]) -> dict[str, Any]:
    return {
        "change_id": change_id if isinstance(change_id, str) else None,
        "status": "rejected",
        "errors": errors,
    }


class SyncService:
    """The hub's push and pull, over any :class:`HubStorage`.

    :param programs: programme codes a beneficiary may carry.
    :param now: the hub's wall clock as an ISO string; injected for tests.
    """

    def __init__(
        self, storage: HubStorage, programs: Sequence[str], now: Callable[[], str]
    ) -> None:
        self.storage = storage
        self.programs = frozenset(programs)
        self._now = now

    # -- push -----------------------------------------------------------------------------

    def push(self, device: Device, raw_changes: Sequence[Any]) -> PushOutcome:
        """Apply a batch of changes from `device`. :returns: one receipt per change, in order."""
        outcome = PushOutcome()
        received_at = self._now()
        envelopes: list[dict[str, Any] | None] = []
        for raw in raw_changes:
            try:
                change = load_change(raw)
            except ValidationError as exc:
                outcome.receipts.append(
                    _rejected(
                        raw.get("change_id") if isinstance(raw, dict) else None,
                        exc.normalized_messages(),
                    )
                )
                envelopes.append(None)
                continue
            if change["device_id"] != device.device_id:
                outcome.receipts.append(
                    _rejected(
                        change["change_id"],
                        {"device_id": ["Tidak sama dengan perangkat yang mengirim."]},
                    )
                )
                envelopes.append(None)
                continue
            outcome.receipts.append({})
            envelopes.append(change)

        with self.storage.write() as session:
            wanted = [c for c in envelopes if c is not None]
            seen = session.receipts_for([c["change_id"] for c in wanted])
            wanted_ids = {c["record_id"] for c in wanted}
            wanted_ids.update(
                c["fields"]["beneficiary_id"]
                for c in wanted
                if isinstance(c["fields"].get("beneficiary_id"), str)
            )
            records = session.records_for(list(wanted_ids))
            owners = (
                {
                    row.data.get("beneficiary_id")
                    for row in records.values()
                    if row.entity != "beneficiary"
                }
                - records.keys()
                - {None}
            )
            if owners:  # beneficiaries of visits and requests edited in this batch
                records.update(session.records_for(list(owners)))
            seq = session.last_seq()
            touched: dict[str, RecordRow] = {}
            new_changes: list[ChangeRow] = []
            conflicts: list[ConflictRow] = []
            for index, change in enumerate(envelopes):
                if change is None:
                    continue
                change_id = change["change_id"]
                if change_id in seen:
                    outcome.receipts[index] = orjson.loads(seen[change_id])
                    outcome.duplicates += 1
                    continue
                row = records.get(change["record_id"])
                try:
                    fields = self._check(device, change, row)
                    self._check_owner(change["entity"], fields, row, records)
                except ValidationError as exc:
                    receipt = _rejected(change_id, exc.normalized_messages())
                else:
                    seq += 1
                    row, lost = self._apply(change, row, fields, seq)
                    records[row.id] = touched[row.id] = row
                    conflicts += [
                        ConflictRow(
                            row.id,
                            row.entity,
                            loss.field,
                            "field",
                            loss.kept_value,
                            loss.kept_hlc,
                            loss.lost_value,
                            loss.lost_hlc,
                            change_id,
                            change["device_id"],
                            change["author_id"],
                            received_at,
                        )
                        for loss in lost
                    ]
                    receipt = {
                        "change_id": change_id,
                        "status": "conflict" if lost else "applied",
                        "seq": seq,
                    }
                    change["fields"] = fields
                receipt_json = orjson.dumps(receipt, option=orjson.OPT_NON_STR_KEYS).decode()
                seen[change_id] = receipt_json
                outcome.receipts[index] = receipt
                new_changes.append(
                    ChangeRow(
                        change_id,
                        change["device_id"],
                        change["author_id"],
                        change["entity"],
                        change["record_id"],
                        change["hlc"],
                        _encode_fields(change["fields"]),
                        received_at,
                        receipt_json,
                    )
                )
            session.save(touched.values(), new_changes, conflicts)
            session.touch_device(device.device_id, received_at, synced=True)
        return outcome

    @staticmethod
    def _check_owner(
        entity: str, fields: dict[str, Any], row: RecordRow | None, records: dict[str, RecordRow]
    ) -> None:
        """A visit or request carries its beneficiary's kelurahan (DESIGN.md §3).

        Checked when the hub holds the beneficiary; a beneficiary not yet here (made on
        another laptop, still on its way) is taken on trust, as the laptop checked it.
        """
        if entity == "beneficiary" or not ({"beneficiary_id", "kelurahan"} & fields.keys()):
            return
        owner_id = fields.get("beneficiary_id") or (row.data.get("beneficiary_id") if row else None)
        owner = records.get(owner_id) if owner_id else None
        if owner is None:
            return
        if owner.entity != "beneficiary":
            raise ValidationError({"beneficiary_id": ["Bukan id penerima manfaat."]})
        kelurahan = fields.get("kelurahan") or (row.kelurahan if row else None)
        if kelurahan != owner.kelurahan:
            raise ValidationError(
                {
                    "kelurahan": [
                        f"Harus sama dengan kelurahan penerima manfaat ({owner.kelurahan})."
                    ]
                }
            )

    def _check(self, device: Device, change: dict[str, Any], row: RecordRow | None) -> dict:
        """The change's fields, validated; :raises ValidationError: naming the field."""
        entity = change["entity"]
        creating = row is None
        if row is not None and row.entity != entity:
            raise ValidationError({"record_id": [f"Sudah dipakai oleh {row.entity}."]})
        server_fields = SERVER_FIELDS.intersection(change["fields"])
        if server_fields:
            raise ValidationError(
                {f: ["Diisi oleh hub, tidak boleh dikirim."] for f in sorted(server_fields)}
            )
        fields = load_fields(entity, change["fields"], creating=creating)
        scopes = device_scopes(device)
        for kelurahan in {fields.get("kelurahan"), row.kelurahan if row else None} - {None}:
            if scopes is not None and not any(in_scope(kelurahan, w) for w in scopes):
                where = ", ".join(scopes) or "tidak ada wilayah"
                raise ValidationError(
                    {"kelurahan": [f"{kelurahan} di luar wilayah perangkat ini ({where})."]}
                )
        unknown = set(fields.get("programs") or ()) - self.programs
        if unknown:
            raise ValidationError(
                {"programs": [f"Program tidak dikenal hub: {', '.join(sorted(unknown))}."]}
            )
        if entity == "device_request" and "status" in fields:
            current = row.data.get("status") if row else None
            if current is None and fields["status"] != "diajukan":
                raise ValidationError({"status": ["Permohonan baru harus berstatus diajukan."]})
            if current is not None and not is_legal_transition(current, fields["status"]):
                raise ValidationError(
                    {
                        "status": [
                            f"Perubahan status {current} → {fields['status']} tidak diizinkan."
                        ]
                    }
                )
        return fields

    @staticmethod
    def _apply(
        change: dict[str, Any], row: RecordRow | None, fields: dict[str, Any], seq: int
    ) -> tuple[RecordRow, tuple]:
        hlc = change["hlc"]
        stamp = iso_from_ms(Timestamp.parse(hlc).ms)
        if row is None:
            row = RecordRow(
                change["record_id"],
                change["entity"],
                fields["kelurahan"],
                seq,
                False,
                {},
                {},
                stamp,
                stamp,
            )
        merged = merge_fields(row.data, row.clocks, fields, hlc)
        data = merged.data
        data["created_at"], data["updated_at"] = row.created_at, max(row.updated_at, stamp)
        return RecordRow(
            row.id,
            row.entity,
            data.get("kelurahan", row.kelurahan),
            seq,
            row.deleted,
            data,
            merged.clocks,
            row.created_at,
            data["updated_at"],
        ), merged.lost

    # -- pull -----------------------------------------------------------------------------

    def pull(self, device: Device, since: int, limit: int) -> PullPage:
        """Records in the device's scope above `since`, oldest first."""
        return self.storage.pull(device_scopes(device), since, limit)
