"""Stamp the laptop's own copy of a record from a *quiet* receipt, instead of pulling it back.

The hub marks a receipt quiet when it applied the change exactly as sent on top of the very
state this laptop holds; it then leaves the record out of this laptop's pulls. The laptop
builds the hub's new state itself, with the same :func:`schemas.stamps.stamp_record` the hub
used, so both hold the same record without its bytes crossing a 2G link twice.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import orjson

from schemas.stamps import stamp_record, status_transition

__all__ = ["fold_quiet", "is_quiet"]


def is_quiet(receipt: dict[str, Any]) -> bool:
    return (
        receipt.get("quiet") is True
        and receipt.get("status") == "applied"
        and type(receipt.get("seq")) is int
    )


def fold_quiet(
    conn: sqlite3.Connection, device_id: str, receipts: Sequence[dict[str, Any]]
) -> set[str]:
    """Fold each quiet receipt's pending change into `pulled`, in the order given, and drop
    it from the outbox. Runs inside the caller's transaction.

    :returns: the change ids folded (a change no longer pending is left alone).
    """
    folded: set[str] = set()
    for receipt in receipts:
        if not is_quiet(receipt):
            continue
        change = conn.execute(
            "SELECT entity, record_id, fields, hlc, author_id, op FROM outbox"
            " WHERE change_id = ? AND state = 'pending'",
            (receipt["change_id"],),
        ).fetchone()
        if change is None:
            continue
        entity, record_id, fields_json, hlc, author_id, op = change
        before = conn.execute(
            "SELECT seq, deleted, data FROM pulled WHERE id = ?", (record_id,)
        ).fetchone()
        data: dict[str, Any] = orjson.loads(before[2]) if before else {}
        fields = orjson.loads(fields_json)
        deleted = bool(before[1]) if before else False
        transition = None
        if op == "delete":
            deleted = True
        else:
            transition = status_transition(data if before else None, fields)
            data.update(fields)
        stamp_record(
            data,
            hlc=receipt.get("hlc") or hlc,
            seq=receipt["seq"],
            author_id=author_id,
            device_id=device_id,
            transition=transition,
            created_before=data.get("created_at") if before else None,
            updated_before=data.get("updated_at") if before else None,
        )
        conn.execute(
            "INSERT INTO pulled (id, entity, seq, deleted, data) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET entity = excluded.entity, seq = excluded.seq,"
            " deleted = excluded.deleted, data = excluded.data WHERE excluded.seq > pulled.seq",
            (record_id, entity, receipt["seq"], int(deleted), orjson.dumps(data).decode()),
        )
        conn.execute("DELETE FROM outbox WHERE change_id = ?", (receipt["change_id"],))
        folded.add(receipt["change_id"])
    return folded
