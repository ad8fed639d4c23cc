"""One `pendamping daemon` per laptop home.

Two daemons on one home would do no harm (pushes are idempotent) but would double the
traffic on a link that has little. The lock is an exclusive SQLite lock on an empty file
beside the store, held for the daemon's life: SQLite's locking works the same on Windows
and Linux, and the operating system drops it when the process dies, so a crashed daemon
never leaves a stale lock behind. The file stays empty (no SQLite header, nothing to read).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from client_sync.errors import ClientError

__all__ = ["LOCK_FILE", "AlreadyRunning", "only_instance"]

LOCK_FILE = "daemon.lock"


class AlreadyRunning(ClientError):
    """Another daemon holds this home."""


@contextmanager
def only_instance(home: Path) -> Iterator[None]:
    """Hold the home's daemon lock. :raises AlreadyRunning: another daemon holds it."""
    conn = sqlite3.connect(Path(home) / LOCK_FILE, timeout=0, isolation_level=None)
    try:
        conn.execute("PRAGMA locking_mode = EXCLUSIVE")
        try:
            conn.execute("BEGIN EXCLUSIVE")
        except sqlite3.OperationalError as exc:
            raise AlreadyRunning(
                f"Sinkron latar belakang lain sudah berjalan untuk {home}; yang ini berhenti."
            ) from exc
        yield
    finally:
        conn.close()
