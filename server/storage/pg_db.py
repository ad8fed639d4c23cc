"""One PostgreSQL database for the hub: a connection pool and the four ways to use it.

Every PostgreSQL module of the hub reaches the database through :class:`PgDatabase`, so
the rules live in one place (docs/postgresql.md):

- :meth:`PgDatabase.write`: a transaction that first takes the hub's ONE write lock
  (``pg_advisory_xact_lock`` on :data:`WRITE_LOCK_KEY`), held until COMMIT. Every process
  on every machine takes the same lock, so writes are serial hub-wide, as SQLite's
  ``BEGIN IMMEDIATE`` makes them in one file: seq = MAX(seq)+1, receipts read under the
  lock, the audit chain and the hub clock moved by one writer at a time.
- :meth:`PgDatabase.snapshot`: a ``REPEATABLE READ READ ONLY`` transaction, for reads
  that must see one state (a pull page: records and scope exits).
- :meth:`PgDatabase.transaction`: a plain transaction without the write lock, for the
  hub-wide limits, leases and job runs, which must never queue behind a push.
- :meth:`PgDatabase.read`: an autocommit connection, for any other read.

A thread inside one of these gets the SAME connection from a nested call (a read inside a
write sees the write's rows, as with SQLite's connection per thread); a nested write or
transaction is a savepoint of the outer one (a nested write inside a plain transaction
takes the write lock on it).

Exceptions (from :mod:`server.storage.base`)::

    StorageError        any psycopg or pool error (kept as __cause__); rolled back
     └── WriterBusy     the write lock was not free within `wait_s`
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

import psycopg
import psycopg_pool

from server.storage.base import StorageError, WriterBusy, WriterWait
from server.storage.urls import hide_secrets, shown_url

__all__ = ["MIGRATION_LOCK_KEY", "WRITE_LOCK_KEY", "PgDatabase", "redact"]

#: The hub's one write lock (an advisory lock key: b"pendhubw" as a signed 64-bit int).
WRITE_LOCK_KEY = int.from_bytes(b"pendhubw", "big", signed=True)
#: Held while migrations run, so two processes starting at once migrate once.
MIGRATION_LOCK_KEY = int.from_bytes(b"pendhubm", "big", signed=True)
#: How long opening the storage waits for its first connection before failing, seconds.
CONNECT_TIMEOUT_S = 10.0
#: How long a caller waits for a free connection of the pool, seconds. Short: while
#: PostgreSQL is down every request waits this long for its 503, and a hub process has
#: fewer request threads than pooled connections, so a healthy pool never makes one wait.
POOL_TIMEOUT_S = 5.0


def redact(url: str) -> str:
    """`url` without its password, for messages and logs (one rule: urls.shown_url)."""
    return shown_url(url)


@dataclass(slots=True)
class _Held:
    """What this thread holds: a connection, in which kind of transaction, how deep."""

    conn: psycopg.Connection
    kind: str  # "write" | "transaction" | "snapshot"
    locked: bool
    depth: int = 0


class PgDatabase:
    """One PostgreSQL database: a psycopg_pool.ConnectionPool and the ways to use it.

    :param url: a libpq URL or conninfo (``postgresql://user@host:port/dbname``).
    :param max_size: the pool's most connections (each hub process has its own pool).
    :raises StorageError: no connection could be made within :data:`CONNECT_TIMEOUT_S`.
    """

    def __init__(self, url: str, *, max_size: int = 10) -> None:
        self.url = url
        self._max_size = max_size
        self._local = threading.local()
        self._pool: psycopg_pool.ConnectionPool | None = None
        self._pool_lock = threading.Lock()
        with self._pool_lock:
            self._pool = self._open_pool()

    def _open_pool(self) -> psycopg_pool.ConnectionPool:
        """A new pool, once one plain connection has shown that the database answers."""
        try:  # a wrong URL or a server down fails here, at once and clearly
            psycopg.connect(self.url, connect_timeout=int(CONNECT_TIMEOUT_S)).close()
        except psycopg.Error as exc:
            raise StorageError(
                f"cannot connect to PostgreSQL at {redact(self.url)}:"
                f" {hide_secrets(str(exc), self.url)}"
            ) from exc
        pool = psycopg_pool.ConnectionPool(
            self.url,
            min_size=1,
            max_size=self._max_size,
            kwargs={"autocommit": True},
            # A connection is tried (an empty query) as it leaves the pool: after a
            # PostgreSQL restart or failover a stale one is replaced there, instead of
            # failing one request each.
            check=psycopg_pool.ConnectionPool.check_connection,
            timeout=POOL_TIMEOUT_S,
            name="pendamping-hub",
            open=True,
        )
        try:
            pool.wait(timeout=CONNECT_TIMEOUT_S)
        except psycopg_pool.PoolTimeout as exc:
            pool.close()
            raise StorageError(
                f"cannot connect to PostgreSQL at {redact(self.url)}:"
                f" {hide_secrets(str(exc), self.url)}"
            ) from exc
        return pool

    def _get_pool(self) -> psycopg_pool.ConnectionPool:
        """The open pool; a closed database opens a new one on first use (as SQLite's
        connections reopen), e.g. in a gunicorn worker after the parent closed it."""
        pool = self._pool
        if pool is None:
            with self._pool_lock:
                if self._pool is None:
                    self._pool = self._open_pool()
                pool = self._pool
        return pool

    @contextmanager
    def bounded(self, seconds: float) -> Iterator[WriterWait]:
        """Writes this thread begins inside the block wait at most `seconds` (from entering
        the block) for the write lock, unless they name their own `wait_s`
        (:meth:`HubStorage.waiting_for_writer`, for every facet's writes alike)."""
        wait = WriterWait()
        outer = getattr(self._local, "wait", None)
        self._local.wait = (time.monotonic() + seconds, wait)
        try:
            yield wait
        finally:
            self._local.wait = outer

    # -- the four ways in -----------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[psycopg.Connection]:
        """An autocommit connection (this thread's transaction's, inside one)."""
        held: _Held | None = getattr(self._local, "held", None)
        if held is not None:
            yield held.conn
            return
        try:
            with self._get_pool().connection() as conn:
                yield conn
        except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
            raise StorageError(f"read failed: {exc}") from exc

    @contextmanager
    def snapshot(self) -> Iterator[psycopg.Connection]:
        """One ``REPEATABLE READ READ ONLY`` transaction: every statement sees one state."""
        with self._transaction("snapshot", lock=False, wait_s=None) as conn:
            yield conn

    @contextmanager
    def write(self, wait_s: float | None = None) -> Iterator[psycopg.Connection]:
        """A transaction holding the hub's write lock to COMMIT; rolled back on any error.

        :param wait_s: the longest wait for the lock (None: as long as it takes).
        :raises WriterBusy: the lock was not free within `wait_s`; nothing was written.
        :raises StorageError: a psycopg error in the block or at COMMIT (rolled back).
        """
        with self._transaction("write", lock=True, wait_s=wait_s) as conn:
            yield conn

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection]:
        """A plain read-write transaction WITHOUT the write lock; rolled back on any error."""
        with self._transaction("transaction", lock=False, wait_s=None) as conn:
            yield conn

    def close(self) -> None:
        """Close every connection of the pool (at shutdown, or before gunicorn forks); a
        later use opens a new pool."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()

    # -- the machinery --------------------------------------------------------------------

    @contextmanager
    def _transaction(
        self, kind: str, lock: bool, wait_s: float | None
    ) -> Iterator[psycopg.Connection]:
        held: _Held | None = getattr(self._local, "held", None)
        if held is not None:
            with self._nested(held, kind, lock, wait_s):
                yield held.conn
            return
        bound = getattr(self._local, "wait", None) if lock else None
        if lock and wait_s is None and bound is not None:
            wait_s = max(0.0, bound[0] - time.monotonic())
        pool = self._get_pool()
        try:
            pool_wait = POOL_TIMEOUT_S if wait_s is None else max(wait_s, 0.001)
            conn = pool.getconn(timeout=pool_wait)
        except psycopg_pool.PoolTimeout as exc:
            if lock and wait_s is not None:
                raise WriterBusy(f"no database connection free within {wait_s:g} s") from exc
            raise StorageError(f"no database connection free: {exc}") from exc
        except psycopg.Error as exc:
            raise StorageError(f"cannot reach the database: {exc}") from exc
        try:
            self._begin(conn, kind, lock, wait_s)
            if bound is not None and bound[1].acquired_at is None:
                bound[1].acquired_at = time.monotonic()
            self._local.held = _Held(conn, kind, lock)
            try:
                yield conn
            except psycopg.Error as exc:
                _rollback(conn)
                raise StorageError(f"{kind} failed and was rolled back: {exc}") from exc
            except BaseException:
                _rollback(conn)
                raise
            finally:
                self._local.held = None
            try:
                conn.execute("COMMIT")
            except psycopg.Error as exc:
                _rollback(conn)
                raise StorageError(f"commit failed: {exc}") from exc
        finally:
            pool.putconn(conn)

    @staticmethod
    def _begin(conn: psycopg.Connection, kind: str, lock: bool, wait_s: float | None) -> None:
        """BEGIN the transaction of `kind` on an idle connection, taking the lock if asked."""
        try:
            if kind == "snapshot":
                conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            else:
                conn.execute("BEGIN")
            if lock:
                _take_write_lock(conn, wait_s)
        except WriterBusy:
            _rollback(conn)
            raise
        except psycopg.Error as exc:
            _rollback(conn)
            raise StorageError(f"cannot start a {kind}: {exc}") from exc

    @contextmanager
    def _nested(self, held: _Held, kind: str, lock: bool, wait_s: float | None) -> Iterator[None]:
        """A transaction inside this thread's: a savepoint of it (none in a snapshot)."""
        if held.kind == "snapshot":
            if kind != "snapshot":
                raise StorageError(f"a {kind} cannot begin inside a read-only snapshot")
            yield
            return
        if kind == "snapshot":  # reads inside a transaction: that transaction's view
            yield
            return
        conn = held.conn
        held.depth += 1
        name = f"pg_nested_{held.depth}"
        took_lock = False
        try:
            conn.execute(f"SAVEPOINT {name}")
            if lock and not held.locked:
                bound = getattr(self._local, "wait", None)
                if wait_s is None and bound is not None:
                    wait_s = max(0.0, bound[0] - time.monotonic())
                _take_write_lock(conn, wait_s)
                held.locked = took_lock = True
                if bound is not None and bound[1].acquired_at is None:
                    bound[1].acquired_at = time.monotonic()
        except BaseException as exc:
            held.depth -= 1
            with suppress(psycopg.Error):
                conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
            if isinstance(exc, psycopg.Error):
                raise StorageError(f"cannot start a nested {kind}: {exc}") from exc
            raise
        try:
            yield
        except BaseException as exc:
            with suppress(psycopg.Error):  # an aborted outer transaction rolls back itself
                conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
            if took_lock:  # rolling back to the savepoint released the lock taken after it
                held.locked = False
            if isinstance(exc, psycopg.Error):
                raise StorageError(f"{kind} failed and was rolled back: {exc}") from exc
            raise
        else:
            conn.execute(f"RELEASE SAVEPOINT {name}")
        finally:
            held.depth -= 1


def _take_write_lock(conn: psycopg.Connection, wait_s: float | None) -> None:
    """Take the hub's write lock in the open transaction, waiting at most `wait_s`.

    PostgreSQL wakes a waiter as soon as the holder commits, whichever process it is, so
    no polling is needed; `lock_timeout` bounds the wait and is reset once the lock is
    held so that it bounds nothing else in the transaction.
    """
    if wait_s is None:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
        return
    ms = max(1, int(wait_s * 1000))
    try:
        conn.execute(f"SET LOCAL lock_timeout = {ms}")
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
        conn.execute("SET LOCAL lock_timeout = 0")
    except psycopg.errors.LockNotAvailable as exc:
        raise WriterBusy(f"write lock not free within {wait_s:g} s") from exc


def _rollback(conn: psycopg.Connection) -> None:
    """Roll back whatever is open on `conn`; a broken connection is left to the pool."""
    with suppress(psycopg.Error):
        conn.execute("ROLLBACK")
