"""The SQLite :class:`~server.storage.limits.LimitStore`: a small file of its own.

`DATA_DIR/limits.sqlite3`, beside the hub's database rather than inside it, so that a rate
limit checked on every call never waits behind a push holding the main file's write lock.
WAL, and ``synchronous=OFF``: the state is ephemeral (a lost bucket refills, a lost ticket
was a push that is retried), so no call pays for an fsync. Every change is one short
``BEGIN IMMEDIATE`` transaction, atomic across the hub's processes. A file whose layout
is not this module's is emptied and rebuilt, never migrated: nothing in it is worth
keeping. For the same reason a file a power cut left damaged (possible with
``synchronous=OFF``) is deleted and made anew by :meth:`SQLiteLimitStore.repair`, which the
hub's start runs (`SQLiteStorage.migrate`, before any worker is forked).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from schemas.migrations import ensure_wal
from server.storage.base import StorageError
from server.storage.limits import LimitStore, QueuePlace
from server.storage.sqlite_threads import ThreadConnections

__all__ = ["SQLiteLimitStore"]

#: the layout's version, kept in PRAGMA user_version; another one is dropped and rebuilt
_VERSION = 2
_TABLES = ("buckets", "failures", "holds", "tickets", "pace", "leases")
_SCHEMA = """
CREATE TABLE buckets (key TEXT PRIMARY KEY, tokens REAL NOT NULL, at REAL NOT NULL,
                      full_at REAL NOT NULL) WITHOUT ROWID;
CREATE INDEX buckets_full ON buckets (full_at);
CREATE TABLE failures (key TEXT NOT NULL, at REAL NOT NULL, expires_at REAL NOT NULL);
CREATE INDEX failures_key ON failures (key, at);
CREATE INDEX failures_expiry ON failures (expires_at);
CREATE TABLE holds (key TEXT PRIMARY KEY, until REAL NOT NULL) WITHOUT ROWID;
CREATE INDEX holds_until ON holds (until);
CREATE TABLE tickets (ticket INTEGER PRIMARY KEY AUTOINCREMENT, cost INTEGER NOT NULL,
                      expires_at REAL NOT NULL);
