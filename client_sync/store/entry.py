"""Recording: a new record, an edit or a delete checked and put in the outbox.

Everything a pendamping records is written to the outbox in one SQLite transaction, with a
fresh HLC, before the call returns. Entry refuses now what the hub would refuse later (an
invalid field, a kelurahan outside the wilayah, a visit in another kelurahan than its
beneficiary, an illegal status change), naming the field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import ValidationError

from client_sync.errors import InvalidRecord
from client_sync.store import read_model
from client_sync.store.db import Db
from client_sync.store.meta import read_identity
from client_sync.store.records import check_entity, find, get, pulled_seq
from schemas.hlc import HybridClock, Timestamp, iso_from_ms
from schemas.ids import new_id
from schemas.jsonsafe import compact_json
from schemas.lifecycle import is_legal_transition
from schemas.records import SERVER_FIELDS, load_fields
from schemas.scope import sees_everything, within

__all__ = ["add", "delete", "update"]

Wall = Callable[[], int]
_LINKED = ("visit", "device_request")  # records that belong to a beneficiary
_VIEW_FIELDS = frozenset({"id", "created_at", "updated_at", "sync"})  # shown, never sent


def add(db: Db, wall: Wall, entity: str, data: dict[str, Any]) -> str:
    """Record a new beneficiary, visit or device request. :returns: its new id.

    A visit or request takes its beneficiary's kelurahan when none is given.
    :raises InvalidRecord: a field is invalid; the error names it.
    """
    check_entity(entity)
    data = dict(data)
    if entity in _LINKED and isinstance(data.get("beneficiary_id"), str):
        owner = _check_owner(db, data, default_kelurahan=True)
        data.setdefault("kelurahan", owner["kelurahan"])
    if entity == "visit":
        data.setdefault("caseworker_id", db.meta("user"))
    fields = _validate(entity, data, creating=True)
    _check_scope(db, fields)
    record_id = new_id()
    _queue(db, wall, entity, record_id, None, fields)
    return record_id


def update(db: Db, wall: Wall, entity: str, record_id: str, fields: dict[str, Any]) -> None:
    """Change some fields of a record; only those fields travel to the hub.

    :raises RecordNotFound: no such record. :raises InvalidRecord: a field is invalid.
    """
    check_entity(entity)
    current = get(db, entity, record_id)
    clean = _validate(entity, fields, creating=False)
    if (
        entity == "device_request"
        and "status" in clean
        and not is_legal_transition(current["status"], clean["status"])
    ):
        raise InvalidRecord(
            {
                "status": [
                    f"Perubahan status {current['status']} → {clean['status']} tidak diizinkan."
                ]
            }
        )
    _check_scope(db, clean)
    if entity in _LINKED and {"beneficiary_id", "kelurahan"} & clean.keys():
        _check_owner(db, {**current, **clean})
    if current["sync"] == "rejected":
        # The hub never took this record: send it again whole, as a new create.
        whole = {k: v for k, v in current.items() if k not in _VIEW_FIELDS}
        whole.update(clean)
        whole = _validate(entity, whole, creating=True)
        _queue(db, wall, entity, record_id, None, whole, supersede=True)
        return
    _queue(db, wall, entity, record_id, pulled_seq(db, record_id), clean)


def delete(db: Db, wall: Wall, entity: str, record_id: str) -> None:
    """Delete a record: a tombstone goes to the hub. :raises RecordNotFound: no such record."""
    check_entity(entity)
    get(db, entity, record_id)
    _queue(db, wall, entity, record_id, pulled_seq(db, record_id), {}, op="delete")


def _check_owner(db: Db, data: dict[str, Any], default_kelurahan: bool = False) -> dict:
    """The beneficiary a visit or request belongs to; its kelurahan must be theirs.

    :param default_kelurahan: a missing kelurahan will be taken from the beneficiary.
    """
    owner = find(db, "beneficiary", data["beneficiary_id"])
    if owner is None:
        raise InvalidRecord({"beneficiary_id": ["Penerima manfaat tidak ditemukan."]})
    kelurahan = data.get("kelurahan")
    if not (kelurahan is None and default_kelurahan) and kelurahan != owner["kelurahan"]:
        raise InvalidRecord(
            {"kelurahan": [f"Harus sama dengan kelurahan penerima manfaat ({owner['kelurahan']})."]}
        )
    return owner


def _check_scope(db: Db, fields: dict[str, Any]) -> None:
    """Refuse a kelurahan outside this laptop's wilayah now, not at the next sync."""
    identity = read_identity(db)
    kelurahan = fields.get("kelurahan")
    if kelurahan is None or sees_everything(identity.role):
        return
    if not within(identity.wilayah, kelurahan):
        raise InvalidRecord(
            {
                "kelurahan": [
                    f"{kelurahan} di luar wilayah Anda ({', '.join(identity.wilayah) or '-'})."
                ]
            }
        )


def _validate(entity: str, data: dict[str, Any], creating: bool) -> dict[str, Any]:
    bad = SERVER_FIELDS.intersection(data)
    if bad:
        raise InvalidRecord({f: ["Diisi oleh hub, tidak boleh diisi."] for f in sorted(bad)})
    try:
        return load_fields(entity, data, creating=creating)
    except ValidationError as exc:
        raise InvalidRecord(exc.normalized_messages()) from None


def _queue(
    db: Db,
    wall: Wall,
    entity: str,
    record_id: str,
    base_seq: int | None,
    fields: dict[str, Any],
    supersede: bool = False,
    op: str = "put",
) -> None:
    """Put one change in the outbox with a fresh HLC, in one durable transaction.

    :param supersede: the change replaces the record's refused changes, which are
        kept (as history) but no longer shown.
    """
    identity = read_identity(db)
    with db.atomic() as conn:
        if supersede:
            conn.execute(
                "UPDATE outbox SET state = 'superseded' WHERE record_id = ? AND state = 'rejected'",
                (record_id,),
            )
        last = db.meta("hlc")
        clock = HybridClock(identity.device_id, Timestamp.parse(last) if last else None, wall)
        hlc = clock.now().encode()
        conn.execute(
            "INSERT INTO outbox (change_id, entity, record_id, base_seq, fields, hlc,"
            " author_id, created_at, op) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                new_id(),
                entity,
                record_id,
                base_seq,
                compact_json(fields),
                hlc,
                identity.user,
                iso_from_ms(wall()),
                op,
            ),
        )
        db.set_meta(hlc=hlc)
        read_model.refresh(db, [record_id])
