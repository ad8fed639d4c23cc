"""The wilayah rule (server/storage/scope_rule.py) for PostgreSQL: ``%s`` parameters."""

from __future__ import annotations

from collections.abc import Sequence

from server.storage.scope_rule import wilayah_sql

__all__ = ["scope_sql"]


def scope_sql(scopes: Sequence[str] | None, column: str = "kelurahan") -> tuple[str, list[str]]:
    """None: every kelurahan (``TRUE``); an empty sequence: none (``FALSE``)."""
    return wilayah_sql(scopes, column, mark="%s", every="TRUE", none="FALSE")
