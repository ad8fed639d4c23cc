"""The office's reads on PostgreSQL (:class:`~server.storage.office.OfficeReads`).

The twin of :mod:`server.storage.sqlite_office`: the same filters
(:func:`server.storage.office_rows.where_sql`), the same columns in the same order, shaped
by the same functions. Where SQLite names an index with INDEXED BY, PostgreSQL plans the
plain query on migration 0002's partial indexes itself, and on 0006's
`office_visit_beneficiary`, which keeps Cakupan's per-beneficiary questions one index
descent each even before the tables have statistics (tests/server/test_storage_pg_office.py
holds the plans, analysed and not). JSON
is read with ``data::jsonb ->> 'name'`` and only for the rows a page returns; a
beneficiary's visits and requests are found through `records_beneficiary`, whose
expression the queries repeat exactly. Exports read one ``REPEATABLE READ`` snapshot
through a server-side cursor, in chunks, on a pool connection of their own. The writer
(server/storage/pg_write.py) keeps the read-model columns and `beneficiary_programs`.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Generator, Sequence
from typing import Any

import psycopg

from server.storage.base import StorageError
from server.storage.office import (
    FINDINGS_EXCERPT,
    BeneficiaryItem,
    HistoryEntry,
    OfficeReads,
    ProgramCoverage,
    RecordFilter,
    RecordView,
    RequestItem,
    Scopes,
    StatusCount,
    UnvisitedCounts,
    UnvisitedItem,
    VisitItem,
)
from server.storage.office_rows import (
    EXPORT_CHUNK,
    EXPORT_ENTITIES,
    GROUPS,
    beneficiary_item,
    history_entries,
    like_pattern,
    nothing,
    record_view,
    request_item,
    unvisited_counts,
    unvisited_item,
    visit_item,
    visit_time,
    where_sql,
)
from server.storage.pg_db import PgDatabase
from server.storage.pg_scope import scope_sql
from server.storage.read_columns import name_key

__all__ = ["OWNER_OF", "PgOfficeReads"]

#: a record's beneficiary as migration 0001's `records_beneficiary` indexes it (a query
#: must name the very expression, and `entity <> 'beneficiary'`, to use that index)
OWNER_OF = "((({0}.data)::jsonb ->> 'beneficiary_id') COLLATE \"C\")"
#: each programme row's latest live visit, `lv.last` (NULL: never visited): one descent of
#: migration 0006's `office_visit_beneficiary` per row. `deleted + 0` keeps the planner off
#: `office_visits` (whose predicate it no longer implies), which it otherwise may walk
#: whole, per row, when the tables have no statistics yet (sqlite_office's `+` does the
#: same). "Not visited since X" is then `lv.last IS NULL OR lv.last < X`.
_LAST_VISIT = (
    " LEFT JOIN LATERAL (SELECT MAX(v.visited_utc) AS last FROM records AS v"
    " WHERE v.beneficiary_id = bp.record_id AND v.entity = 'visit' AND v.deleted + 0 = 0)"
    " AS lv ON TRUE"
)
_NOT_SINCE = "(lv.last IS NULL OR lv.last < %s)"
#: numbers the exports' server-side cursors (two may be open on one connection)
_EXPORTS = itertools.count(1)
_VIEW_COLUMNS = (
    "r.id, r.entity, r.kelurahan, r.author, r.created_at, r.updated_at, r.data,"
    " b.data::jsonb ->> 'name', b.data::jsonb ->> 'nik'"
)


def _owner_join(scopes: Scopes, owner: str) -> tuple[str, list[str]]:
    """The join to a record's beneficiary, `b`, only where `scopes` covers it (a person
    moved away keeps their old visits here, without their name or NIK: the pages' rule)."""
    covers, params = scope_sql(scopes, "b.kelurahan")
    return f"LEFT JOIN records AS b ON b.id = {owner} AND {covers}", params


