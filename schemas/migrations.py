"""The numbered-migration runner that the hub's and the laptop's SQLite stores share.

It opens nothing itself: the caller hands it a connection and the package that holds its
`NNNN_name.sql` files. Each migration runs in one transaction together with the row that
records it, so a failed migration leaves the database exactly as it was.
"""

from __future__ import annotations

import sqlite3
from importlib import resources

__all__ = ["apply_migrations", "available_migrations"]


def available_migrations(package: str) -> list[tuple[int, str, str]]:
    """:returns: `(number, name, sql)` of every migration in `package`, in order."""
    found = []
    for entry in resources.files(package).iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), name[:-4], entry.read_text(encoding="utf-8")))
    return sorted(found)


def apply_migrations(conn: sqlite3.Connection, package: str) -> list[str]:
    """Apply the migrations of `package` not yet recorded. :returns: the names applied now.

    The connection must be in autocommit mode (``isolation_level=None``).
    """
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations"
        " (number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    done = {row[0] for row in conn.execute("SELECT number FROM schema_migrations")}
    applied = []
    for number, name, sql in available_migrations(package):
        if number in done:
            continue
        script = (
            f"BEGIN IMMEDIATE;\n{sql}\n;INSERT INTO schema_migrations (number, name, applied_at)"
            f" VALUES ({number}, '{name}', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));\nCOMMIT;"
        )
        try:
            conn.executescript(script)
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        applied.append(name)
    return applied
