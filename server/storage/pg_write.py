"""The PostgreSQL write session: what one push (or office write) does inside its transaction.

Every method runs on the connection of a :meth:`PgDatabase.write` block, which holds the
hub's one write lock to COMMIT (server/storage/pg_db.py): `last_seq` and `last_audit` read
what no other writer can change before this one commits, so seqs and audit positions are
handed out without gaps or forks. Rows are stored exactly as the SQLite backend stores
them (same columns, same packed clocks and JSON text), so `migrate-storage` copies them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson
import psycopg
from psycopg.rows import dict_row

from server.audit import AuditEntry, AuditEvent
from server.storage.base import (
    ChangeRow,
    ConflictRow,
    DeviceReport,
    NotFound,
    RecordRow,
    ScopeExit,
    WriteSession,
)
from server.storage.read_columns import name_key, programs_of, read_columns, verification_outcome
from server.storage.rows import conflict_of as _conflict
from server.storage.rows import json_text as _json
from server.storage.rows import live_nik as _nik
from server.storage.rows import pack_clocks as _pack_clocks
from server.storage.rows import record_of as _record

__all__ = [
    "CONFLICT_SELECT",
    "RECORD_SELECT",
    "PgWrite",
    "audit_into",
    "records_for",
    "select_conflicts",
]

#: A record row's columns in the order :func:`server.storage.sqlite._record` reads them.
RECORD_SELECT = (
    "SELECT id, entity, kelurahan, seq, deleted, data, clocks, created_at, updated_at,"
    " quiet_device, author FROM records"
)
CONFLICT_SELECT = (
    "SELECT conflict_id, kind, record_id, entity, kelurahan, field, kept_value, kept_hlc,"
    " kept_device, kept_author, lost_value, lost_hlc, lost_device, lost_author, lost_change,"
    " other_record_id, seq, created_at, resolved_at, resolved_by, resolved_seq, resolution"
    " FROM conflicts"
)
_BIGINT = range(-(2**63), 2**63)

_RECORD_COLUMNS = (
    "id, entity, kelurahan, seq, deleted, data, clocks, hlc, nik, created_at, updated_at,"
    " quiet_device, author, visited_utc, purpose, review_state, beneficiary_id,"
    " request_status, status_since, name_key, verification_outcome"
)
_ON_RECORD_CONFLICT = (
    " ON CONFLICT (id) DO UPDATE SET kelurahan = excluded.kelurahan, seq = excluded.seq,"
    " deleted = excluded.deleted, data = excluded.data, clocks = excluded.clocks,"
    " hlc = excluded.hlc, nik = excluded.nik, updated_at = excluded.updated_at,"
    " quiet_device = excluded.quiet_device,"
    " author = COALESCE(records.author, excluded.author),"
    " visited_utc = excluded.visited_utc, purpose = excluded.purpose,"
    " review_state = excluded.review_state, beneficiary_id = excluded.beneficiary_id,"
    " request_status = excluded.request_status, status_since = excluded.status_since,"
    " name_key = excluded.name_key,"
    " verification_outcome = excluded.verification_outcome"
)
#: A batch of records in one statement: the rows as one JSON array of arrays (encoded by
#: orjson, in C), taken apart by the server, one round trip and one parse, where
#: executemany costs a round trip per row and psycopg's array parameters ~35 µs a record.
_UPSERT_RECORDS = (
    f"INSERT INTO records ({_RECORD_COLUMNS}) SELECT "
    + ", ".join(
        f"(e->>{i}){cast}" for i, cast in enumerate(["", "", "", "::bigint", "::int"] + [""] * 16)
    )
    + " FROM jsonb_array_elements(%s::jsonb) AS e"
    + _ON_RECORD_CONFLICT
)
#: One record per statement: for a batch that names a record twice (the later row wins,
#: as it would row by row), which one INSERT ... ON CONFLICT cannot take.
_UPSERT_RECORD = (
    f"INSERT INTO records ({_RECORD_COLUMNS}) VALUES ("
    + ", ".join(["%s"] * 21)
    + ")"
    + _ON_RECORD_CONFLICT
)
_INSERT_CHANGES = (
    "INSERT INTO changes (change_id, device_id, author_id, entity, record_id, hlc, fields,"
    " received_at, receipt) SELECT "
    + ", ".join(f"e->>{i}" for i in range(9))
    + " FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS t(e, n) ORDER BY n"
)
_INSERT_CONFLICT = (
    "INSERT INTO conflicts (kind, record_id, entity, kelurahan, field, kept_value,"
    " kept_hlc, kept_device, kept_author, lost_value, lost_hlc, lost_device,"
    " lost_author, lost_change, other_record_id, seq, created_at)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


def _rows_json(rows: Sequence[Sequence[Any]]) -> str:
    """Rows as one JSON array of arrays, the parameter of a ``jsonb_array_elements`` insert
    (text stays text: the server gives back exactly the characters it was sent)."""
    return orjson.dumps(rows).decode()


def records_for(conn: psycopg.Connection, record_ids: Sequence[str]) -> dict[str, RecordRow]:
    """The current row of each of these record ids the hub holds."""
    if not record_ids:
        return {}
    rows = conn.execute(
        f"{RECORD_SELECT} WHERE id = ANY(%b::text[])", (list(record_ids),)
    ).fetchall()
    return {row[0]: _record(row) for row in rows}


def select_conflicts(
    conn: psycopg.Connection, where: str, params: Sequence[Any]
) -> list[ConflictRow]:
    """Conflict rows matching `where` (with ``%s`` parameters), in its order."""
    with conn.cursor(row_factory=dict_row) as cursor:
        cursor.execute(f"{CONFLICT_SELECT} WHERE {where}", params)
        return [_conflict(row) for row in cursor.fetchall()]


def audit_into(conn: psycopg.Connection, event: AuditEvent) -> AuditEntry:
    """Chain `event` after the last audit entry, in the write transaction on `conn` (the
    PG twin of ``_SQLiteWrite(conn).audit(event)``, for every facet that writes)."""
    return PgWrite(conn).audit(event)


def _save_programs(conn: psycopg.Connection, beneficiaries: Sequence[RecordRow]) -> None:
    """Keep `beneficiary_programs` for these beneficiaries as written now: one row per
    programme of each live one, none for a tombstone (sqlite_office.save_programs' twin)."""
    if not beneficiaries:
        return
    conn.execute(
        "DELETE FROM beneficiary_programs WHERE record_id = ANY(%b::text[])",
        ([r.id for r in beneficiaries],),
    )
    rows = [
        (program, r.kelurahan, name_key(str(r.data.get("name") or "")), r.id, r.author)
        for r in beneficiaries
        for program in programs_of(r)
    ]
    if rows:
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO beneficiary_programs (program, kelurahan, name_key, record_id,"
                " author) VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                rows,
            )


class PgWrite(WriteSession):
    """The operations of one write transaction, on its connection."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self._conn = conn

    def receipts_for(self, change_ids: Sequence[str]) -> dict[str, str]:
        if not change_ids:
            return {}
        rows = self._conn.execute(
            "SELECT change_id, receipt FROM changes WHERE change_id = ANY(%b::text[])",
            (list(change_ids),),
        ).fetchall()
        return dict(rows)

    def records_for(self, record_ids: Sequence[str]) -> dict[str, RecordRow]:
        return records_for(self._conn, record_ids)

    def last_seq(self) -> int:
        row = self._conn.execute("SELECT COALESCE(MAX(seq), 0) FROM records").fetchone()
        return int(row[0]) if row else 0

    def save(
        self,
        records: Iterable[RecordRow],
        changes: Iterable[ChangeRow],
        conflicts: Iterable[ConflictRow],
    ) -> None:
        records = list(records)
        record_rows = [
            (
                r.id,
                r.entity,
                r.kelurahan,
                r.seq,
                int(r.deleted),
                orjson.dumps(r.data).decode(),
                _pack_clocks(r.clocks, r.seqs, r.seq),
                r.hlc,
                _nik(r),
                r.created_at,
                r.updated_at,
                r.quiet_device,
                r.author,
                *read_columns(r),
                verification_outcome(r),
            )
            for r in records
        ]
        change_rows = [tuple(c) for c in changes]
        conflict_rows = [
            (
                c.kind,
                c.record_id,
                c.entity,
                c.kelurahan,
                c.field,
                _json(c.kept_value),
                c.kept_hlc,
                c.kept_device,
                c.kept_author,
                _json(c.lost_value),
                c.lost_hlc,
                c.lost_device,
                c.lost_author,
                c.lost_change,
                c.other_record_id,
                c.seq,
                c.created_at,
            )
            for c in conflicts
        ]
        with self._conn.cursor() as cursor:
            if len({r.id for r in records}) < len(records):
                cursor.executemany(_UPSERT_RECORD, record_rows)
            elif record_rows:
                cursor.execute(_UPSERT_RECORDS, (_rows_json(record_rows),))
            _save_programs(self._conn, [r for r in records if r.entity == "beneficiary"])
            if change_rows:
                # numbered (`pos`) in the order given: WITH ORDINALITY ... ORDER BY
                cursor.execute(_INSERT_CHANGES, (_rows_json(change_rows),))
            if conflict_rows:
                cursor.executemany(_INSERT_CONFLICT, conflict_rows)

    def add_scope_exits(self, exits: Iterable[ScopeExit]) -> None:
        exits = sorted(exits, key=lambda e: e.seq)
        if not exits:
            return
        with self._conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO scope_exits (seq, record_id, entity, old_kelurahan, new_kelurahan)"
                " VALUES (%s, %s, %s, %s, %s)",
                [(e.seq, e.record_id, e.entity, e.old_kelurahan, e.new_kelurahan) for e in exits],
            )
            # A record's conflicts follow it to its new kelurahan.
            cursor.executemany(
                "UPDATE conflicts SET kelurahan = %s WHERE record_id = %s",
                [(e.new_kelurahan, e.record_id) for e in exits],
            )

    def beneficiaries_with_nik(self, niks: Sequence[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        if not niks:
            return found
        for nik, record_id in self._conn.execute(
            "SELECT nik, id FROM records WHERE nik = ANY(%b::text[]) ORDER BY seq", (list(niks),)
        ):
            found.setdefault(nik, []).append(record_id)
        return found

    def records_of_beneficiary(self, beneficiary_id: str) -> list[RecordRow]:
        rows = self._conn.execute(
            f"{RECORD_SELECT} WHERE entity <> 'beneficiary' AND deleted = 0"
            " AND ((data::jsonb ->> 'beneficiary_id') COLLATE \"C\") = %s ORDER BY seq",
            (beneficiary_id,),
        ).fetchall()
        return [_record(row) for row in rows]

    def users_of_devices(self, device_ids: Sequence[str]) -> dict[str, str]:
        if not device_ids:
            return {}
        rows = self._conn.execute(
            "SELECT device_id, user_name FROM devices WHERE device_id = ANY(%b::text[])",
            (list(device_ids),),
        ).fetchall()
        return dict(rows)

    def conflict(self, conflict_id: int) -> ConflictRow:
        if conflict_id not in _BIGINT:  # no row can have such an id
            raise NotFound(f"no conflict {conflict_id}")
        found = select_conflicts(self._conn, "conflict_id = %s", (conflict_id,))
        if not found:
            raise NotFound(f"no conflict {conflict_id}")
        return found[0]

    def resolve_conflict(
        self, conflict_id: int, when: str, by: str, seq: int, resolution: Any
    ) -> None:
        self._conn.execute(
            "UPDATE conflicts SET resolved_at = %s, resolved_by = %s, resolved_seq = %s,"
            " resolution = %s WHERE conflict_id = %s",
            (when, by, seq, _json(resolution), conflict_id),
        )

    def get_meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM hub_meta WHERE key = %s", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._conn.execute(
            "INSERT INTO hub_meta (key, value) VALUES (%s, %s)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def touch_device(
        self, device_id: str, when: str, synced: bool, report: DeviceReport | None = None
    ) -> None:
        columns: list[str] = ["last_seen_at = %s"]
        params: list[Any] = [when]
        if synced:
            columns.append("last_sync_at = %s")
            params.append(when)
        if report is not None:
            columns.append("client_version = %s, queue_size = %s, reported_at = %s")
            params += [report.client_version, report.queue_size, when]
        self._conn.execute(
            f"UPDATE devices SET {', '.join(columns)} WHERE device_id = %s",
            [*params, device_id],
        )

    def last_audit(self) -> tuple[int, str] | None:
        row = self._conn.execute(
            "SELECT position, hash FROM audit ORDER BY position DESC LIMIT 1"
        ).fetchone()
        return (int(row[0]), row[1]) if row else None

    def append_audit(self, entry: AuditEntry) -> None:
        self._conn.execute(
            "INSERT INTO audit (position, at, actor, device_id, action, detail, prev_hash, hash)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (
                entry.position,
                entry.at,
                entry.actor,
                entry.device_id,
                entry.action,
                entry.detail,
                entry.prev_hash,
                entry.hash,
            ),
        )
