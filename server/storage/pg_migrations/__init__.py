"""The hub's numbered PostgreSQL migrations: `NNNN_name.sql` files in this folder.

Each pending file runs, with the row that records it in `schema_migrations`, in ONE
transaction that first takes an advisory lock (:data:`~server.storage.pg_db.MIGRATION_LOCK_KEY`):
two hub processes starting at once against a new database do not both migrate; the second
waits, then reads the record and finds nothing to do. A failed migration leaves the
database exactly as it was (PostgreSQL's DDL is transactional).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from schemas.migrations import available_migrations as _available

if TYPE_CHECKING:
    from server.storage.pg_db import PgDatabase

__all__ = ["applied_migrations", "apply_migrations", "available_migrations"]

_CREATE_RECORD = (
    "CREATE TABLE IF NOT EXISTS schema_migrations"
    " (number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
)


def available_migrations() -> list[tuple[int, str, str]]:
    """:returns: `(number, name, sql)` of every PostgreSQL migration, in order."""
    return _available(__name__)


def apply_migrations(db: PgDatabase, upto: int | None = None) -> list[str]:
    """Bring the database to head (or to migration `upto`). :returns: the names applied now."""
    from server.storage.pg_db import MIGRATION_LOCK_KEY

    with db.transaction() as conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
        conn.execute(_CREATE_RECORD)
        done = {row[0] for row in conn.execute("SELECT number FROM schema_migrations")}
        applied = []
        for number, name, sql in available_migrations():
            if number in done or (upto is not None and number > upto):
                continue
            conn.execute(sql.encode())  # no parameters: the whole file in one round trip
            conn.execute(
                "INSERT INTO schema_migrations (number, name, applied_at)"
                " VALUES (%s, %s, to_char(now() AT TIME ZONE 'UTC',"
                ' \'YYYY-MM-DD"T"HH24:MI:SS"Z"\'))',
                (number, name),
            )
            applied.append(name)
    return applied


def applied_migrations(db: PgDatabase) -> list[tuple[int, str, str]]:
    """:returns: `(number, name, applied_at)` of each migration recorded, in order; none on
    a database never migrated."""
    with db.read() as conn:
        exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
        if not exists or not exists[0]:
            return []
        rows = conn.execute(
            "SELECT number, name, applied_at FROM schema_migrations ORDER BY number"
        ).fetchall()
    return [(int(n), str(name), str(at)) for n, name, at in rows]
