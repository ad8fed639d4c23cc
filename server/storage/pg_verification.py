"""The PostgreSQL :class:`~server.storage.verification.VerificationStore`: month states from
the read model, closes and their frozen lists (pg_migrations/0004_monthly_verification.sql).

The twin of :mod:`server.storage.sqlite_verification`: a month's states read the
programme's rows of `beneficiary_programs` and the month's range of the partial index
`office_verifications`, the latest visit per beneficiary by ``DISTINCT ON``. A close is
written under the hub's write lock (:meth:`PgDatabase.write`), so two offices closing at
once are serial and the second finds the first's close; its audit entry goes in the same
transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import orjson
import psycopg

from server.audit import AuditEvent
from server.storage.base import StorageError
from server.storage.office_rows import close_of, verification_time, wilayah_text
from server.storage.pg_db import PgDatabase
from server.storage.pg_scope import scope_sql
from server.storage.pg_write import audit_into
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

__all__ = ["PgVerificationStore"]

#: each beneficiary's latest verification visit in [%s, %s), from the partial index only
_LATEST = (
    "WITH latest AS (SELECT DISTINCT ON (v.beneficiary_id) v.beneficiary_id, v.id,"
    " v.visited_utc, v.verification_outcome, v.author FROM records AS v"
    " WHERE v.entity = 'visit' AND v.deleted = 0"
    " AND (v.verification_outcome IS NOT NULL OR v.purpose = 'verifikasi')"
    " AND v.visited_utc >= %s AND v.visited_utc < %s AND v.beneficiary_id IS NOT NULL"
    " ORDER BY v.beneficiary_id, v.visited_utc DESC, v.id DESC)"
)
#: a row's state from its latest verification visit (none: belum; no outcome: verified)
_STATE = (
    f"CASE WHEN l.id IS NULL THEN '{BELUM}'"
    f" WHEN l.verification_outcome IS NULL OR l.verification_outcome = 'layak'"
    f" THEN '{TERVERIFIKASI}' ELSE l.verification_outcome END"
)
_FROM = " FROM beneficiary_programs AS bp LEFT JOIN latest AS l ON l.beneficiary_id = bp.record_id"
_CLOSE_COLUMNS = "close_id, program, month, wilayah, closed_by, closed_at, counts"


class PgVerificationStore(VerificationStore):
    """:param db: the hub's database; a close is one :meth:`PgDatabase.write`."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def _all(self, query: str, params: Sequence[Any]) -> list[Any]:
        try:
            with self._db.read() as conn:
                return conn.execute(query, params).fetchall()
        except psycopg.Error as exc:
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
            f" WHERE bp.program = %s AND {scope}"
            " ORDER BY bp.kelurahan, bp.name_key, bp.record_id",
            [verification_time(start), verification_time(end), program, *params],
        )
        return [MonthState(*row) for row in rows]

    def people(self, beneficiary_ids: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        ids = list(dict.fromkeys(beneficiary_ids))
        if not ids:
            return {}
        rows = self._all(
            "SELECT id, data::jsonb ->> 'name', CASE WHEN"
            " jsonb_typeof(data::jsonb -> 'nik') = 'string' THEN data::jsonb ->> 'nik' END"
            " FROM records WHERE id = ANY(%s)",
            (ids,),
        )
        return {rid: (str(name or ""), nik) for rid, name, nik in rows}

    def closes(self, program: str, month: str) -> list[MonthClose]:
        return [
            close_of(row)
            for row in self._all(
                f"SELECT {_CLOSE_COLUMNS} FROM verification_closes"
                " WHERE program = %s AND month = %s ORDER BY close_id",
                (program, month),
            )
        ]

    def frozen(self, close_ids: Sequence[int], scopes: Scopes) -> list[MonthState]:
        if not close_ids or (scopes is not None and not scopes):
            return []
        scope, params = scope_sql(scopes, "kelurahan")
        rows = self._all(
            "SELECT beneficiary_id, kelurahan, name_key, state, visit_id, visited_utc,"
            " pendamping, name, nik FROM verification_rows"
            f" WHERE close_id = ANY(%s) AND {scope}"
            " ORDER BY kelurahan, name_key, beneficiary_id",
            [list(close_ids), *params],
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
        with self._db.write() as conn:
            for found in conn.execute(
                f"SELECT {_CLOSE_COLUMNS} FROM verification_closes"
                " WHERE program = %s AND month = %s ORDER BY close_id",
                (program, month),
            ).fetchall():
                existing = close_of(found)
                if overlaps(existing.wilayah, wilayah):
                    raise MonthClosed(existing)
            # the rows first, then the close with their counts (a close is never updated:
            # the migration's triggers; the deferred key is checked at COMMIT). MAX + 1 is
            # safe under the write lock and numbers closes as SQLite does.
            (close_id,) = conn.execute(
                "SELECT COALESCE(MAX(close_id), 0) + 1 FROM verification_closes"
            ).fetchone() or (1,)
            scope, params = scope_sql(wilayah, "bp.kelurahan")
            conn.execute(
                f"{_LATEST} INSERT INTO verification_rows (close_id, kelurahan, name_key,"
                " beneficiary_id, name, nik, state, visit_id, visited_utc, pendamping)"
                " SELECT %s, bp.kelurahan, bp.name_key, bp.record_id,"
                " COALESCE(b.data::jsonb ->> 'name', ''), b.nik,"
                f" {_STATE}, l.id, l.visited_utc, COALESCE(l.author, bp.author){_FROM}"
                " JOIN records AS b ON b.id = bp.record_id"
                f" WHERE bp.program = %s AND {scope}",
                [verification_time(start), verification_time(end), close_id, program, *params],
            )
            counts = {
                state: int(count)
                for state, count in conn.execute(
                    "SELECT state, COUNT(*) FROM verification_rows WHERE close_id = %s"
                    " GROUP BY state ORDER BY state",
                    (close_id,),
                ).fetchall()
            }
            conn.execute(
                f"INSERT INTO verification_closes ({_CLOSE_COLUMNS})"
                " VALUES (%s, %s, %s, %s, %s, %s, %s)",
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
            audit_into(conn, audit(close))
        return close
