"""The read model's SQL: each record as the laptop shows it, in plain indexed columns.

A pulled copy carries its columns in its own `pulled` row (:data:`READ_COLUMNS`, written by
the upsert that writes the copy: :func:`pulled_row`); a record with changes still shown from
the outbox has its overlaid columns in `local_overlay` (computed by
:func:`client_sync.store.records.overlay`, the one definition of what the pendamping sees);
the view `local_records` joins the two (migration 0005). `local_words` and `local_programs`
index a live beneficiary's name words and programmes. Every write to `pulled` or `outbox`
calls one of these inside its own transaction, so the pages' indexes never lag the records:

- :func:`refresh`: recompute some records (an edit, a refused receipt, an exit, an acked
  change forgotten);
- :func:`store_pulled`: after pulled copies were written (a page, a quiet receipt's fold),
  from the data in hand: only the overlaid records and the beneficiaries' words cost more
  than the columns already written with the copy;
- :func:`ensure`: recompute everything when ``meta.read_model`` is not :data:`VERSION`.

A **first sync** (a pull from cursor 0) fills the store in bulk instead
(:func:`begin_bulk`, :func:`end_bulk`): in the transaction that starts it, the indexes the
read model added to `pulled` are dropped and ``meta.read_model`` becomes :data:`BULK`; while
it is, each page writes its copies with their columns but neither those indexes (random
inserts by beneficiary id dirty most of the index's pages at each page's commit, and
SQLCipher encrypts every dirty page) nor the words and programmes. The round's end builds
them once, in one transaction that also sets :data:`VERSION` back. A round that dies half
way leaves :data:`BULK` behind, and the next open rebuilds everything (:func:`ensure`), so
the read model is never left short of a record.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from client_sync.store.db import Db
from client_sync.store.meta import pull_cursor
from client_sync.store.records import overlay
from schemas.coverage import utc_instant
from schemas.name_keys import name_key, name_words
from schemas.review import REVIEW_FIELD, WAITING, review_state

__all__ = [
    "BIND_COLUMNS",
    "BOUND_NULL",
    "BULK",
    "READ_COLUMNS",
    "VERSION",
    "PulledData",
    "begin_bulk",
    "columns_of",
    "end_bulk",
    "ensure",
    "note_confirmed",
    "pulled_row",
    "rebuild",
    "refresh",
    "store_pulled",
]

#: bump when a column's computation changes: every store recomputes its read model on open
VERSION = "1"
#: ``meta.read_model`` while a first sync fills the store without the indexes below
BULK = "bulk"
#: the indexes of `pulled` a page of visits dirties all over (keyed on random beneficiary
#: ids, on the visits' times), built once at the end of a first sync instead of row by row;
#: the same statements as their migrations (0005: who is due, a beneficiary's page; 0007:
#: the Kunjungan list)
PULLED_INDEXES = {
    "pulled_owned": "CREATE INDEX IF NOT EXISTS pulled_owned"
    " ON pulled (beneficiary_id, entity, deleted, visited_utc) WHERE beneficiary_id IS NOT NULL",
    "pulled_visits": "CREATE INDEX IF NOT EXISTS pulled_visits"
    " ON pulled (entity, visited_utc, id) WHERE deleted = 0",
}
#: the read columns of a `pulled` row and of a `local_overlay` row, in this order
READ_COLUMNS = (
    "kelurahan",
    "name",
    "nik",
    "beneficiary_id",
    "visited_utc",
    "review_state",
    "review_reason",
)
#: how a statement binds each read column of :func:`pulled_row` (see :data:`BOUND_NULL`)
BIND_COLUMNS = tuple("NULLIF(?, 0)" for _ in READ_COLUMNS)
#: a pulled record as a page or a fold has it: ``(id, entity, seq, deleted, data)``
PulledData = tuple[str, str, int, bool | int, Mapping[str, Any]]

_CHUNK = 500
_SHOWN = "('pending', 'acked', 'rejected')"
_OVERLAY = (
    "INSERT INTO local_overlay (id, entity, live, sync, pulled_rowid, "
    + ", ".join(READ_COLUMNS)
    + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
    " entity = excluded.entity, live = excluded.live, sync = excluded.sync,"
    " pulled_rowid = excluded.pulled_rowid, "
    + ", ".join(f"{c} = excluded.{c}" for c in READ_COLUMNS)
)


#: what :func:`pulled_row` binds for a NULL column, read back as NULL by ``NULLIF(?, 0)``
#: (no read column holds an integer): sqlcipher3 binds None through its adapter lookup, at
#: about 1 us each against 0.06 us for an int, and a pulled visit has three NULL columns
BOUND_NULL = 0


def _text(value: Any, null: Any = None) -> Any:
    return value if isinstance(value, str) else null


def columns_of(entity: str, data: Mapping[str, Any], null: Any = None) -> tuple[Any, ...]:
    """The :data:`READ_COLUMNS` of one record as shown (`data`: its fields); `null` where a
    column is NULL (:data:`BOUND_NULL` for :data:`BIND_COLUMNS`). Once per record pulled:
    a visit, the common case, takes the short way."""
    get = data.get
    kelurahan = _text(get("kelurahan"), null)
    if entity == "visit":
        visited = utc_instant(get("visited_at"))
        review, reason = WAITING, null
        if get(REVIEW_FIELD) is not None:
            review = review_state(data)
            if review != WAITING:
                found = data[REVIEW_FIELD]
                reason = _text(found.get("reason"), null) if isinstance(found, dict) else null
        owner = _text(get("beneficiary_id"), null)
        return (kelurahan, null, null, owner, null if visited is None else visited, review, reason)
    if entity == "beneficiary":
        return (kelurahan, _text(get("name"), null), _text(get("nik"), null), *(null,) * 4)
    return (kelurahan, null, null, _text(get("beneficiary_id"), null), null, null, null)


def pulled_row(
    record_id: str, entity: str, seq: int, deleted: bool | int, text: str, data: Mapping[str, Any]
) -> tuple[Any, ...]:
    """A `pulled` row with its read columns (``pull.UPSERT_PULLED``'s parameters; a NULL
    column as :data:`BOUND_NULL`)."""
    return (record_id, entity, seq, int(deleted), text, *columns_of(entity, data, BOUND_NULL))


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _marks(chunk: Sequence[str]) -> str:
    return ",".join("?" * len(chunk))


def _index_people(
    conn: Any, replaced: Iterable[str], people: Sequence[tuple[str, Mapping[str, Any]]]
) -> None:
    """Drop the words and programmes of `replaced`, then index the live beneficiaries
    ``(id, data)`` as they are now."""
    gone = [(i,) for i in replaced]
    if gone:
        conn.executemany("DELETE FROM local_words WHERE record_id = ?", gone)
        conn.executemany("DELETE FROM local_programs WHERE record_id = ?", gone)
    words: list[tuple[str, str, str, str | None]] = []
    programs: list[tuple[str, str, str, str | None]] = []
    for record_id, data in people:
        name = _text(data.get("name")) or ""
        key, kelurahan = name_key(name), _text(data.get("kelurahan"))
        words += [(word, record_id, key, kelurahan) for word in name_words(name)]
        found = data.get("programs")
        if isinstance(found, list):
            programs += [
                (p, key, record_id, kelurahan) for p in dict.fromkeys(found) if isinstance(p, str)
            ]
    conn.executemany("INSERT OR IGNORE INTO local_words VALUES (?, ?, ?, ?)", words)
    conn.executemany("INSERT OR IGNORE INTO local_programs VALUES (?, ?, ?, ?)", programs)


def refresh(db: Db, record_ids: Iterable[str]) -> None:
    """Recompute these records from `pulled` and `outbox`; call inside the write's
    transaction. A record with shown outbox changes gets its overlay row, any other loses
    it; the words and programmes follow what is shown."""
    ids = sorted(set(record_ids))
    conn = db.conn
    for chunk in _chunks(ids):
        marks = _marks(chunk)
        pulled = conn.execute(
            f"SELECT id, entity, deleted, data, rowid FROM pulled WHERE id IN ({marks})", chunk
        ).fetchall()
        rowids = {p[0]: p[4] for p in pulled}
        changes = conn.execute(
            "SELECT record_id, entity, fields, hlc, state, op FROM outbox"
            f" WHERE record_id IN ({marks}) AND +state IN {_SHOWN} ORDER BY position",
            chunk,
        ).fetchall()
        shown = {
            r["id"]: r
            for r in overlay(
                [(p[0], p[2], p[3]) for p in pulled], [c[0:1] + c[2:] for c in changes]
            )
        }
        entities = {c[0]: c[1] for c in changes}
        overlays, people = [], []
        for record_id, entity in entities.items():
            record = shown.get(record_id)
            live = record is not None
            sync = record["sync"] if record is not None else "pending"
            columns = columns_of(entity, record or {})
            overlays.append((record_id, entity, int(live), sync, rowids.get(record_id), *columns))
        for record_id, entity, deleted, _, _ in pulled:
            if record_id not in entities and not deleted and entity == "beneficiary":
                people.append((record_id, shown[record_id]))
        people += [(i, shown[i]) for i, e in entities.items() if e == "beneficiary" and i in shown]
        conn.executemany(
            "DELETE FROM local_overlay WHERE id = ?", [(i,) for i in chunk if i not in entities]
        )
        conn.executemany(_OVERLAY, overlays)
        _index_people(conn, chunk, people)


def store_pulled(db: Db, records: Sequence[PulledData]) -> None:
    """Bring the rest of the read model up to date after these pulled copies were written
    with their columns; call inside the write's transaction, after `pulled` and `outbox`
    took the page (or the fold).

    A record with shown outbox changes is recomputed (:func:`refresh`); one that has none
    any more loses its overlay row (its pulled columns show); a beneficiary whose copy was
    written (not skipped as older) has its words and programmes rewritten from the data in
    hand.
    """
    newest: dict[str, PulledData] = {}
    for record in records:
        held = newest.get(record[0])
        if held is None or record[2] > held[2]:
            newest[record[0]] = record
    ids = sorted(newest)
    conn = db.conn
    bulk = db.meta("read_model") == BULK  # the words and programmes come at the round's end
    outbox_empty = conn.execute("SELECT 1 FROM outbox LIMIT 1").fetchone() is None
    overlay_empty = conn.execute("SELECT 1 FROM local_overlay LIMIT 1").fetchone() is None
    for chunk in _chunks(ids):
        marks = _marks(chunk)
        shown: set[str] = set()
        if not outbox_empty:
            shown.update(
                row[0]
                for row in conn.execute(
                    f"SELECT DISTINCT record_id FROM outbox WHERE record_id IN ({marks})"
                    f" AND +state IN {_SHOWN}",
                    chunk,
                )
            )
        stale: set[str] = set()
        if not overlay_empty:
            stale.update(
                row[0]
                for row in conn.execute(
                    f"SELECT id FROM local_overlay WHERE id IN ({marks})", chunk
                )
            )
            stale -= shown
            conn.executemany("DELETE FROM local_overlay WHERE id = ?", [(i,) for i in stale])
        if shown:
            refresh(db, shown)
        people = [i for i in chunk if i not in shown and newest[i][1] == "beneficiary"]
        if not people or bulk:
            continue
        written = {
            row[0]
            for row in conn.execute(
                f"SELECT id, seq FROM pulled WHERE id IN ({_marks(people)})", people
            )
            if row[1] == newest[row[0]][2]
        }
        _index_people(
            conn,
            written,
            [(i, newest[i][4]) for i in people if i in written and not newest[i][3]],
        )
        # an overlaid beneficiary whose copy here was older than the one held: from `pulled`
        refresh(db, [i for i in people if i in stale and i not in written])


def note_confirmed(db: Db, record_ids: Iterable[str], at: str) -> None:
    """Note when the hub received a change of these records: `at` is the hub's time from
    its push answer, or (an older hub) when the receipt reached the laptop."""
    db.conn.executemany(
        "INSERT INTO local_receipts (record_id, confirmed_at) VALUES (?, ?)"
        " ON CONFLICT (record_id) DO UPDATE SET confirmed_at = excluded.confirmed_at",
        [(i, at) for i in record_ids],
    )


def rebuild(db: Db, columns: bool = True) -> None:
    """Recompute the read model from `pulled` and `outbox`, a thousand records at a time
    (memory stays flat), and build any of :data:`PULLED_INDEXES` missing; call inside a
    transaction. Receipt times are kept.

    :param columns: recompute the pulled copies' columns too; ``False`` after a first sync
        (each copy was written with its columns): the words, programmes and overlay rows
        only.
    """
    conn = db.conn
    for table in ("local_overlay", "local_words", "local_programs"):
        conn.execute(f"DELETE FROM {table}")
    for create in PULLED_INDEXES.values():
        conn.execute(create)
    after = 0
    sets = ", ".join(f"{c} = {b}" for c, b in zip(READ_COLUMNS, BIND_COLUMNS, strict=True))
    # by rowid: without `columns` the range of `pulled_entity` (entity, rowid), in order
    which = "" if columns else " AND entity = 'beneficiary'"
    while True:
        rows = conn.execute(
            f"SELECT rowid, id, entity, deleted, data FROM pulled WHERE rowid > ?{which}"
            " ORDER BY rowid LIMIT 1000",
            (after,),
        ).fetchall()
        if not rows:
            break
        decoded = [(r, i, e, d, json.loads(text)) for r, i, e, d, text in rows]
        if columns:
            conn.executemany(
                f"UPDATE pulled SET {sets} WHERE rowid = ?",
                [(*columns_of(e, data, BOUND_NULL), r) for r, _, e, _, data in decoded],
            )
        people = [(i, data) for _, i, e, d, data in decoded if e == "beneficiary" and not d]
        _index_people(conn, (), people)
        after = rows[-1][0]
    local = conn.execute(f"SELECT DISTINCT record_id FROM outbox WHERE state IN {_SHOWN}")
    refresh(db, [row[0] for row in local.fetchall()])
    db.set_meta(read_model=VERSION)


def begin_bulk(db: Db) -> bool:
    """Start filling the store in bulk if it has never pulled (its cursor is 0) and its
    read model is whole: drop :data:`PULLED_INDEXES`, mark :data:`BULK`, in one
    transaction. :returns: whether it did (then call :func:`end_bulk` when the pull ends,
    however it ends)."""
    with db.atomic():
        if db.meta("read_model") != VERSION or pull_cursor(db) != 0:
            return False
        for name in PULLED_INDEXES:
            db.conn.execute(f"DROP INDEX IF EXISTS {name}")
        db.set_meta(read_model=BULK)
    return True


def end_bulk(db: Db) -> None:
    """Build what a bulk fill left out (the indexes, words, programmes, overlay rows) in
    one transaction and mark the read model whole; nothing to do if another connection
    already did (:func:`ensure` on its open)."""
    with db.atomic():
        if db.meta("read_model") == BULK:
            rebuild(db, columns=False)


def ensure(db: Db) -> bool:
    """Recompute the read model if it is not :data:`VERSION`. :returns: whether it did."""
    if db.meta("read_model") == VERSION:
        return False
    with db.atomic():
        if db.meta("read_model") != VERSION:
            rebuild(db)
    return True