CREATE INDEX tickets_expiry ON tickets (expires_at);
CREATE TABLE pace (name TEXT PRIMARY KEY, value REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE leases (name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at REAL NOT NULL)
    WITHOUT ROWID;
"""


class SQLiteLimitStore(LimitStore):
    """Limits in one SQLite file, shared by every process that opens it.

    :param path: the file (made on first use); its folder must exist.
    :param busy_timeout_ms: how long a change waits for another process's; the
        transactions are microseconds long, so this is only ever reached when stuck.
    """

    def __init__(self, path: str | Path, busy_timeout_ms: int = 5_000) -> None:
        self.path = Path(path)
        self._busy_timeout_ms = busy_timeout_ms
        self._connections = ThreadConnections(self.path, self._setup, "the limits file")

    # -- connections ----------------------------------------------------------------------

    def _setup(self, conn: sqlite3.Connection) -> None:
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
        ensure_wal(conn)
        conn.execute("PRAGMA synchronous = OFF")  # ephemeral: see the module's doc
        self._ensure_layout(conn)

    def _conn(self) -> sqlite3.Connection:
        return self._connections.get()

    @staticmethod
    def _ensure_layout(conn: sqlite3.Connection) -> None:
        if conn.execute("PRAGMA user_version").fetchone()[0] == _VERSION:
            return
        conn.execute("BEGIN IMMEDIATE")  # two processes opening it at once build it once
        try:
            if conn.execute("PRAGMA user_version").fetchone()[0] != _VERSION:
                for table in _TABLES:
                    conn.execute(f"DROP TABLE IF EXISTS {table}")
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    @contextmanager
    def _atomic(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StorageError(f"limits file busy: {exc}") from exc
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def repair(self) -> bool:
        """Delete the file if SQLite finds it damaged (it is rebuilt on next use).

        Run it while no other process uses the file (at the hub's start).
        :returns: whether it was deleted.
        """
        try:
            conn = sqlite3.connect(self.path, isolation_level=None)
            try:
                ok = conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
            finally:
                conn.close()
        except sqlite3.DatabaseError:
            ok = False
        if ok:
            return False
        self.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        return True

    def close(self) -> None:
        self._connections.close()

    # -- token buckets ------------------------------------------------------------------

    def take_token(self, key: str, rate: float, burst: float, now: float) -> float:
        with self._atomic() as conn:
            conn.execute("DELETE FROM buckets WHERE full_at <= ?", (now,))  # as if never seen
            row = conn.execute("SELECT tokens, at FROM buckets WHERE key = ?", (key,)).fetchone()
            tokens = burst if row is None else min(burst, row[0] + max(0.0, now - row[1]) * rate)
            if tokens < 1.0:
                return (1.0 - tokens) / rate if rate > 0 else float("inf")
            tokens -= 1.0
            full_at = now + (burst - tokens) / rate if rate > 0 else float("inf")
            conn.execute(
                "INSERT OR REPLACE INTO buckets (key, tokens, at, full_at) VALUES (?, ?, ?, ?)",
                (key, tokens, now, full_at),
            )
            return 0.0

    # -- failures -----------------------------------------------------------------------

    def add_failure(self, key: str, now: float, window_s: float) -> int:
        with self._atomic() as conn:
            conn.execute("DELETE FROM failures WHERE expires_at <= ?", (now,))
            conn.execute(
                "INSERT INTO failures (key, at, expires_at) VALUES (?, ?, ?)",
                (key, now, now + window_s),
            )
            (count,) = conn.execute(
                "SELECT count(*) FROM failures WHERE key = ? AND at > ?", (key, now - window_s)
            ).fetchone()
            return int(count)

    def failures(self, key: str, now: float, window_s: float) -> list[float]:
        rows = self._conn().execute(
            "SELECT at FROM failures WHERE key = ? AND at > ? ORDER BY at",
            (key, now - window_s),
        )
        return [at for (at,) in rows]

    def clear_failures(self, key: str) -> None:
        with self._atomic() as conn:
            conn.execute("DELETE FROM failures WHERE key = ?", (key,))

    # -- holds --------------------------------------------------------------------------

    def hold(self, key: str, until: float, now: float) -> None:
        with self._atomic() as conn:
            conn.execute("DELETE FROM holds WHERE until <= ?", (now,))
            conn.execute("INSERT OR REPLACE INTO holds (key, until) VALUES (?, ?)", (key, until))

    def held_until(self, keys: Sequence[str], now: float) -> float:
        if not keys:
            return 0.0
        marks = ",".join("?" * len(keys))
        (until,) = (
            self._conn()
            .execute(f"SELECT max(until) FROM holds WHERE key IN ({marks})", list(keys))
            .fetchone()
        )
        return float(until) if until is not None and until > now else 0.0

    # -- the write queue ----------------------------------------------------------------

    def enqueue(self, cost: int, now: float, expires_at: float) -> QueuePlace:
        with self._atomic() as conn:
            conn.execute("DELETE FROM tickets WHERE expires_at <= ?", (now,))
            ticket = conn.execute(
                "INSERT INTO tickets (cost, expires_at) VALUES (?, ?)", (cost, expires_at)
            ).lastrowid
            assert ticket is not None
            return self._place(conn, ticket, now)

    def queue_ahead(self, ticket: int, now: float) -> QueuePlace:
        return self._place(self._conn(), ticket, now)

    @staticmethod
    def _place(conn: sqlite3.Connection, ticket: int, now: float) -> QueuePlace:
        changes, pushes = conn.execute(
            "SELECT coalesce(sum(cost), 0), count(*) FROM tickets"
            " WHERE ticket < ? AND expires_at > ?",
            (ticket, now),
        ).fetchone()
        row = conn.execute("SELECT value FROM pace WHERE name = 'write'").fetchone()
        return QueuePlace(ticket, int(changes), int(pushes), row[0] if row else None)

    def leave(self, ticket: int, pace_sample: float | None = None, weight: float = 0.3) -> None:
        with self._atomic() as conn:
            gone = conn.execute("DELETE FROM tickets WHERE ticket = ?", (ticket,)).rowcount
            if pace_sample is None or not gone:
                return
            conn.execute(
                "INSERT INTO pace (name, value) VALUES ('write', ?) ON CONFLICT (name)"
                " DO UPDATE SET value = value + ? * (excluded.value - value)",
                (pace_sample, weight),
            )

    # -- leases -------------------------------------------------------------------------

    def take_lease(self, name: str, owner: str, now: float, ttl_s: float) -> bool:
        with self._atomic() as conn:
            row = conn.execute(
                "SELECT owner, expires_at FROM leases WHERE name = ?", (name,)
            ).fetchone()
            if row is not None and row[0] != owner and row[1] > now:
                return False
            conn.execute(
                "INSERT OR REPLACE INTO leases (name, owner, expires_at) VALUES (?, ?, ?)",
                (name, owner, now + ttl_s),
            )
            return True

    def release_lease(self, name: str, owner: str) -> None:
        with self._atomic() as conn:
            conn.execute("DELETE FROM leases WHERE name = ? AND owner = ?", (name, owner))

    def lease_holder(self, name: str, now: float) -> tuple[str, float] | None:
        row = (
            self._conn()
            .execute("SELECT owner, expires_at FROM leases WHERE name = ?", (name,))
            .fetchone()
        )
        if row is None or row[1] <= now:
            return None
        return str(row[0]), float(row[1])
