"""The office's reads on SQLite (:class:`~server.storage.office.OfficeReads`), and the
programme side table the writer keeps.

Each list and count walks one of migration 0007's partial indexes, named with INDEXED BY
as the pull does (SQLite has no statistics here to choose by), and checks every filter in
the index; only the rows a page returns are joined to their beneficiary and decoded.
Exports read one snapshot on a connection of their own, in chunks.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Generator, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

from server.storage.base import RecordRow, StorageError
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
from server.storage.read_columns import name_key, programs_of
from server.storage.sqlite_scope import scope_sql

__all__ = ["SQLiteOfficeReads", "save_programs"]

#: the live visits that point at a beneficiary and were visited since a moment
_VISITED_SINCE = (
    "SELECT beneficiary_id FROM records INDEXED BY office_visits WHERE entity = 'visit'"
    " AND deleted = 0 AND visited_utc >= ? AND beneficiary_id IS NOT NULL"
)
_VIEW_COLUMNS = (
    "r.id, r.entity, r.kelurahan, r.author, r.created_at, r.updated_at, r.data,"
    " json_extract(b.data, '$.name'), json_extract(b.data, '$.nik')"
)


def _owner_join(scopes: Scopes, owner: str) -> tuple[str, list[str]]:
    """The join to a record's beneficiary, `b`, only where `scopes` covers it: a person
    moved to another wilayah keeps their old visits and requests here, which must not show
    the person's name or NIK to an office that does not cover them (the pages' own rule)."""
    covers, params = scope_sql(scopes, "b.kelurahan")
    return f"LEFT JOIN records AS b ON b.id = {owner} AND {covers}", params


def save_programs(conn: sqlite3.Connection, beneficiaries: Sequence[RecordRow]) -> None:
    """Keep `beneficiary_programs` for these beneficiaries as written now (in the write's
    transaction): one row per programme of each live one, none for a tombstone."""
    if not beneficiaries:
        return
    conn.executemany(
        "DELETE FROM beneficiary_programs WHERE record_id = ?", ((r.id,) for r in beneficiaries)
    )
    conn.executemany(
        "INSERT OR IGNORE INTO beneficiary_programs (program, kelurahan, name_key, record_id,"
        " author) VALUES (?, ?, ?, ?, ?)",
        (
            (program, r.kelurahan, name_key(str(r.data.get("name") or "")), r.id, r.author)
            for r in beneficiaries
            for program in programs_of(r)
        ),
    )


def _where(entity: str, scopes: Scopes, where: RecordFilter, alias: str) -> tuple[str, list[Any]]:
    """The WHERE of a list over live records of `entity` (alias `alias`) in scope."""
    return where_sql(entity, scopes, where, alias, mark="?", scope_sql=scope_sql)


def _no_rows() -> Generator[RecordView, None, None]:
    yield from ()


class SQLiteOfficeReads(OfficeReads):
    """:param conn: the calling thread's connection (the storage's).
    :param path: the database file, for the exports' connections of their own."""

    def __init__(self, conn: Callable[[], sqlite3.Connection], path: Path) -> None:
        self._conn = conn
        self._path = path

    def _all(self, sql: str, params: Sequence[Any]) -> list[Any]:
        try:
            return self._conn().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
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
            sql += " AND v.visited_utc <= ? AND (v.visited_utc < ? OR v.id < ?)"
            params += [after[0], after[0], after[1]]
        owner, owner_params = _owner_join(scopes, "v.beneficiary_id")
        rows = self._all(
            "SELECT v.id, v.kelurahan, json_extract(v.data, '$.visited_at'), v.purpose,"
            " v.author, v.review_state, v.beneficiary_id, json_extract(b.data, '$.name'),"
            " json_extract(b.data, '$.nik'), v.visited_utc, v.seq,"
            f" substr(json_extract(v.data, '$.findings'), 1, {FINDINGS_EXCERPT})"
            f" FROM records AS v INDEXED BY office_visits {owner}"
            f" WHERE {sql} ORDER BY v.visited_utc DESC, v.id DESC LIMIT ?",
            [*owner_params, *params, limit],
        )
        return [visit_item(row) for row in rows]

    def count_visits(self, scopes: Scopes, where: RecordFilter) -> int:
        if nothing(scopes, where):
            return 0
        sql, params = _where("visit", scopes, where, "v")
        return self._all(
            f"SELECT COUNT(*) FROM records AS v INDEXED BY office_visits WHERE {sql}", params
        )[0][0]

    # -- Penerima manfaat -------------------------------------------------------------------

    def search_beneficiaries(self, scopes: Scopes, text: str, limit: int) -> list[BeneficiaryItem]:
        if nothing(scopes):
            return []
        text = text.strip()
        if not text:
            return []
        scope, scope_params = scope_sql(scopes, "r.kelurahan")
        if text.isascii() and text.isdigit():
            # ':' sorts right after '9': every NIK that starts with `text`
            match, order, index = "r.nik >= ? AND r.nik < ?", "r.nik", "records_nik"
            params: list[Any] = [text, text + ":"]
        else:
            match, order = "r.name_key LIKE ? ESCAPE '\\'", "r.name_key, r.id"
            index, params = "office_beneficiary_names", [like_pattern(name_key(text))]
        rows = self._all(
            "SELECT r.id, r.kelurahan, r.data, r.author FROM records AS r"
            f" INDEXED BY {index} WHERE r.entity = 'beneficiary' AND r.deleted = 0"
            f" AND {match} AND {scope} ORDER BY {order} LIMIT ?",
            [*params, *scope_params, limit],
        )
        return [beneficiary_item(row) for row in rows]

    def beneficiary_records(self, beneficiary_id: str) -> list[RecordView]:
        rows = self._all(
            f"SELECT {_VIEW_COLUMNS} FROM records AS r INDEXED BY records_beneficiary"
            " LEFT JOIN records AS b ON b.id = ?"
            " WHERE json_extract(r.data, '$.beneficiary_id') = ? AND r.entity != 'beneficiary'"
            " AND r.deleted = 0"
            " ORDER BY r.entity = 'device_request', COALESCE(r.visited_utc, r.created_at), r.id",
            (beneficiary_id, beneficiary_id),
        )
        return [record_view(row) for row in rows]

    def history(self, record_id: str) -> list[HistoryEntry]:
        rows = self._all(
            "SELECT c.change_id, c.received_at, c.device_id, d.name,"
            " CASE WHEN c.device_id = 'hub' THEN c.author_id ELSE d.user_name END,"
            " c.fields, json_extract(c.receipt, '$.status')"
            " FROM changes AS c LEFT JOIN devices AS d ON d.device_id = c.device_id"
            " WHERE c.record_id = ? ORDER BY c.rowid",
            (record_id,),
        )
        return history_entries(rows)

    # -- Permohonan ABF ---------------------------------------------------------------------

    def requests_by_status(self, scopes: Scopes) -> list[StatusCount]:
        if nothing(scopes):
            return []
        scope, params = scope_sql(scopes)
        rows = self._all(
            "SELECT request_status, COUNT(*), MIN(status_since) FROM records"
            " INDEXED BY office_requests WHERE entity = 'device_request' AND deleted = 0"
            f" AND request_status IS NOT NULL AND {scope}"
            " GROUP BY request_status ORDER BY request_status",
            params,
        )
        return [StatusCount(*row) for row in rows]

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
            sql += " AND r.status_since >= ? AND (r.status_since > ? OR r.id > ?)"
            params += [after[0], after[0], after[1]]
        owner, owner_params = _owner_join(scopes, "r.beneficiary_id")
        rows = self._all(
            "SELECT r.id, r.kelurahan, r.request_status, r.status_since,"
            " json_extract(r.data, '$.device_type'), r.beneficiary_id,"
            " json_extract(b.data, '$.name'), json_extract(b.data, '$.nik'), r.author,"
            f" r.created_at FROM records AS r INDEXED BY office_requests {owner}"
            f" WHERE {sql} AND r.request_status IS NOT NULL"
            " ORDER BY r.status_since, r.id LIMIT ?",
            [*owner_params, *params, limit],
        )
        return [request_item(row) for row in rows]

    # -- Ringkasan ---------------------------------------------------------------------------

    def count_open_conflicts(self, scopes: Scopes) -> int:
        scope, params = scope_sql(scopes)
        return self._all(
            f"SELECT COUNT(*) FROM conflicts WHERE resolved_at IS NULL AND {scope}", params
        )[0][0]

    # -- Cakupan ------------------------------------------------------------------------------

    def coverage(
        self, scopes: Scopes, start: dt.datetime, end: dt.datetime
    ) -> list[ProgramCoverage]:
        if nothing(scopes):
            return []
        scope, params = scope_sql(scopes, "bp.kelurahan")
        rows = self._all(
            "SELECT bp.program, COUNT(*), TOTAL(bp.record_id IN"
            f" ({_VISITED_SINCE} AND visited_utc < ?))"
            f" FROM beneficiary_programs AS bp WHERE {scope}"
            " GROUP BY bp.program ORDER BY bp.program",
            [visit_time(start), visit_time(end), *params],
        )
        return [ProgramCoverage(program, count, int(visited)) for program, count, visited in rows]

    def unvisited_counts(self, scopes: Scopes, program: str, since: dt.datetime) -> UnvisitedCounts:
        if nothing(scopes):
            return UnvisitedCounts(0)
        scope, params = scope_sql(scopes, "bp.kelurahan")
        rows = self._all(
            "SELECT bp.kelurahan, COALESCE(bp.author, ''), COUNT(*)"
            " FROM beneficiary_programs AS bp WHERE bp.program = ?"
            f" AND {scope} AND bp.record_id NOT IN ({_VISITED_SINCE})"
            " GROUP BY bp.kelurahan, bp.author",
            [program, *params, visit_time(since)],
        )
        return unvisited_counts(rows)

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
            keyset, keys = f" AND ({group}, bp.name_key, bp.record_id) > (?, ?, ?)", list(after)
        rows = self._all(
            "SELECT bp.record_id, json_extract(b.data, '$.name'), json_extract(b.data, '$.nik'),"
            " bp.kelurahan, bp.author, (SELECT MAX(v.visited_utc)"
            "   FROM records AS v INDEXED BY records_beneficiary"
            "   WHERE json_extract(v.data, '$.beneficiary_id') = +bp.record_id"
            "   AND v.entity != 'beneficiary' AND v.entity = 'visit' AND v.deleted = 0),"
            f" bp.name_key, {group} FROM beneficiary_programs AS bp"
            " JOIN records AS b ON b.id = bp.record_id"
            f" WHERE bp.program = ? AND {scope}{keyset}"
            f" AND bp.record_id NOT IN ({_VISITED_SINCE})"
            f" ORDER BY {group}, bp.name_key, bp.record_id LIMIT ?",
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
        if entity == "visit":
            source, order = "records AS r INDEXED BY office_visits", "r.visited_utc, r.id"
        elif entity == "beneficiary":
            source, order = "records AS r INDEXED BY office_beneficiary_names", "r.name_key, r.id"
        elif entity == "device_request":
            source, order = "records AS r", "r.created_at, r.id"
        else:
            raise ValueError(f"unknown entity {entity!r}")
        join, join_params = _owner_join(
            scopes, "r.id" if entity == "beneficiary" else "r.beneficiary_id"
        )
        query = f"SELECT {_VIEW_COLUMNS} FROM {source} {join} WHERE {sql} ORDER BY {order}"
        return self._stream(query, [*join_params, *params])

    def _stream(self, query: str, params: Sequence[Any]) -> Generator[RecordView, None, None]:
        """Rows of `query` from one snapshot, on a connection of the export's own (a
        generator left half-read must not leave the thread's connection in a transaction)."""
        try:
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open {self._path} for an export: {exc}") from exc
        with closing(conn):
            try:
                conn.execute("PRAGMA query_only = ON")
                conn.execute("BEGIN")
                cursor = conn.execute(query, params)
                while rows := cursor.fetchmany(EXPORT_CHUNK):
                    for row in rows:
                        yield record_view(row)
            except sqlite3.Error as exc:
                raise StorageError(f"export read failed: {exc}") from exc
