"""The numbered-migration runner that the hub's and the laptop's SQLite stores share.

It opens nothing itself: the caller hands it a connection and the package that holds its
`NNNN_name.sql` files. The runner takes the write lock first and only then reads which
migrations are done, so two processes opening a fresh store at once (the daemon and the
command line, `serve` and `user add`) cannot both apply the same migration. All pending
migrations run in that one transaction together with the rows that record them, so a
failed migration leaves the database exactly as it was.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from importlib import resources

__all__ = ["apply_migrations", "available_migrations", "ensure_wal", "statements"]


def ensure_wal(conn: sqlite3.Connection, timeout_s: float = 10.0) -> None:
    """Put the database in WAL mode (it stays so), waiting out another opener.

    Switching the journal mode ignores SQLite's busy timeout, so two processes creating
    the same store at once would see "database is locked"; this retries instead.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except Exception as exc:  # sqlite3's, or a compatible driver's (sqlcipher3)
            locked = type(exc).__name__ == "OperationalError" and "locked" in str(exc)
            if not locked or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def available_migrations(package: str) -> list[tuple[int, str, str]]:
    """:returns: `(number, name, sql)` of every migration in `package`, in order."""
    found = []
    for entry in resources.files(package).iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), name[:-4], entry.read_text(encoding="utf-8")))
    return sorted(found)


def statements(sql: str) -> Iterator[str]:
    """The complete SQL statements of a script, in order (SQLite's own notion of complete)."""
    buffer = ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer.strip()
            buffer = ""
    rest = "\n".join(
        line for line in buffer.splitlines() if line.strip() and not line.strip().startswith("--")
    )
    if rest.strip():
        raise sqlite3.OperationalError(f"incomplete SQL statement at the end: {rest[:80]!r}")


def apply_migrations(conn: sqlite3.Connection, package: str) -> list[str]:
    """Apply the migrations of `package` not yet recorded. :returns: the names applied now.

    The connection must be in autocommit mode (``isolation_level=None``).
    """
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations"
        " (number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    conn.execute("BEGIN IMMEDIATE")
    try:
        done = {row[0] for row in conn.execute("SELECT number FROM schema_migrations")}
        applied = []
        for number, name, sql in available_migrations(package):
            if number in done:
                continue
            for statement in statements(sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations (number, name, applied_at)"
                " VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                (number, name),
            )
            applied.append(name)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return applied
