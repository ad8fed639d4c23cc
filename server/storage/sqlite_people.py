"""The SQLite :class:`~server.storage.people.PeopleStore`: wilayah, laptops' last pushes.

It shares the hub database and its transactions with :class:`SQLiteStorage` (given as
callables, so this module holds no connection of its own). A laptop's last push is read
from its newest ``push`` / ``bundle_import`` audit entry through the partial index of
migration 0009, one index seek per laptop: the push path writes nothing more for it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

from server.audit import AuditEvent
from server.storage.base import NotFound
from server.storage.people import PUSH_ACTIONS, LastPush, PeopleStore, parse_last_push

__all__ = ["SQLitePeopleStore"]

_PUSHES = ", ".join(f"'{action}'" for action in PUSH_ACTIONS)


class SQLitePeopleStore(PeopleStore):
    """:param transaction: opens one write transaction (``SQLiteStorage._transaction``).
    :param conn: this thread's connection for reads.
    :param audit: appends an event on a connection inside a transaction."""

    def __init__(
        self,
        transaction: Callable[[], AbstractContextManager[sqlite3.Connection]],
        conn: Callable[[], sqlite3.Connection],
        audit: Callable[[sqlite3.Connection, AuditEvent], object],
    ) -> None:
        self._transaction = transaction
        self._conn = conn
        self._audit = audit

    def set_wilayah(self, name: str, wilayah: Sequence[str], audit: AuditEvent) -> None:
        with self._transaction() as conn:
            cursor = conn.execute(
                "UPDATE users SET wilayah = ? WHERE name = ?", (json.dumps(list(wilayah)), name)
            )
            if cursor.rowcount == 0:
                raise NotFound(f"no user {name!r}")
            self._audit(conn, audit)

    def last_pushes(self, device_ids: Sequence[str]) -> dict[str, LastPush]:
        conn = self._conn()
        found: dict[str, LastPush] = {}
        for device_id in dict.fromkeys(device_ids):
            row = conn.execute(
                "SELECT at, action, detail FROM audit INDEXED BY audit_device_pushes"
                f" WHERE device_id = ? AND action IN ({_PUSHES})"
                " ORDER BY position DESC LIMIT 1",
                (device_id,),
            ).fetchone()
            if row is not None:
                found[device_id] = parse_last_push(*row)
        return found
