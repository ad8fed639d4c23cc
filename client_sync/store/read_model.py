"""The read model's SQL: each record as the laptop shows it, in plain indexed columns.

`local_records` (migration 0005) holds one row per record the laptop knows, computed from
its pulled copy with the outbox on top (:func:`client_sync.store.records.overlay`, the one
definition of what the pendamping sees); `local_words` and `local_programs` index a live
beneficiary's name words and programmes. Every write to `pulled` or `outbox` calls one of
these inside its own transaction, so the pages' indexes never lag the records:

- :func:`refresh`: recompute some records from their rows (an edit, a receipt, an exit);
- :func:`store_pulled`: a pulled page or a folded receipt, from the data in hand, without
  reading the records back; a record with changes still shown from the outbox is refreshed;
- :func:`ensure`: rebuild everything when ``meta.read_model`` is not :data:`VERSION` (a store
  made before the read model, or a change of how a column is computed).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from client_sync.store.db import Db
from client_sync.store.records import overlay
from schemas.coverage import utc_instant
from schemas.name_keys import name_key, name_words
from schemas.review import REVIEW_FIELD, WAITING, review_state

__all__ = [
    "VERSION",
    "PulledData",
    "ensure",
    "note_confirmed",
    "rebuild",
    "refresh",
    "row_of",
    "store_pulled",
]

#: bump when a column's computation changes: every store rebuilds its read model on open
VERSION = "1"
#: a pulled record as a page or a fold has it: ``(id, entity, seq, deleted, data)``
PulledData = tuple[str, str, int, bool | int, Mapping[str, Any]]

_CHUNK = 500
_SHOWN = "('pending', 'acked', 'rejected')"
_COLUMNS = (
    "id",
    "entity",
    "pulled_seq",
    "live",
    "kelurahan",
    "created_at",
    "updated_at",
    "sync",
    "name",
    "name_key",
    "nik",
    "beneficiary_id",
    "visited_utc",
    "review_state",
    "review_reason",
    "status",
)
_UPSERT = (
    f"INSERT INTO local_records ({', '.join(_COLUMNS)})"
    f" VALUES ({', '.join('?' * len(_COLUMNS))}) ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[1:])
)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def row_of(
    record_id: str,
    entity: str,
    data: Mapping[str, Any],
    pulled_seq: int | None,
    live: bool,
    sync: str,
) -> tuple[Any, ...]:
    """The `local_records` row of one record as shown (`data`: its fields)."""
    name = nik = owner = visited = review = reason = status = None
    if entity == "beneficiary":
        name, nik = _text(data.get("name")), _text(data.get("nik"))
    else:
        owner = _text(data.get("beneficiary_id"))
    if entity == "visit":
        visited = utc_instant(data.get("visited_at"))
        review = review_state(data)
        if review != WAITING:
            found = data.get(REVIEW_FIELD)
            reason = _text(found.get("reason")) if isinstance(found, dict) else None
    elif entity == "device_request":
        status = _text(data.get("status"))
    return (
        record_id,
        entity,
        pulled_seq,
        int(live),
        _text(data.get("kelurahan")),
        _text(data.get("created_at")),
        _text(data.get("updated_at")),
        sync,
        name,
        name_key(name) if name is not None else None,
        nik,
        owner,
        visited,
        review,
        reason,
        status,
    )


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _marks(chunk: Sequence[str]) -> str:
    return ",".join("?" * len(chunk))


def _write(conn: Any, rows: Sequence[tuple[Any, ...]], replaced: Iterable[str]) -> None:
    """Upsert `rows` and index the names and programmes of the live beneficiaries among
    them; `replaced`: ids whose old words and programmes go first."""
    gone = [(i,) for i in replaced]
    if gone:
        conn.executemany("DELETE FROM local_words WHERE record_id = ?", gone)
        conn.executemany("DELETE FROM local_programs WHERE record_id = ?", gone)
    conn.executemany(_UPSERT, rows)


def _index_beneficiaries(conn: Any, people: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
    """Words and programmes of live beneficiaries ``(id, data)``, freshly written."""
    words: list[tuple[str, str]] = []
    programs: list[tuple[str, str, str]] = []
    for record_id, data in people:
        name = _text(data.get("name")) or ""
        words += [(word, record_id) for word in name_words(name)]
        found = data.get("programs")
        if isinstance(found, list):
            key = name_key(name)
            programs += [(p, key, record_id) for p in dict.fromkeys(found) if isinstance(p, str)]
    conn.executemany("INSERT OR IGNORE INTO local_words VALUES (?, ?)", words)
    conn.executemany("INSERT OR IGNORE INTO local_programs VALUES (?, ?, ?)", programs)


def refresh(db: Db, record_ids: Iterable[str]) -> None:
    """Recompute these records' rows from `pulled` and `outbox`; call inside the write's
    transaction. A record the laptop no longer holds at all loses its row."""
    ids = sorted(set(record_ids))
    conn = db.conn
    for chunk in _chunks(ids):
        marks = _marks(chunk)
        pulled = conn.execute(
            f"SELECT id, entity, seq, deleted, data FROM pulled WHERE id IN ({marks})", chunk
        ).fetchall()
        changes = conn.execute(
            "SELECT record_id, entity, fields, hlc, state, op FROM outbox"
            f" WHERE record_id IN ({marks}) AND state IN {_SHOWN} ORDER BY position",
            chunk,
        ).fetchall()
        shown = {
            r["id"]: r
            for r in overlay(
                [(p[0], p[3], p[4]) for p in pulled], [c[0:1] + c[2:] for c in changes]
            )
        }
        known = {c[0]: c[1] for c in changes} | {p[0]: p[1] for p in pulled}
        seqs = {p[0]: p[2] for p in pulled}
        rows, people = [], []
        for record_id in chunk:
            entity = known.get(record_id)
            record = shown.get(record_id)
            if entity is None:
                continue
            if record is None:
                rows.append(row_of(record_id, entity, {}, seqs.get(record_id), False, "synced"))
                continue
            rows.append(
                row_of(record_id, entity, record, seqs.get(record_id), True, record["sync"])
            )
            if entity == "beneficiary":
                people.append((record_id, record))
        _write(conn, rows, chunk)
        unknown = [(i,) for i in chunk if i not in known]
        conn.executemany("DELETE FROM local_records WHERE id = ?", unknown)
        _index_beneficiaries(conn, people)


def store_pulled(db: Db, records: Sequence[PulledData], confirmed_at: str | None = None) -> None:
    """Bring the rows of freshly written pulled copies up to date; call inside the write's
    transaction, after `pulled` and `outbox` took the page (or the fold).

    A copy older than the one the row was computed from is skipped, as `pulled`'s own
    upsert skipped it; a record with changes still shown from the outbox is refreshed.

    :param confirmed_at: note this as the time the hub's receipt reached the laptop.
    """
    newest: dict[str, PulledData] = {}
    for record in records:
        held = newest.get(record[0])
        if held is None or record[2] > held[2]:
            newest[record[0]] = record
    ids = sorted(newest)
    conn = db.conn
    outbox_empty = conn.execute("SELECT 1 FROM outbox LIMIT 1").fetchone() is None
    for chunk in _chunks(ids):
        marks = _marks(chunk)
        existing = dict(
            conn.execute(
                f"SELECT id, COALESCE(pulled_seq, -1) FROM local_records WHERE id IN ({marks})",
                chunk,
            ).fetchall()
        )
        overlaid: set[str] = set()
        if not outbox_empty:
            overlaid = {
                row[0]
                for row in conn.execute(
                    f"SELECT DISTINCT record_id FROM outbox WHERE record_id IN ({marks})"
                    f" AND state IN {_SHOWN}",
                    chunk,
                )
            }
        rows, people, replaced = [], [], []
        for record_id in chunk:
            if record_id in overlaid:
                continue
            _, entity, seq, deleted, data = newest[record_id]
            if existing.get(record_id, -1) >= seq:
                continue
            live = not deleted
            rows.append(row_of(record_id, entity, data, seq, live, "synced"))
            if record_id in existing:
                replaced.append(record_id)
            if live and entity == "beneficiary":
                people.append((record_id, data))
        _write(conn, rows, replaced)
        _index_beneficiaries(conn, people)
        if overlaid:
            refresh(db, overlaid)
    if confirmed_at is not None:
        note_confirmed(db, ids, confirmed_at)


def note_confirmed(db: Db, record_ids: Iterable[str], at: str) -> None:
    """Note when the hub received a change of these records: `at` is the hub's time from
    its push answer, or (an older hub) when the receipt reached the laptop."""
    db.conn.executemany(
        "UPDATE local_records SET confirmed_at = ? WHERE id = ?", [(at, i) for i in record_ids]
    )


def rebuild(db: Db) -> None:
    """Recompute every row from `pulled` and `outbox`, a thousand records at a time (memory
    stays flat); call inside a transaction. Receipt times already noted are kept."""
    conn = db.conn
    kept = conn.execute(
        "SELECT confirmed_at, id FROM local_records WHERE confirmed_at IS NOT NULL"
    ).fetchall()
    for table in ("local_records", "local_words", "local_programs"):
        conn.execute(f"DELETE FROM {table}")
    after = ""
    while True:
        rows = conn.execute(
            "SELECT id, entity, seq, deleted, data FROM pulled WHERE id > ? ORDER BY id LIMIT 1000",
            (after,),
        ).fetchall()
        if not rows:
            break
        store_pulled(db, [(i, e, s, d, json.loads(data)) for i, e, s, d, data in rows])
        after = rows[-1][0]
    local = conn.execute(f"SELECT DISTINCT record_id FROM outbox WHERE state IN {_SHOWN}")
    refresh(db, [row[0] for row in local.fetchall()])
    conn.executemany("UPDATE local_records SET confirmed_at = ? WHERE id = ?", kept)
    db.set_meta(read_model=VERSION)


def ensure(db: Db) -> bool:
    """Rebuild the read model if it is not :data:`VERSION`. :returns: whether it did."""
    if db.meta("read_model") == VERSION:
        return False
    with db.atomic():
        if db.meta("read_model") != VERSION:
            rebuild(db)
    return True
