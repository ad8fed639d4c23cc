"""The wilayah rule in SQL, once for both backends: a kelurahan column against wilayah codes.

A range on the text (`31.71.01.` up to `31.71.01/`, '/' being '.' + 1) rather than LIKE,
so `_` and `%` mean nothing and a btree index serves it; the column must compare byte-wise
(SQLite always does; every kelurahan column of the PostgreSQL schema is ``COLLATE "C"``).
Each backend's module (sqlite_scope.py, pg_scope.py) names its parameter mark and its
words for "every row" and "no row".
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["wilayah_sql"]


def wilayah_sql(
    scopes: Sequence[str] | None, column: str, *, mark: str, every: str, none: str
) -> tuple[str, list[str]]:
    """SQL matching `column` against wilayah prefixes on segment boundaries.

    None: every kelurahan (`every`); an empty sequence: none (`none`).
    """
    if scopes is None:
        return every, []
    if not scopes:
        return none, []
    parts, params = [], []
    for scope in scopes:
        parts.append(f"({column} = {mark} OR ({column} > {mark} AND {column} < {mark}))")
        params += [scope, scope + ".", scope + "/"]
    return "(" + " OR ".join(parts) + ")", params
