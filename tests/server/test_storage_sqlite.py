"""The SQLite backend of the hub, run through the storage contract suite."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytest.register_assert_rewrite("server.storage.testing", "server.storage.limits_testing")

from server.storage.sqlite import SQLiteStorage  # noqa: E402
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
