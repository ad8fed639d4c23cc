"""Reading records: what was last pulled from the hub with the outbox applied on top.

`get` and `list` show the pulled state with the outbox applied, so a record is never
missing from the laptop between push and pull. :func:`overlay` is the pure part.

A visit the office reviewed carries the hub's `review` (schemas/review.py); an edit of it
waiting on the laptop shows it *menunggu* at once, as the hub will make it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from client_sync.errors import InvalidRecord, RecordNotFound
from client_sync.store.db import Db
from schemas.codes import ENTITIES
from schemas.hlc import Timestamp, iso_from_ms
from schemas.review import RETURNED, REVIEW_FIELD

__all__ = [
    "check_entity",
    "find",
    "find_many",
    "get",
    "list_records",
    "overlay",
    "pulled_seq",
    "returned_count",
]

_SHOWN = "state IN ('pending', 'acked', 'rejected') ORDER BY position"


def check_entity(entity: str) -> None:
    """:raises InvalidRecord: `entity` is not a kind of record the laptop keeps."""
    if entity not in ENTITIES:
        raise InvalidRecord({"entity": [f"Harus salah satu dari: {', '.join(ENTITIES)}."]})


def get(db: Db, entity: str, record_id: str) -> dict[str, Any]:
    """The record as this laptop sees it. :raises RecordNotFound: no such record."""
    found = find(db, entity, record_id)
    if found is None:
        raise RecordNotFound(f"Tidak ada {entity} dengan id {record_id}.")
    return found


def find(db: Db, entity: str, record_id: str) -> dict[str, Any] | None:
    """The record as this laptop sees it, or None."""
    pulled = db.conn.execute(
        "SELECT id, deleted, data FROM pulled WHERE id = ? AND entity = ?", (record_id, entity)
    ).fetchall()
    outbox = db.conn.execute(
        "SELECT record_id, fields, hlc, state, op FROM outbox"
        f" WHERE record_id = ? AND entity = ? AND {_SHOWN}",
        (record_id, entity),
    ).fetchall()
    found = overlay(pulled, outbox)
    return found[0] if found else None


def find_many(db: Db, record_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The live records among `record_ids` (of any kind) as this laptop sees them, by id;
    read 500 at a time, so a page's rows cost one query per 500, not one each."""
    found: dict[str, dict[str, Any]] = {}
    ids = list(dict.fromkeys(record_ids))
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        pulled = db.conn.execute(
            f"SELECT id, deleted, data FROM pulled WHERE id IN ({marks})", chunk
        ).fetchall()
        outbox = db.conn.execute(
            "SELECT record_id, fields, hlc, state, op FROM outbox"
            f" WHERE record_id IN ({marks}) AND {_SHOWN}",
            chunk,
        ).fetchall()
        found.update((r["id"], r) for r in overlay(pulled, outbox))
    return found


def list_records(db: Db, entity: str) -> list[dict[str, Any]]:
    """Every live record of one kind, oldest first."""
    check_entity(entity)
    pulled = db.conn.execute(
        "SELECT id, deleted, data FROM pulled WHERE entity = ?", (entity,)
    ).fetchall()
    outbox = db.conn.execute(
        f"SELECT record_id, fields, hlc, state, op FROM outbox WHERE entity = ? AND {_SHOWN}",
        (entity,),
    ).fetchall()
    return overlay(pulled, outbox)


def returned_count(db: Db) -> int:
    """Visits the office returned for correction that the pendamping has not edited yet
    (the read model's `review_state`: an edit shows the visit *menunggu* again)."""
    # each half of the read model through its own index (pulled_returned), not a scan of
    # the local_records view: every page's status strip asks this
    row = db.conn.execute(
        "SELECT (SELECT COUNT(*) FROM pulled WHERE review_state = ? AND deleted = 0"
        " AND +entity = 'visit' AND id NOT IN (SELECT id FROM local_overlay))"
        " + (SELECT COUNT(*) FROM local_overlay WHERE review_state = ? AND live = 1"
        " AND entity = 'visit')",
        (RETURNED, RETURNED),
    ).fetchone()
    return int(row[0])


def pulled_seq(db: Db, record_id: str) -> int | None:
    """The hub seq of the laptop's pulled copy of a record, if it has one."""
    row = db.conn.execute("SELECT seq FROM pulled WHERE id = ?", (record_id,)).fetchone()
    return row[0] if row else None


def overlay(pulled: Sequence[tuple], outbox: Sequence[tuple]) -> list[dict[str, Any]]:
    """Pulled records with the outbox applied in order.

    A refused change is shown only on a record the hub never took (no pulled copy),
    marked ``sync: rejected``: the pendamping's work stays visible and can be corrected,
    while a refused edit of a hub record does not pretend to be its value.

    :param pulled: ``(id, deleted, data JSON)`` rows.
    :param outbox: ``(record_id, fields JSON, hlc, state, op)`` rows, oldest first.
    """
    view: dict[str, dict[str, Any]] = {}
    gone = set()
    for record_id, deleted, data in pulled:
        if deleted:
            gone.add(record_id)
        view[record_id] = {"id": record_id, **json.loads(data), "sync": "synced"}
    hub_held = set(view)
    for record_id, fields, hlc, state, op in outbox:
        if state == "rejected" and record_id in hub_held:
            continue
        if op == "delete":
            gone.add(record_id)
            continue
        stamp = iso_from_ms(Timestamp.parse(hlc).ms)
        record = view.setdefault(record_id, {"id": record_id, "created_at": stamp})
        record.update(json.loads(fields))
        if record.get(REVIEW_FIELD) is not None:
            record[REVIEW_FIELD] = None  # edited since the office's review: waiting again
        record["updated_at"] = max(record.get("updated_at") or stamp, stamp)
        record["sync"] = "rejected" if state == "rejected" else "pending"
    records = [r for rid, r in view.items() if rid not in gone]
    records.sort(key=lambda r: (r.get("created_at") or "", r["id"]))
    return records
