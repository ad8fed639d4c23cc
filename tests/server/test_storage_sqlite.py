"""The SQLite backend of the hub, run through the storage contract suite."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytest.register_assert_rewrite(
    "server.storage.testing",
    "server.storage.limits_testing",
    "server.storage.office_testing",
    "server.storage.jobs_testing",
    "server.storage.verification_testing",
)

from server.storage.sqlite import WAL_AUTOCHECKPOINT_PAGES, SQLiteStorage  # noqa: E402
from server.storage.sqlite_limits import SQLiteLimitStore  # noqa: E402
from server.storage.testing import StorageContract  # noqa: E402


class TestSQLiteStorage(StorageContract):
    @pytest.fixture
    def storage(self, tmp_path: Path) -> Iterator[SQLiteStorage]:
        backend = SQLiteStorage(tmp_path / "hub.sqlite3")
        backend.migrate()
        yield backend
        backend.close()

    @pytest.fixture
    def limits_opener(self, tmp_path: Path) -> Callable[[], SQLiteLimitStore]:
        return functools.partial(SQLiteLimitStore, tmp_path / "limits.sqlite3")

    def test_the_database_file_is_in_wal_mode(self, storage: SQLiteStorage, tmp_path: Path):
        storage.stats()
        assert (tmp_path / "hub.sqlite3-wal").exists()

    def test_acknowledged_commits_are_durable_and_checkpoints_are_batched(
        self, storage: SQLiteStorage
    ):
        conn = storage._conn()
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        pages = conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        assert pages == WAL_AUTOCHECKPOINT_PAGES > 1000  # above SQLite's default


def test_a_damaged_limits_file_is_made_anew_when_the_hub_starts(tmp_path: Path):
    """limits.sqlite3 is written with synchronous=OFF: a power cut may damage it, and
    nothing in it is worth keeping, so the hub's start replaces it instead of failing."""
    (tmp_path / "limits.sqlite3").write_bytes(b"not a database, half written" * 200)
    storage = SQLiteStorage(tmp_path / "hub.sqlite3")
    try:
        storage.migrate()
        assert storage.limits.take_token("dev", 1.0, 1, 1000.0) == 0.0
        assert storage.limits.take_token("dev", 1.0, 1, 1000.0) > 0
    finally:
        storage.close()
