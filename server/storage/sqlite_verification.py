"""The SQLite :class:`~server.storage.verification.VerificationStore`: month states from
the read model, closes and their frozen lists (migrations/NNNN_monthly_verification.sql).

A month's states read two things only: the programme's rows of `beneficiary_programs`
(clustered by programme, kelurahan and name) and the month's range of the partial index
`office_verifications` (verification visits only, every column the state needs in it), the
latest per beneficiary by a window function. No record's JSON is decoded, except the names
and NIKs of the rows a page shows, or of every row once when a month is closed.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

import orjson

from server.audit import AuditEvent
from server.storage.base import StorageError
from server.storage.office_rows import close_of, verification_time, wilayah_text
from server.storage.sqlite_scope import scope_sql
from server.storage.verification import (
    BELUM,
    TERVERIFIKASI,
    MonthClose,
    MonthClosed,
    MonthState,
    Scopes,
    VerificationStore,
    overlaps,
)

__all__ = ["SQLiteVerificationStore"]

_CHUNK = 500

#: each beneficiary's latest verification visit in [?, ?), from the partial index only
_LATEST = (
    "WITH latest AS (SELECT beneficiary_id, id, visited_utc, verification_outcome, author"
    " FROM (SELECT v.beneficiary_id, v.id, v.visited_utc, v.verification_outcome, v.author,"
    "  ROW_NUMBER() OVER (PARTITION BY v.beneficiary_id"
    "   ORDER BY v.visited_utc DESC, v.id DESC) AS n"
    "  FROM records AS v INDEXED BY office_verifications"
    "  WHERE v.entity = 'visit' AND v.deleted = 0"
    "  AND (verification_outcome IS NOT NULL OR purpose = 'verifikasi')"
    "  AND v.visited_utc >= ? AND v.visited_utc < ? AND v.beneficiary_id IS NOT NULL)"
    " WHERE n = 1)"
)
#: a row's state from its latest verification visit (none: belum; no outcome: verified)
_STATE = (
    f"CASE WHEN l.id IS NULL THEN '{BELUM}'"
    f" WHEN l.verification_outcome IS NULL OR l.verification_outcome = 'layak'"
    f" THEN '{TERVERIFIKASI}' ELSE l.verification_outcome END"
)
_FROM = " FROM beneficiary_programs AS bp LEFT JOIN latest AS l ON l.beneficiary_id = bp.record_id"


class SQLiteVerificationStore(VerificationStore):
    """:param transaction: opens one write transaction (``SQLiteStorage._transaction``).
    :param conn: this thread's connection for reads.
    :param audit: appends an event on a connection inside a transaction."""

    def __init__(
        self,
        transaction: Callable[[], AbstractContextManager[sqlite3.Connection]],
        conn: Callable[[], sqlite3.Connection],
        audit: Callable[[sqlite3.Connection, AuditEvent], object],
    ) -> None:
        self._transaction = transaction
        self._conn = conn
        self._audit = audit

    def _all(self, sql: str, params: Sequence[Any]) -> list[Any]:
        try:
            return self._conn().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StorageError(f"verification query failed: {exc}") from exc

    def month_states(
        self, scopes: Scopes, program: str, start: dt.datetime, end: dt.datetime
    ) -> list[MonthState]:
        if scopes is not None and not scopes:
            return []
        scope, params = scope_sql(scopes, "bp.kelurahan")
        rows = self._all(
            f"{_LATEST} SELECT bp.record_id, bp.kelurahan, bp.name_key, {_STATE}, l.id,"
            f" l.visited_utc, COALESCE(l.author, bp.author){_FROM}"
            f" WHERE bp.program = ? AND {scope}"
            " ORDER BY bp.kelurahan, bp.name_key, bp.record_id",
            [verification_time(start), verification_time(end), program, *params],
        )
        return [MonthState(*row) for row in rows]

    def people(self, beneficiary_ids: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        found: dict[str, tuple[str, str | None]] = {}
        ids = list(dict.fromkeys(beneficiary_ids))
        for at in range(0, len(ids), _CHUNK):
            chunk = ids[at : at + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for rid, name, nik in self._all(
                "SELECT id, json_extract(data, '$.name'), json_extract(data, '$.nik')"
                f" FROM records WHERE id IN ({marks})",
                chunk,
            ):
                found[rid] = (str(name or ""), nik if isinstance(nik, str) else None)
        return found

    def closes(self, program: str, month: str) -> list[MonthClose]:
        return [
            close_of(row)
            for row in self._all(
                "SELECT close_id, program, month, wilayah, closed_by, closed_at, counts"
                " FROM verification_closes WHERE program = ? AND month = ? ORDER BY close_id",
                (program, month),
            )
        ]

    def frozen(self, close_ids: Sequence[int], scopes: Scopes) -> list[MonthState]:
        if not close_ids or (scopes is not None and not scopes):
            return []
        scope, params = scope_sql(scopes)
        marks = ",".join("?" * len(close_ids))
        rows = self._all(
            "SELECT beneficiary_id, kelurahan, name_key, state, visit_id, visited_utc,"
            " pendamping, name, nik FROM verification_rows"
            f" WHERE close_id IN ({marks}) AND {scope}"
            " ORDER BY kelurahan, name_key, beneficiary_id",
            [*close_ids, *params],
        )
        return [MonthState(*row) for row in rows]

    def close_month(
        self,
        program: str,
        month: str,
        wilayah: tuple[str, ...] | None,
        start: dt.datetime,
        end: dt.datetime,
        closed_by: str,
        closed_at: str,
        audit: Callable[[MonthClose], AuditEvent],
    ) -> MonthClose:
        if wilayah is not None and not wilayah:
            raise ValueError("an empty wilayah closes nothing")
        with self._transaction() as conn:
            for row in conn.execute(
                "SELECT close_id, program, month, wilayah, closed_by, closed_at, counts"
                " FROM verification_closes WHERE program = ? AND month = ? ORDER BY close_id",
                (program, month),
            ).fetchall():
                existing = close_of(row)
                if overlaps(existing.wilayah, wilayah):
                    raise MonthClosed(existing)
            # the rows first, then the close with their counts: a close is never updated
            # (the migration's triggers), and the key's check waits for the commit
            close_id = int(
                conn.execute(
                    "SELECT COALESCE(MAX(close_id), 0) + 1 FROM verification_closes"
                ).fetchone()[0]
            )
            scope, params = scope_sql(wilayah, "bp.kelurahan")
            conn.execute(
                f"{_LATEST} INSERT INTO verification_rows (close_id, kelurahan, name_key,"
                " beneficiary_id, name, nik, state, visit_id, visited_utc, pendamping)"
                " SELECT ?, bp.kelurahan, bp.name_key, bp.record_id,"
                " COALESCE(json_extract(b.data, '$.name'), ''), b.nik,"
                f" {_STATE}, l.id, l.visited_utc, COALESCE(l.author, bp.author){_FROM}"
                " JOIN records AS b ON b.id = bp.record_id"
                f" WHERE bp.program = ? AND {scope}",
                [verification_time(start), verification_time(end), close_id, program, *params],
            )
            counts = dict(
                conn.execute(
                    "SELECT state, COUNT(*) FROM verification_rows WHERE close_id = ?"
                    " GROUP BY state ORDER BY state",
                    (close_id,),
                ).fetchall()
            )
            conn.execute(
                "INSERT INTO verification_closes (close_id, program, month, wilayah,"
                " closed_by, closed_at, counts) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    close_id,
                    program,
                    month,
                    wilayah_text(wilayah),
                    closed_by,
                    closed_at,
                    orjson.dumps(counts).decode(),
                ),
            )
            close = MonthClose(close_id, program, month, wilayah, closed_by, closed_at, counts)
            self._audit(conn, audit(close))
        return close
