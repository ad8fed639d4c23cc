"""A hub row as stored and as the code holds it, for both backends' SQL modules.

The same columns hold the same text on SQLite and PostgreSQL (the PostgreSQL schema keeps
SQLite's names and encodings: docs/postgresql.md), so packing field clocks, decoding a
record, a conflict, a user or a laptop are written once here and called by sqlite.py and
pg.py / pg_write.py alike.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from server.storage.base import ConflictRow, Device, RecordRow, User

__all__ = [
    "DEVICE_SELECT",
    "conflict_of",
    "device_of",
    "json_text",
    "live_nik",
    "pack_clocks",
    "record_of",
    "unpack_clocks",
    "user_of",
]

DEVICE_SELECT = (
    "SELECT d.device_id, d.name, d.enrolled_at, d.last_seen_at, d.last_sync_at, d.revoked_at,"
    " u.name, u.role, u.wilayah, u.password_hash, d.client_version, d.queue_size, d.reported_at"
    " FROM devices d JOIN users u ON u.name = d.user_name"
)


def user_of(name: str, role: str, wilayah: str, password_hash: str | None) -> User:
    return User(name, role, tuple(json.loads(wilayah)), password_hash)


def device_of(row: Sequence[Any]) -> Device:
    return Device(row[0], user_of(*row[6:10]), row[1], *row[2:6], *row[10:13])


def pack_clocks(clocks: dict[str, str], seqs: dict[str, int], seq: int) -> str:
    """Field clocks as stored: the commonest HLC once under "_", the others by field; the
    seq of each field's write likewise under "s", where the record's own seq is the default.

    A record made in one edit has one HLC and one seq for all its fields; spelling them out
    per field would double the size of every row.
    """
    if not clocks:
        return "{}"
    distinct = set(clocks.values())  # mostly one: a record made or last edited in one go
    common = distinct.pop() if len(distinct) == 1 else Counter(clocks.values()).most_common(1)[0][0]
    packed: dict[str, Any] = {name: hlc for name, hlc in clocks.items() if hlc != common}
    packed["_"] = common
    packed["*"] = sorted(clocks)  # the fields that have a clock at all
    odd = {name: n for name, n in seqs.items() if n != seq and name in clocks}
    if odd:
        packed["s"] = odd
    return orjson.dumps(packed).decode()


def unpack_clocks(text: str) -> tuple[dict[str, str], dict[str, int]]:
    """:returns: field clocks, and the seqs of fields written before the record's last write."""
    packed = orjson.loads(text)
    if not packed:
        return {}, {}
    common = packed.pop("_")
    names = packed.pop("*")
    odd = packed.pop("s", {})
    return {name: packed.get(name, common) for name in names}, odd


def json_text(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def conflict_of(row: Mapping[str, Any]) -> ConflictRow:
    return ConflictRow(
        row["record_id"],
        row["entity"],
        row["field"],
        row["kind"],
        orjson.loads(row["kept_value"]) if row["kept_value"] is not None else None,
        row["kept_hlc"],
        orjson.loads(row["lost_value"]) if row["lost_value"] is not None else None,
        row["lost_hlc"],
        row["lost_change"],
        row["lost_device"],
        row["lost_author"],
        row["created_at"],
        row["kelurahan"],
        row["seq"],
        row["kept_device"],
        row["kept_author"],
        row["other_record_id"],
        row["conflict_id"],
        row["resolved_at"],
        row["resolved_by"],
        row["resolved_seq"],
        orjson.loads(row["resolution"]) if row["resolution"] is not None else None,
    )


def record_of(row: Sequence[Any]) -> RecordRow:
    clocks, seqs = unpack_clocks(row[6])
    return RecordRow(
        row[0],
        row[1],
        row[2],
        row[3],
        bool(row[4]),
        orjson.loads(row[5]),
        clocks,
        row[7],
        row[8],
        seqs,
        row[9],
        row[10],
    )


def live_nik(record: RecordRow) -> str | None:
    if record.entity != "beneficiary" or record.deleted:
        return None
    nik = record.data.get("nik")
    return nik if isinstance(nik, str) else None
