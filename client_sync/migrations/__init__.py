"""The laptop store's numbered SQL migrations: `NNNN_name.sql` files in this folder.

An upgrade of `pendamping` migrates the store in place; the outbox is never dropped or
rebuilt, so no unsynced work is lost to an upgrade.
"""

from __future__ import annotations

import sqlite3

from schemas.migrations import apply_migrations as _apply

__all__ = ["apply_migrations"]


def apply_migrations(conn: sqlite3.Connection) -> list[str]:
    """Bring the laptop store to head. :returns: the migrations applied now."""
    return _apply(conn, __name__)
