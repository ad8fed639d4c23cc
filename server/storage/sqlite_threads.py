"""One SQLite connection per thread, for the hub's files (the records and the limits).

A sqlite3 connection must not be shared between threads while in use, and the WSGI
server's threads come and go; each thread opens its own on first use. `check_same_thread`
is off only so that :meth:`ThreadConnections.close` can close them all from one thread at
shutdown (or before gunicorn forks its workers).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from server.storage.base import StorageError

__all__ = ["ThreadConnections"]


class ThreadConnections:
    """The calling thread's connection to `path`, opened and set up by `setup` once.

    :param setup: PRAGMAs and the like for a new connection; a :class:`sqlite3.Error` it
        raises becomes a :class:`StorageError` that says `what` could not be opened.
    """

    def __init__(self, path: Path, setup: Callable[[sqlite3.Connection], None], what: str) -> None:
        self.path = path
        self._setup = setup
        self._what = what
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def get(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                self._setup(conn)
            except sqlite3.Error as exc:
                raise StorageError(f"cannot open {self._what} {self.path}: {exc}") from exc
            self._local.conn = conn
            with self._lock:
                self._opened.append(conn)
        return conn

    def close(self) -> None:
        """Close every connection opened so far, in any thread."""
        with self._lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()
        self._local = threading.local()
