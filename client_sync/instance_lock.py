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

__all__ = ["LOCK_FILE", "AlreadyRunning", "is_held", "only_instance"]

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


def is_held(home: Path) -> bool:
    """Whether a daemon holds this home's lock now. Read-only: it neither creates the file
    nor takes the lock (a read-only open whose first read fails while another process
    holds the exclusive lock), so it never keeps a daemon from starting."""
    path = Path(home) / LOCK_FILE
    if not path.exists():
        return False
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=0)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        return True
    finally:
        conn.close()
    return False
