"""The SQLite backend of the hub, run through the storage contract suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.register_assert_rewrite("server.storage.testing")

from server.storage.sqlite import SQLiteStorage  # noqa: E402
from server.storage.testing import StorageContract  # noqa: E402


class TestSQLiteStorage(StorageContract):
    @pytest.fixture
    def storage(self, tmp_path: Path) -> Iterator[SQLiteStorage]:
        backend = SQLiteStorage(tmp_path / "hub.sqlite3")
        backend.migrate()
        yield backend
        backend.close()

    def test_the_database_file_is_in_wal_mode(self, storage: SQLiteStorage, tmp_path: Path):
        storage.stats()
        assert (tmp_path / "hub.sqlite3-wal").exists()
