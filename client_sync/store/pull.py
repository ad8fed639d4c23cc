"""The pull side's SQL: storing a planned page (:mod:`client_sync.store.pages`), the
laptop's copies of hub records, and the conflicts the hub reported."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from client_sync.store import read_model
from client_sync.store.db import Db
from client_sync.store.meta import pull_cursor
from client_sync.store.pages import PullPlan, plan_pull_page

__all__ = ["UPSERT_PULLED", "apply_page", "list_conflicts", "upsert_pulled"]

_COLUMNS = ("id", "entity", "seq", "deleted", "data", *read_model.READ_COLUMNS)
#: Store a hub record's copy with its read columns, never an older one over a newer one.
UPSERT_PULLED = (
    f"INSERT INTO pulled ({', '.join(_COLUMNS)})"
    f" VALUES (?, ?, ?, ?, ?, {', '.join(read_model.BIND_COLUMNS)})"
    " ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[1:])
    + " WHERE excluded.seq > pulled.seq"
)


def upsert_pulled(conn: Any, rows: Iterable[Sequence[Any]]) -> None:
    """Write rows made by :func:`client_sync.store.read_model.pulled_row`; call inside a
    transaction."""
    conn.executemany(UPSERT_PULLED, rows)


def apply_page(
    db: Db,
    wall: Callable[[], int],
    records: Sequence[dict[str, Any]],
    next_seq: int,
    conflicts: Sequence[dict[str, Any]] = (),
    exits: Sequence[dict[str, Any]] = (),
) -> PullPlan:
    """Store one pulled page and move the cursor, in one transaction (not fsynced on its
    own: a page lost to a power cut is pulled again). :returns: the plan it executed."""
    with db.atomic(durable=False) as conn:
        plan = plan_pull_page(
            records,
            next_seq,
            conflicts,
            exits,
            cursor=pull_cursor(db),
            last_hlc=db.meta("hlc"),
            device_id=db.meta("device_id") or "local",
            wall=wall,
        )
        upsert_pulled(
            conn,
            [
                read_model.pulled_row(*row, record["data"])
                for row, record in zip(plan.upserts, records, strict=True)
            ],
        )
        for record_id, seq in plan.exits:
            conn.execute("DELETE FROM pulled WHERE id = ? AND seq <= ?", (record_id, seq))
            conn.execute(
                "DELETE FROM outbox WHERE record_id = ? AND state = 'acked'"
                " AND acked_seq <= ? AND NOT EXISTS (SELECT 1 FROM pulled WHERE id = ?)",
                (record_id, seq, record_id),
            )
        # A confirmed change is forgotten once the laptop holds the hub's copy of its
        # record at or after the change's seq, not merely once the cursor passed it.
        settled = (
            " FROM outbox WHERE state = 'acked' AND acked_seq <= ? AND EXISTS"
            " (SELECT 1 FROM pulled p WHERE p.id = outbox.record_id"
            " AND p.seq >= outbox.acked_seq)"
        )
        forgotten = conn.execute(f"SELECT DISTINCT record_id{settled}", (plan.cursor,)).fetchall()
        conn.execute(f"DELETE{settled}", (plan.cursor,))
        conn.executemany(
            "INSERT INTO conflicts (conflict_id, record_id, resolved, data) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (conflict_id) DO UPDATE SET resolved = excluded.resolved,"
            " data = excluded.data",
            plan.conflicts,
        )
        db.set_meta(pull_cursor=str(plan.cursor), hlc=plan.hlc)
        read_model.store_pulled(
            db, [(r["id"], r["entity"], r["seq"], r["deleted"], r["data"]) for r in records]
        )
        read_model.refresh(db, [row[0] for row in forgotten] + [i for i, _ in plan.exits])
    return plan


def list_conflicts(db: Db, open_only: bool = True) -> list[dict[str, Any]]:
    """Conflicts on this laptop's changes, as the hub reported them; oldest first."""
    where = "WHERE resolved = 0 " if open_only else ""
    rows = db.conn.execute(f"SELECT data FROM conflicts {where}ORDER BY conflict_id").fetchall()
    return [json.loads(row[0]) for row in rows]
