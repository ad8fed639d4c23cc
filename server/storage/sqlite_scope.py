"""The wilayah rule in SQL, for every SQLite query that scopes by a kelurahan column."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["scope_sql"]


def scope_sql(scopes: Sequence[str] | None, column: str = "kelurahan") -> tuple[str, list[str]]:
    """SQL matching a kelurahan `column` against wilayah prefixes on segment boundaries.

    A range on the text (`31.71.01.` up to `31.71.01/`, '/' being '.' + 1) rather than LIKE,
    so `_` and `%` mean nothing and SQLite can use an index. None: every kelurahan; an
    empty sequence: none.
    """
    if scopes is None:
        return "1", []
    if not scopes:
        return "0", []
    parts, params = [], []
    for scope in scopes:
        parts.append(f"({column} = ? OR ({column} > ? AND {column} < ?))")
        params += [scope, scope + ".", scope + "/"]
    return "(" + " OR ".join(parts) + ")", params