def _where(entity: str, scopes: Scopes, where: RecordFilter, alias: str) -> tuple[str, list[Any]]:
    """The WHERE of a list over live records of `entity` (alias `alias`) in scope."""
    return where_sql(entity, scopes, where, alias, mark="%s", scope_sql=scope_sql)


def _no_rows() -> Generator[RecordView, None, None]:
    yield from ()


class PgOfficeReads(OfficeReads):
    """:param db: the hub's database; every list reads on an autocommit connection."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def _all(self, query: str, params: Sequence[Any]) -> list[Any]:
        try:
            with self._db.read() as conn:
                return conn.execute(query, params).fetchall()
        except psycopg.Error as exc:
            raise StorageError(f"office query failed: {exc}") from exc

    # -- Kunjungan ------------------------------------------------------------------------

    def visits(
        self,
        scopes: Scopes,
        where: RecordFilter,
        limit: int,
        after: tuple[str, str] | None = None,
    ) -> list[VisitItem]:
        if nothing(scopes, where):
            return []
        sql, params = _where("visit", scopes, where, "v")
        if after is not None:
            sql += " AND v.visited_utc <= %s AND (v.visited_utc < %s OR v.id < %s)"
            params += [after[0], after[0], after[1]]
        owner, owner_params = _owner_join(scopes, "v.beneficiary_id")
        rows = self._all(
            "SELECT v.id, v.kelurahan, v.data::jsonb ->> 'visited_at', v.purpose,"
            " v.author, v.review_state, v.beneficiary_id, b.data::jsonb ->> 'name',"
            " b.data::jsonb ->> 'nik', v.visited_utc, v.seq,"
            f" left(v.data::jsonb ->> 'findings', {FINDINGS_EXCERPT})"
            f" FROM records AS v {owner}"
            f" WHERE {sql} ORDER BY v.visited_utc DESC, v.id DESC LIMIT %s",
            [*owner_params, *params, limit],
        )
        return [visit_item(row) for row in rows]

    def count_visits(self, scopes: Scopes, where: RecordFilter) -> int:
        if nothing(scopes, where):
            return 0
        sql, params = _where("visit", scopes, where, "v")
        return int(self._all(f"SELECT COUNT(*) FROM records AS v WHERE {sql}", params)[0][0])

    # -- Penerima manfaat -------------------------------------------------------------------

    def search_beneficiaries(self, scopes: Scopes, text: str, limit: int) -> list[BeneficiaryItem]:
        if nothing(scopes):
            return []
        text = text.strip()
        if not text:
            return []
        scope, scope_params = scope_sql(scopes, "r.kelurahan")
        if text.isascii() and text.isdigit():
            # ':' sorts right after '9' (byte-wise: the column is COLLATE "C")
            match, order = "r.nik >= %s AND r.nik < %s", "r.nik, r.id"
            params: list[Any] = [text, text + ":"]
        else:
            match, order = "r.name_key LIKE %s ESCAPE '\\'", "r.name_key, r.id"
            params = [like_pattern(name_key(text))]
        rows = self._all(
            "SELECT r.id, r.kelurahan, r.data, r.author FROM records AS r"
            " WHERE r.entity = 'beneficiary' AND r.deleted = 0"
            f" AND {match} AND {scope} ORDER BY {order} LIMIT %s",
            [*params, *scope_params, limit],
        )
        return [beneficiary_item(row) for row in rows]

    def beneficiary_records(self, beneficiary_id: str) -> list[RecordView]:
        rows = self._all(
            f"SELECT {_VIEW_COLUMNS} FROM records AS r LEFT JOIN records AS b ON b.id = %s"
            f" WHERE {OWNER_OF.format('r')} = %s AND r.entity <> 'beneficiary'"
            " AND r.deleted = 0"
            " ORDER BY r.entity = 'device_request', COALESCE(r.visited_utc, r.created_at), r.id",
            (beneficiary_id, beneficiary_id),
        )
        return [record_view(row) for row in rows]

    def history(self, record_id: str) -> list[HistoryEntry]:
        rows = self._all(
            "SELECT c.change_id, c.received_at, c.device_id, d.name,"
            " CASE WHEN c.device_id = 'hub' THEN c.author_id ELSE d.user_name END,"
            " c.fields, c.receipt::jsonb ->> 'status'"
            " FROM changes AS c LEFT JOIN devices AS d ON d.device_id = c.device_id"
            " WHERE c.record_id = %s ORDER BY c.pos",
            (record_id,),
        )
        return history_entries(rows)

    # -- Permohonan ABF ---------------------------------------------------------------------

    def requests_by_status(self, scopes: Scopes) -> list[StatusCount]:
        if nothing(scopes):
            return []
        scope, params = scope_sql(scopes, "kelurahan")
        rows = self._all(
            "SELECT request_status, COUNT(*), MIN(status_since) FROM records"
            " WHERE entity = 'device_request' AND deleted = 0"
            f" AND request_status IS NOT NULL AND {scope}"
            " GROUP BY request_status ORDER BY request_status",
            params,
        )
        return [StatusCount(status, int(count), since) for status, count, since in rows]

    def requests(
        self,
        scopes: Scopes,
        where: RecordFilter,
        limit: int,
        after: tuple[str, str] | None = None,
    ) -> list[RequestItem]:
        if nothing(scopes, where):
            return []
        sql, params = _where("device_request", scopes, where, "r")
        if after is not None:
            sql += " AND r.status_since >= %s AND (r.status_since > %s OR r.id > %s)"
            params += [after[0], after[0], after[1]]
        owner, owner_params = _owner_join(scopes, "r.beneficiary_id")
        rows = self._all(
            "SELECT r.id, r.kelurahan, r.request_status, r.status_since,"
            " r.data::jsonb ->> 'device_type', r.beneficiary_id,"
            " b.data::jsonb ->> 'name', b.data::jsonb ->> 'nik', r.author,"
            f" r.created_at FROM records AS r {owner}"
            f" WHERE {sql} AND r.request_status IS NOT NULL"
            " ORDER BY r.status_since, r.id LIMIT %s",
            [*owner_params, *params, limit],
        )
        return [request_item(row) for row in rows]

    # -- Ringkasan ---------------------------------------------------------------------------

    def count_open_conflicts(self, scopes: Scopes) -> int:
        if nothing(scopes):
            return 0
        scope, params = scope_sql(scopes, "kelurahan")
        return int(
            self._all(
                f"SELECT COUNT(*) FROM conflicts WHERE resolved_at IS NULL AND {scope}", params
            )[0][0]
        )

    # -- Cakupan ------------------------------------------------------------------------------

    def coverage(
        self, scopes: Scopes, start: dt.datetime, end: dt.datetime
    ) -> list[ProgramCoverage]:
        if nothing(scopes):
            return []
        scope, params = scope_sql(scopes, "bp.kelurahan")
        # the beneficiaries visited in the period, once each, joined to every programme row
        rows = self._all(
            "WITH seen AS (SELECT DISTINCT v.beneficiary_id FROM records AS v"
            " WHERE v.entity = 'visit' AND v.deleted = 0 AND v.visited_utc >= %s"
            " AND v.visited_utc < %s AND v.beneficiary_id IS NOT NULL)"
            " SELECT bp.program, COUNT(*), COUNT(s.beneficiary_id)"
            " FROM beneficiary_programs AS bp"
            " LEFT JOIN seen AS s ON s.beneficiary_id = bp.record_id"
            f" WHERE {scope} GROUP BY bp.program ORDER BY bp.program",
            [visit_time(start), visit_time(end), *params],
        )
        return [ProgramCoverage(program, int(count), int(seen)) for program, count, seen in rows]

    def unvisited_counts(self, scopes: Scopes, program: str, since: dt.datetime) -> UnvisitedCounts:
        if nothing(scopes):
            return UnvisitedCounts(0)
        scope, params = scope_sql(scopes, "bp.kelurahan")
        rows = self._all(
            "SELECT bp.kelurahan, COALESCE(bp.author, ''), COUNT(*)"
            f" FROM beneficiary_programs AS bp{_LAST_VISIT} WHERE bp.program = %s"
            f" AND {scope} AND {_NOT_SINCE} GROUP BY bp.kelurahan, bp.author",
            [program, *params, visit_time(since)],
        )
        return unvisited_counts((k, a, int(n)) for k, a, n in rows)

    def unvisited(
        self,
        scopes: Scopes,
        program: str,
        since: dt.datetime,
        limit: int,
        after: tuple[str, str, str] | None = None,
        by: str = "kelurahan",
    ) -> list[UnvisitedItem]:
        if by not in GROUPS:
            raise ValueError(f"unknown grouping {by!r}")
        if nothing(scopes):
            return []
        group = GROUPS[by]
        scope, params = scope_sql(scopes, "bp.kelurahan")
        keyset, keys = "", []
        if after is not None:
            keyset, keys = f" AND ({group}, bp.name_key, bp.record_id) > (%s, %s, %s)", list(after)
        rows = self._all(
            "SELECT bp.record_id, b.data::jsonb ->> 'name', b.data::jsonb ->> 'nik',"
            f" bp.kelurahan, bp.author, lv.last, bp.name_key, {group}"
            " FROM beneficiary_programs AS bp JOIN records AS b ON b.id = bp.record_id"
            f"{_LAST_VISIT}"
            f" WHERE bp.program = %s AND {scope}{keyset} AND {_NOT_SINCE}"
            f" ORDER BY {group}, bp.name_key, bp.record_id LIMIT %s",
            [program, *params, *keys, visit_time(since), limit],
        )
        return [unvisited_item(row) for row in rows]

    # -- exports ------------------------------------------------------------------------------

    def export_rows(
        self, entity: str, scopes: Scopes, where: RecordFilter
    ) -> Generator[RecordView, None, None]:
        if entity not in EXPORT_ENTITIES:
            raise ValueError(f"unknown entity {entity!r}")
        if nothing(scopes, where):
            return _no_rows()
        sql, params = _where(entity, scopes, where, "r")
        order = {
            "visit": "r.visited_utc, r.id",
            "beneficiary": "r.name_key, r.id",
            "device_request": "r.created_at, r.id",
        }[entity]
        join, join_params = _owner_join(
            scopes, "r.id" if entity == "beneficiary" else "r.beneficiary_id"
        )
        query = f"SELECT {_VIEW_COLUMNS} FROM records AS r {join} WHERE {sql} ORDER BY {order}"
        return self._stream(query, [*join_params, *params])

    def _stream(self, query: str, params: Sequence[Any]) -> Generator[RecordView, None, None]:
        """Rows of `query` from one snapshot, on a pool connection of the export's own.

        Not :meth:`PgDatabase.snapshot`: that one is the thread's transaction until it
        ends, and a generator left half-read must not turn the thread's next write into
        a write inside a read-only snapshot. An autocommit connection from
        :meth:`PgDatabase.read` with its own ``REPEATABLE READ READ ONLY`` transaction,
        rolled back however the generator ends, holds up no writer.
        """
        try:
            with self._db.read() as conn:
                # inside a transaction of this thread's already, read() gives its connection
                own = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
                if own:
                    conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                try:
                    with conn.cursor(name=f"office_export_{next(_EXPORTS)}") as cursor:
                        cursor.execute(query, params)
                        while rows := cursor.fetchmany(EXPORT_CHUNK):
                            for row in rows:
                                yield record_view(row)
                finally:
                    if own:
                        conn.execute("ROLLBACK")
        except psycopg.Error as exc:
            raise StorageError(f"export read failed: {exc}") from exc
