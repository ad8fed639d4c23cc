"""The store's one connection: opening it, its write transactions, and the `meta` table.

Every write of the laptop store goes through :meth:`Db.atomic` on this one connection, so
a photo, a bundle export or a pulled page never writes behind another transaction's back.
The connection may be stdlib `sqlite3` or `sqlcipher3` (:mod:`client_sync.database`): rows
are plain tuples, never ``sqlite3.Row``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from client_sync import database
from client_sync.errors import StoreError
from client_sync.migrations import apply_migrations
from schemas.migrations import ensure_wal

__all__ = ["Db", "open_db"]


def open_db(path: Path, passphrase: str | None) -> Db:
    """Connect to the store file (created if missing), in WAL mode, migrated to head.

    :raises StoreError: it cannot be opened; and the passphrase errors of
        :func:`client_sync.database.connect`.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = database.connect(path, passphrase)
        ensure_wal(conn)
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        apply_migrations(conn)
    except database.Error as exc:
        raise StoreError(f"Penyimpanan lokal {path} tidak dapat dibuka: {exc}") from exc
    return Db(conn)


class Db:
    """One autocommit connection and the transactions written on it.

    :param conn: a connection in autocommit mode (``isolation_level=None``).
    """

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self._depth = 0

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def atomic(self, durable: bool = True) -> Iterator[Any]:
        """One write transaction (`BEGIN IMMEDIATE`); rolls back on any exception.

        A call inside another becomes a savepoint of it, so a larger write (attaching a
        photo) can include a smaller one (editing the record) and still commit once.

        :param durable: fsync at commit (the default). Only data the hub can send again
            may be written with ``False``; ignored for a nested call.
        :raises StoreError: the store is locked past the busy timeout, or damaged.
        """
        if self._depth:
            yield from self._savepoint()
            return
        if not durable:
            self.conn.execute("PRAGMA synchronous = NORMAL")
        try:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except database.Error as exc:
                raise StoreError(f"Penyimpanan lokal sibuk atau rusak: {exc}") from exc
            self._depth = 1
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            finally:
                self._depth = 0
            self.conn.execute("COMMIT")
        finally:
            if not durable:
                self.conn.execute("PRAGMA synchronous = FULL")

    def _savepoint(self) -> Iterator[Any]:
        name = f"nested_{self._depth}"
        self.conn.execute(f"SAVEPOINT {name}")
        self._depth += 1
        try:
            yield self.conn
        except BaseException:
            self.conn.execute(f"ROLLBACK TO {name}")
            self.conn.execute(f"RELEASE {name}")
            raise
        finally:
            self._depth -= 1
        self.conn.execute(f"RELEASE {name}")

    def meta(self, key: str, default: str | None = None) -> str | None:
        """One value of the `meta` table (identity, clock, cursor, last sync)."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def all_meta(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT key, value FROM meta").fetchall())

    def set_meta(self, **values: Any) -> None:
        """Write `meta` values (JSON unless a string); call inside :meth:`atomic`."""
        self.conn.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [(k, v if isinstance(v, str) else json.dumps(v)) for k, v in values.items()],
        )
