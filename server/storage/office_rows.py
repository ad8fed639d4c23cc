"""What the office's reads share across backends: the filters as SQL with the backend's
placeholder, the times they compare, and the shaping of result rows into items.

`sqlite_office.py` and `pg_office.py` (and the two verification stores) write their own
queries, which differ in their dialect (index hints, JSON access, placeholders), but each
query returns its columns in the order the functions here read, so a filter or an item
means one thing on every backend.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson

from schemas.coverage import instant_text
from server.storage.office import (
    BeneficiaryItem,
    HistoryEntry,
    RecordFilter,
    RecordView,
    RequestItem,
    Scopes,
    UnvisitedCounts,
    UnvisitedItem,
    VisitItem,
)
from server.storage.read_columns import REVIEW_WAITING
from server.storage.verification import MonthClose

__all__ = [
    "EXPORT_CHUNK",
    "EXPORT_ENTITIES",
    "GROUPS",
    "ScopeSql",
    "beneficiary_item",
    "close_of",
    "created_time",
    "history_entries",
    "like_pattern",
    "nothing",
    "record_view",
    "request_item",
    "unvisited_counts",
    "unvisited_item",
    "verification_time",
    "visit_item",
    "visit_time",
    "where_sql",
    "wilayah_text",
]

#: rows an export fetches at a time
EXPORT_CHUNK = 1000
#: the record kinds an export reads
EXPORT_ENTITIES = ("visit", "beneficiary", "device_request")
#: what Cakupan's list is grouped by (OfficeReads.unvisited `by`), as SQL
GROUPS = {"kelurahan": "bp.kelurahan", "author": "COALESCE(bp.author, '')"}

#: a backend's wilayah rule: (prefixes, column) -> (SQL, parameters)
ScopeSql = Callable[[Scopes, str], tuple[str, list[str]]]


def visit_time(moment: dt.datetime) -> str:
    """A moment as a visit's `visited_utc` holds it (to the second)."""
    return instant_text(moment)


def created_time(moment: dt.datetime) -> str:
    """A moment as `created_at` holds it (UTC, to the millisecond)."""
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def verification_time(moment: dt.datetime) -> str:
    """A month's bound as the verification stores compare it with `visited_utc`."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def where_sql(
    entity: str,
    scopes: Scopes,
    where: RecordFilter,
    alias: str,
    *,
    mark: str,
    scope_sql: ScopeSql,
) -> tuple[str, list[Any]]:
    """The WHERE of a list over live records of `entity` (alias `alias`) in scope, with
    `mark` as the placeholder and `scope_sql` as the wilayah rule."""
    a = alias
    parts = [f"{a}.entity = '{entity}'", f"{a}.deleted = 0"]
    params: list[Any] = []
    if entity == "visit":
        column, fmt = f"{a}.visited_utc", visit_time
    else:
        column, fmt = f"{a}.created_at", created_time
    if where.start is not None:
        parts.append(f"{column} >= {mark}")
        params.append(fmt(where.start))
    if where.end is not None:
        parts.append(f"{column} < {mark}")
        params.append(fmt(where.end))
    for prefixes in (scopes, where.wilayah):
        if prefixes is not None:
            sql, values = scope_sql(prefixes, f"{a}.kelurahan")
            parts.append(sql)
            params += values
    for name, value in (
        ("author", where.author),
        ("purpose", where.purpose),
        ("review_state", where.review_state),
        ("request_status", where.status),
    ):
        if value is not None:
            parts.append(f"{a}.{name} = {mark}")
            params.append(value)
    if where.program is not None:
        owner = f"{a}.id" if entity == "beneficiary" else f"{a}.beneficiary_id"
        parts.append(
            f"{owner} IN (SELECT record_id FROM beneficiary_programs WHERE program = {mark})"
        )
        params.append(where.program)
    return " AND ".join(parts), params


def nothing(scopes: Scopes, where: RecordFilter | None = None) -> bool:
    """No wilayah at all (an empty scope): nothing to read. Asked before the query, since
    SQLite cannot plan ``WHERE 0`` with INDEXED BY."""
    empty = scopes is not None and not scopes
    return empty or (where is not None and where.wilayah is not None and not where.wilayah)


def like_pattern(key: str) -> str:
    """A LIKE pattern (escape character a backslash) matching `key` anywhere."""
    escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def visit_item(row: Sequence[Any]) -> VisitItem:
    """id, kelurahan, visited_at, purpose, author, review_state, beneficiary_id, its name,
    its NIK, visited_utc, seq, the findings' start."""
    return VisitItem(
        id=row[0],
        kelurahan=row[1],
        visited_at=row[2],
        purpose=row[3],
        author=row[4],
        review_state=row[5] or REVIEW_WAITING,
        beneficiary_id=row[6],
        beneficiary_name=row[7],
        beneficiary_nik=row[8],
        key=(row[9] or "", row[0]),
        seq=row[10],
        findings=row[11],
    )


