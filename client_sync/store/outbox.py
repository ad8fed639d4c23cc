"""The outbox's SQL: reading pending changes in batches for the wire, and recording the
hub's receipts as :mod:`client_sync.store.receipts` plans them.

A change leaves the outbox only after the hub confirmed it and a pull brought the hub's
version back (or its quiet receipt was folded in at once).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from client_sync.store import read_model
from client_sync.store.db import Db
from client_sync.store.pull import upsert_pulled
from client_sync.store.receipts import PendingChange, PulledRow, fold_quiet, plan_confirm

__all__ = ["OutboxBatch", "batches", "confirm", "marker", "pending_count", "rejected_changes"]

#: Ids per ``IN (...)`` list: far below every SQLite build's variable limit.
_IN_CHUNK = 500


@dataclass(frozen=True, slots=True)
class OutboxBatch:
    """Changes ready to push: each already encoded as the JSON the wire carries."""

    change_ids: tuple[str, ...]
    changes_json: tuple[str, ...]

    @property
    def size(self) -> int:
        return sum(len(c) for c in self.changes_json)


def pending_count(db: Db) -> int:
    return db.conn.execute("SELECT COUNT(*) FROM outbox WHERE state = 'pending'").fetchone()[0]


def marker(db: Db) -> tuple[int, int]:
    """(the newest outbox position, the pending count): changes when anything is recorded."""
    newest = db.conn.execute("SELECT COALESCE(MAX(position), 0) FROM outbox").fetchone()
    return int(newest[0]), pending_count(db)


def batches(db: Db, device_id: str, max_bytes: int | Callable[[], int]) -> Iterator[OutboxBatch]:
    """Pending changes in the order they were made, in batches of about `max_bytes`
    (or of what `max_bytes()` says when each batch starts, so the size can adapt).

    Reads the outbox a slice at a time, so a laptop with 100,000 queued changes never
    holds them all in memory. A batch always has at least one change.
    """
    after = 0
    authors: dict[str, str] = {}  # an author's JSON, encoded once: a laptop has one or two
    while True:
        ids: list[str] = []
        encoded: list[str] = []
        size = 0
        limit = max_bytes() if callable(max_bytes) else max_bytes
        while size < limit:
            rows = db.conn.execute(
                "SELECT position, change_id, entity, record_id, base_seq, fields, hlc,"
                " author_id, op FROM outbox WHERE state = 'pending' AND position > ?"
                " ORDER BY position LIMIT 256",
                (after,),
            ).fetchall()
            if not rows:
                break
            for (
                position,
                change_id,
                entity,
                record_id,
                base_seq,
                fields,
                hlc,
                author,
                op,
            ) in rows:
                author_json = authors.get(author)
                if author_json is None:
                    author_json = authors[author] = json.dumps(author, ensure_ascii=False)
                text = (
                    f'{{"change_id":"{change_id}","entity":"{entity}",'
                    f'"record_id":"{record_id}","base_seq":{_seq_json(base_seq)},'
                    f'"fields":{fields},"hlc":"{hlc}","device_id":"{device_id}",'
                    f'"author_id":{author_json}' + (',"op":"delete"}' if op == "delete" else "}")
                )
                ids.append(change_id)
                encoded.append(text)
                size += len(text)
                after = position
                if size >= limit:
                    break
        if not ids:
            return
        yield OutboxBatch(tuple(ids), tuple(encoded))


def _seq_json(seq: Any) -> str:
    """A base seq as JSON: most changes have none (a new record) or a plain integer."""
    if seq is None:
        return "null"
    return str(seq) if type(seq) is int else json.dumps(seq)


def confirm(
    db: Db, device_id: str, receipts: Sequence[dict[str, Any]], at: str | None = None
) -> None:
    """Record the hub's receipts, in one durable transaction (:func:`plan_confirm`), and
    keep the read model in step.

    :param at: when the hub received the changes (its clock, from the push answer) or
        else when the receipts reached this laptop (its clock), noted on each record the
        hub took (:func:`client_sync.store.read_model.note_confirmed`).
    """
    plan = plan_confirm(receipts)
    with db.atomic() as conn:
        changes = [r["change_id"] for r in receipts if isinstance(r.get("change_id"), str)]
        pending = _pending_changes(conn, changes)
        folded: list[read_model.PulledData] = []
        if plan.quiet:
            pulled = _pulled_rows(
                conn,
                {
                    pending[r["change_id"]].record_id
                    for r in plan.quiet
                    if r["change_id"] in pending
                },
            )
            fold = fold_quiet(plan.quiet, pending, pulled, device_id)
            folded = [(r.id, r.entity, r.seq, r.deleted, orjson.loads(r.data)) for r in fold.pulled]
            upsert_pulled(
                conn,
                [read_model.pulled_row(*r, f[4]) for r, f in zip(fold.pulled, folded, strict=True)],
            )
            conn.executemany("DELETE FROM outbox WHERE change_id = ?", [(c,) for c in fold.forget])
        conn.executemany(
            "UPDATE outbox SET state = 'acked', acked_seq = ?, receipt = ?"
            " WHERE change_id = ? AND state = 'pending'",
            plan.acked,
        )
        conn.executemany(
            "UPDATE outbox SET state = 'rejected', receipt = ?"
            " WHERE change_id = ? AND state = 'pending'",
            plan.rejected,
        )
        refused = {change_id for _, change_id in plan.rejected}
        read_model.store_pulled(db, folded)
        read_model.refresh(db, {pending[c].record_id for c in refused if c in pending})
        if at is not None:
            taken = {c.record_id for c in pending.values() if c.change_id not in refused}
            read_model.note_confirmed(db, taken, at)


def _by_key(conn: Any, select: str, where: str, keys: Sequence[str]) -> list[tuple]:
    """Rows of `select` whose `where` column (``{marks}`` for the ids) is in `keys`, read
    in chunks far below every SQLite build's variable limit; each row's first column is
    its key."""
    rows: list[tuple] = []
    for start in range(0, len(keys), _IN_CHUNK):
        chunk = keys[start : start + _IN_CHUNK]
        marks = ",".join("?" * len(chunk))
        rows += conn.execute(f"{select} WHERE {where.format(marks=marks)}", chunk).fetchall()
    return rows


def _pending_changes(conn: Any, change_ids: Sequence[str]) -> dict[str, PendingChange]:
    # `+state`: look rows up by change_id; on `state` SQLite would scan every pending row
    rows = _by_key(
        conn,
        "SELECT change_id, entity, record_id, fields, hlc, author_id, op FROM outbox",
        "change_id IN ({marks}) AND +state = 'pending'",
        change_ids,
    )
    return {row[0]: PendingChange(*row) for row in rows}


def _pulled_rows(conn: Any, record_ids: set[str]) -> dict[str, PulledRow]:
    rows = _by_key(
        conn,
        "SELECT id, entity, seq, deleted, data FROM pulled",
        "id IN ({marks})",
        sorted(record_ids),
    )
    return {row[0]: PulledRow(*row) for row in rows}


def rejected_changes(db: Db) -> list[dict[str, Any]]:
    """Changes the hub refused, with its reasons; kept so nothing is silently lost."""
    rows = db.conn.execute(
        "SELECT change_id, entity, record_id, fields, receipt, created_at FROM outbox"
        " WHERE state = 'rejected' ORDER BY position"
    ).fetchall()
    return [
        {
            "change_id": c,
            "entity": e,
            "record_id": r,
            "fields": json.loads(f),
            "errors": json.loads(rc).get("errors", {}),
            "created_at": at,
        }
        for c, e, r, f, rc, at in rows
    ]
