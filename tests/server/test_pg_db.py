"""PgDatabase (server/storage/pg_db.py): the write lock, snapshots and nesting, on a real
PostgreSQL server."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from server.storage.base import StorageError, WriterBusy
from server.storage.pg_db import PgDatabase


@pytest.fixture
def db(pg_url: str) -> Iterator[PgDatabase]:
    database = PgDatabase(pg_url, max_size=4)
    with database.transaction() as conn:
        conn.execute("CREATE TABLE notes (n INTEGER PRIMARY KEY)")
    yield database
    database.close()


@pytest.fixture
def other(pg_url: str) -> Iterator[PgDatabase]:
    """Another process's handle on the same database: its own pool."""
    database = PgDatabase(pg_url, max_size=2)
    yield database
    database.close()


def _notes(db: PgDatabase) -> list[int]:
    with db.read() as conn:
        return [row[0] for row in conn.execute("SELECT n FROM notes ORDER BY n")]


class _Holding:
    """Hold the write lock of `db` in a thread until released."""

    def __init__(self, db: PgDatabase) -> None:
        self.held = threading.Event()
        self.release = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(db,))

    def _run(self, db: PgDatabase) -> None:
        with db.write():
            self.held.set()
            self.release.wait(10)

    def __enter__(self) -> _Holding:
        self.thread.start()
        assert self.held.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.thread.join()


def test_a_read_inside_a_write_sees_the_writes_own_rows(db: PgDatabase):
    with db.write() as conn:
        conn.execute("INSERT INTO notes VALUES (1)")
        assert _notes(db) == [1]
        with db.snapshot() as inner:
            assert inner is conn
    assert _notes(db) == [1]


def test_a_nested_write_that_raises_undoes_only_its_own_part(db: PgDatabase):
    with db.write() as conn:
        conn.execute("INSERT INTO notes VALUES (1)")
        with pytest.raises(KeyError), db.write() as inner:
            inner.execute("INSERT INTO notes VALUES (2)")
            raise KeyError
        with pytest.raises(StorageError), db.transaction() as inner:
            inner.execute("INSERT INTO notes VALUES (1)")  # taken: the driver's error
        conn.execute("INSERT INTO notes VALUES (3)")
    assert _notes(db) == [1, 3]


def test_a_failed_write_leaves_nothing_and_the_database_usable(db: PgDatabase):
    with pytest.raises(StorageError) as raised, db.write() as conn:
        conn.execute("INSERT INTO notes VALUES (1)")
        conn.execute("INSERT INTO notes VALUES (1)")
    assert raised.value.__cause__ is not None
    assert _notes(db) == []
    with db.write() as conn:
        conn.execute("INSERT INTO notes VALUES (1)")
    assert _notes(db) == [1]


def test_a_write_waits_for_another_processs_write_and_gives_up_at_its_bound(
    db: PgDatabase, other: PgDatabase
):
    with _Holding(other):
        with pytest.raises(WriterBusy), db.write(wait_s=0.1) as conn:
            conn.execute("INSERT INTO notes VALUES (1)")
        with pytest.raises(WriterBusy), db.bounded(0.1) as wait, db.write() as conn:
            conn.execute("INSERT INTO notes VALUES (2)")
        assert wait.acquired_at is None
    with db.bounded(5) as wait, db.write() as conn:
        conn.execute("INSERT INTO notes VALUES (3)")
    assert wait.acquired_at is not None
    assert _notes(db) == [3]


def test_a_plain_transaction_does_not_wait_for_the_write_lock(db: PgDatabase, other: PgDatabase):
    with _Holding(other), db.transaction() as conn:
        conn.execute("INSERT INTO notes VALUES (1)")
    assert _notes(db) == [1]


def test_a_write_begun_inside_a_plain_transaction_takes_the_lock(db: PgDatabase, other: PgDatabase):
    with _Holding(other), db.transaction() as conn:
        conn.execute("INSERT INTO notes VALUES (1)")
        with pytest.raises(WriterBusy), db.write(wait_s=0.1) as inner:
            inner.execute("INSERT INTO notes VALUES (2)")
        conn.execute("INSERT INTO notes VALUES (3)")
    assert _notes(db) == [1, 3]


def test_a_snapshot_sees_one_state_and_writes_nothing(db: PgDatabase, other: PgDatabase):
    with db.snapshot() as conn:
        assert conn.execute("SELECT COUNT(*) FROM notes").fetchone() == (0,)
        with other.write() as writer:
            writer.execute("INSERT INTO notes VALUES (1)")
        assert conn.execute("SELECT COUNT(*) FROM notes").fetchone() == (0,)
    assert _notes(db) == [1]
    with pytest.raises(StorageError), db.snapshot() as conn:
        conn.execute("INSERT INTO notes VALUES (2)")
    with pytest.raises(StorageError, match="read-only snapshot"), db.snapshot(), db.write():
        pass


def test_a_closed_database_opens_a_new_pool_on_use(db: PgDatabase):
    db.close()
    db.close()
    with db.write() as conn:
        conn.execute("INSERT INTO notes VALUES (1)")
    assert _notes(db) == [1]


def test_connections_the_server_ended_are_replaced_not_failed(db: PgDatabase, other: PgDatabase):
    """After a PostgreSQL restart or failover every pooled connection is dead; the pool tries
    each one as it leaves, so the next read and write work instead of failing once each."""
    with db.write() as conn:
        conn.execute("INSERT INTO notes VALUES (1)")
    with other.read() as conn:
        ended = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    assert ended is not None and ended[0] >= 1
    assert _notes(db) == [1]
    with db.write() as conn:
        conn.execute("INSERT INTO notes VALUES (2)")
    assert _notes(db) == [1, 2]


def test_a_nested_write_rolled_back_leaves_the_next_one_to_take_the_lock_again(
    db: PgDatabase,
):
    """A write nested in a plain transaction takes the lock inside its savepoint; when it
    fails, the savepoint's rollback releases the lock, so the next nested write must take
    it again rather than believe it still held."""

    def write_lock_held(conn) -> bool:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
        ).fetchone()
        return bool(row and row[0])

    with db.transaction() as conn:
        with pytest.raises(RuntimeError), db.write():
            assert write_lock_held(conn)
            raise RuntimeError("the body failed")
        assert not write_lock_held(conn)
        with db.write():
            assert write_lock_held(conn)