def beneficiary_item(row: Sequence[Any]) -> BeneficiaryItem:
    """id, kelurahan, data (JSON text), author."""
    record_id, kelurahan, data_json, author = row
    data = orjson.loads(data_json)
    return BeneficiaryItem(
        record_id,
        str(data.get("name") or ""),
        data.get("nik"),
        kelurahan,
        data.get("birth_date"),
        list(data.get("programs") or []),
        author,
    )


def record_view(row: Sequence[Any]) -> RecordView:
    """id, entity, kelurahan, author, created_at, updated_at, data (JSON text), the
    beneficiary's name and NIK."""
    return RecordView(
        row[0], row[1], row[2], row[3], row[4], row[5], orjson.loads(row[6]), row[7], row[8]
    )


def history_entries(rows: Iterable[Sequence[Any]]) -> list[HistoryEntry]:
    """change_id, received_at, device_id, device name, user, fields (JSON text), receipt
    status; the refused ones left out."""
    return [
        HistoryEntry(
            change_id=change_id,
            received_at=received_at,
            device_id=device_id,
            device_name=device_name,
            user=user,
            fields=orjson.loads(fields),
            status=status,
        )
        for change_id, received_at, device_id, device_name, user, fields, status in rows
        if status != "rejected"
    ]


def request_item(row: Sequence[Any]) -> RequestItem:
    """id, kelurahan, status, status_since, device_type, beneficiary_id, its name, its NIK,
    author, created_at."""
    return RequestItem(
        id=row[0],
        kelurahan=row[1],
        status=row[2],
        since=row[3],
        device_type=row[4],
        beneficiary_id=row[5],
        beneficiary_name=row[6],
        beneficiary_nik=row[7],
        author=row[8],
        created_at=row[9],
        key=(row[3], row[0]),
    )


def unvisited_counts(rows: Iterable[Sequence[Any]]) -> UnvisitedCounts:
    """kelurahan, author ('' when unknown), count."""
    by_kelurahan: dict[str, int] = {}
    by_author: dict[str, int] = {}
    for kelurahan, author, count in rows:
        by_kelurahan[kelurahan] = by_kelurahan.get(kelurahan, 0) + count
        by_author[author] = by_author.get(author, 0) + count
    return UnvisitedCounts(sum(by_kelurahan.values()), by_kelurahan, by_author)


def unvisited_item(row: Sequence[Any]) -> UnvisitedItem:
    """id, name, NIK, kelurahan, author, the latest visit, name_key, the group."""
    return UnvisitedItem(
        id=row[0],
        name=row[1] or "",
        nik=row[2],
        kelurahan=row[3],
        author=row[4],
        last_visit=row[5],
        key=(row[7], row[6], row[0]),
    )


def wilayah_text(wilayah: tuple[str, ...] | None) -> str:
    """A close's wilayah as `verification_closes.wilayah` holds it ('' is every wilayah)."""
    return "" if wilayah is None else " ".join(wilayah)


def close_of(row: Sequence[Any]) -> MonthClose:
    """close_id, program, month, wilayah, closed_by, closed_at, counts (JSON text)."""
    close_id, program, month, wilayah, closed_by, closed_at, counts = row
    return MonthClose(
        close_id,
        program,
        month,
        tuple(wilayah.split()) if wilayah else None,
        closed_by,
        closed_at,
        orjson.loads(counts),
    )
