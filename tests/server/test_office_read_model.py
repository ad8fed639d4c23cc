"""The SQLite read model of the office (migration 0007): filled from old data exactly as the
writer fills it, and read through covering indexes, never by decoding every record."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from schemas.migrations import apply_migrations
from server.storage import RecordRow
from server.storage.office import RecordFilter
from server.storage.read_columns import name_key, read_columns, utc_instant
from server.storage.sqlite import SQLiteStorage

MIGRATIONS = Path(__file__).resolve().parents[2] / "server" / "storage" / "migrations"
T = "2026-01-10T02:00:00.000Z"


@pytest.fixture
def hub_at_0006(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[sqlite3.Connection]:
    """A hub database migrated to 0006 only, as a district's hub was before this issue."""
    package = tmp_path / "packages" / "hub_before_0007"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for sql in sorted(MIGRATIONS.glob("000[1-6]_*.sql")):
        shutil.copy(sql, package / sql.name)
    monkeypatch.syspath_prepend(str(package.parent))
    conn = sqlite3.connect(tmp_path / "hub.sqlite3", isolation_level=None)
    assert len(apply_migrations(conn, "hub_before_0007")) == 6
    yield conn
    conn.close()
    sys.modules.pop("hub_before_0007", None)


def _insert(conn: sqlite3.Connection, rid: str, entity: str, seq: int, data: dict) -> None:
    conn.execute(
        "INSERT INTO records (id, entity, kelurahan, seq, deleted, data, clocks, hlc, nik,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, 0, ?, '{}', 'h', NULL, ?, ?)",
        (rid, entity, data["kelurahan"], seq, json.dumps(data), T, T),
    )


def _change(conn, change_id: str, rid: str, device: str, author: str, status: str) -> None:
    conn.execute(
        "INSERT INTO changes (change_id, device_id, author_id, entity, record_id, hlc, fields,"
        " received_at, receipt) VALUES (?, ?, ?, 'x', ?, 'h', '{}', ?, ?)",
        (change_id, device, author, rid, T, json.dumps({"status": status})),
    )


def test_migration_0007_fills_the_read_model_as_the_writer_would(hub_at_0006, tmp_path: Path):
    conn = hub_at_0006
    conn.execute("INSERT INTO users VALUES ('ani', 'pendamping', '[]', NULL, ?)", (T,))
    conn.execute(
        "INSERT INTO devices (device_id, user_name, name, token_hash, enrolled_at)"
        " VALUES ('laptop-1', 'ani', 'l', 'tok', ?)",
        (T,),
    )
    kel = "31.71.01.1001"
    records = {
        "b1": (
            "beneficiary",
            {"name": "Ibu SRI Wahyuni", "kelurahan": kel, "programs": ["KLJ", "PKH"]},
        ),
        "v1": (
            "visit",
            {
                "beneficiary_id": "b1",
                "visited_at": "2026-01-31T23:30:00+07:00",
                "purpose": "verifikasi",
                "kelurahan": kel,
            },
        ),
        "v2": (
            "visit",
            {
                "beneficiary_id": "b1",
                "visited_at": "2026-01-31T16:45:00Z",
                "purpose": "monitoring",
                "kelurahan": kel,
                "review": {"state": "dikembalikan", "reason": "foto"},
            },
        ),
        "r1": (
            "device_request",
            {
                "beneficiary_id": "b1",
                "status": "disetujui",
                "kelurahan": kel,
                "status_history": [
                    {"to": "diajukan", "at": "2026-01-01T00:00:00.000Z"},
                    {"to": "disetujui", "at": "2026-01-09T00:00:00.000Z"},
                ],
            },
        ),
        "r2": ("device_request", {"beneficiary_id": "b1", "status": "diajukan", "kelurahan": kel}),
    }
    for seq, (rid, (entity, data)) in enumerate(records.items(), 1):
        _insert(conn, rid, entity, seq, data)
    _change(conn, "c0", "v1", "laptop-1", "ani", "rejected")  # a refused first try
    _change(conn, "c1", "v1", "laptop-9", "someone", "applied")  # a device since removed
    _change(conn, "c2", "b1", "laptop-1", "claimed-name", "applied")
    _change(conn, "c3", "r1", "hub", "spv", "applied")
    _change(conn, "c4", "b1", "hub", "spv", "applied")  # a later write: not the author

    applied = apply_migrations(conn, "server.storage.migrations")
    assert applied[0] == "0007_office_read_model"  # then any later ones

    columns = (
        "visited_utc, purpose, review_state, beneficiary_id, request_status, status_since, name_key"
    )
    for rid, (entity, data) in records.items():
        stored = conn.execute(f"SELECT {columns} FROM records WHERE id = ?", (rid,)).fetchone()
        row = RecordRow(rid, entity, kel, 0, False, data, {}, T, T)
        assert tuple(stored) == tuple(read_columns(row)), rid
    authors = dict(conn.execute("SELECT id, author FROM records"))
    assert authors == {"b1": "ani", "v1": None, "v2": None, "r1": "spv", "r2": None}
    assert sorted(
        conn.execute("SELECT program, record_id, name_key FROM beneficiary_programs")
    ) == [("KLJ", "b1", "ibu sri wahyuni"), ("PKH", "b1", "ibu sri wahyuni")]
    # the writer's own instants, for values SQLite and Python both parse
    assert utc_instant("2026-01-31T23:30:00+07:00") == "2026-01-31T16:30:00Z"
    assert name_key("ÉLISE Ani") == "Élise ani"  # ASCII only, as SQLite's lower()


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[SQLiteStorage]:
    backend = SQLiteStorage(tmp_path / "hub.sqlite3")
    backend.migrate()
    yield backend
    backend.close()


def _plan(storage: SQLiteStorage, sql: str, params) -> str:
    rows = storage._conn().execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
    return " | ".join(row[-1] for row in rows)


@pytest.mark.parametrize(
    "where",
    [
        RecordFilter(),
        RecordFilter(author="ani", review_state="menunggu", purpose="monitoring"),
        RecordFilter(wilayah=("31.71.01",), review_state="diterima"),
    ],
)
def test_counting_visits_reads_the_covering_index_only(storage: SQLiteStorage, where):
    """The page's count never reads a record row (and so never its JSON)."""
    seen: list[str] = []
    conn = storage._conn()
    conn.set_trace_callback(seen.append)
    try:
        storage.office.count_visits(("31.71",), where)
    finally:
        conn.set_trace_callback(None)
    plan = _plan(storage, seen[-1], [])  # the trace shows the values bound
    assert "COVERING INDEX office_visits" in plan, plan


def test_ringkasan_s_request_counts_and_coverage_read_indexes_only(storage: SQLiteStorage):
    seen: list[str] = []
    conn = storage._conn()
    conn.set_trace_callback(seen.append)
    try:
        storage.office.requests_by_status(("31.71",))
        storage.office.unvisited_counts(("31.71",), "KLJ", dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    finally:
        conn.set_trace_callback(None)
    requests, unvisited = (_plan(storage, sql, []) for sql in seen[-2:])
    assert "COVERING INDEX office_requests" in requests, requests
    assert "COVERING INDEX office_visits" in unvisited, unvisited
    assert "SCAN" not in unvisited, unvisited


def test_the_hub_reads_a_visit_time_with_the_laptops_one_conversion():
    """The fast path and its edges are held in tests/schemas/test_name_keys_and_coverage.py;
    the hub's read model uses that very function (one rule for both sides)."""
    from schemas import coverage

    assert utc_instant is coverage.utc_instant
