"""The hub's numbered SQL migrations: `NNNN_name.sql` files in this folder."""

from __future__ import annotations

import sqlite3

from schemas.migrations import apply_migrations as _apply

__all__ = ["apply_migrations"]


def apply_migrations(conn: sqlite3.Connection) -> list[str]:
    """Bring the hub database to head. :returns: the migrations applied now."""
    return _apply(conn, __name__)
