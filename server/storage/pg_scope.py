"""The wilayah rule in SQL, for every PostgreSQL query that scopes by a kelurahan column.

The same rule as server/storage/sqlite_scope.py with ``%s`` parameters: a range on the text
(`31.71.01.` up to `31.71.01/`, '/' being '.' + 1) rather than LIKE, so `_` and `%` mean
nothing and a btree index serves it. It needs the column to compare byte-wise: every
kelurahan column of the PostgreSQL schema is ``COLLATE "C"`` (pg_migrations/0001_initial.sql).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["scope_sql"]


def scope_sql(scopes: Sequence[str] | None, column: str = "kelurahan") -> tuple[str, list[str]]:
    """SQL matching a kelurahan `column` against wilayah prefixes on segment boundaries.

    None: every kelurahan (``TRUE``); an empty sequence: none (``FALSE``).
    """
    if scopes is None:
        return "TRUE", []
    if not scopes:
        return "FALSE", []
    parts, params = [], []
    for scope in scopes:
        parts.append(f"({column} = %s OR ({column} > %s AND {column} < %s))")
        params += [scope, scope + ".", scope + "/"]
    return "(" + " OR ".join(parts) + ")", params
