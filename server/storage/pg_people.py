"""The PostgreSQL :class:`~server.storage.people.PeopleStore`: wilayah, laptops' last pushes.

The twin of :mod:`server.storage.sqlite_people`, on the hub's PostgreSQL database (same
tables, same columns). A wilayah change is a write like any other: under the hub's write
lock, audited in its own transaction, so the audit chain never forks. A laptop's last
push is read from its newest ``push`` / ``bundle_import`` audit entry through the partial
index ``audit_device_pushes``: one index seek per laptop, all laptops in one query.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

import psycopg

from server.audit import AuditEvent
from server.storage.base import NotFound
from server.storage.people import PUSH_ACTIONS, LastPush, PeopleStore, parse_last_push
from server.storage.pg_db import PgDatabase

__all__ = ["AuditInto", "PgPeopleStore", "WriteOpener", "default_audit_into"]

#: appends an audit event on a connection inside a write (``server.storage.pg.audit_into``)
AuditInto = Callable[[psycopg.Connection[Any], AuditEvent], object]
#: opens one write transaction under the hub's write lock (``PgDatabase.write``, or the
#: storage's own, which honours ``HubStorage.waiting_for_writer``)
WriteOpener = Callable[[], AbstractContextManager[psycopg.Connection[Any]]]

_PUSHES = ", ".join(f"'{action}'" for action in PUSH_ACTIONS)


def default_audit_into(conn: psycopg.Connection[Any], event: AuditEvent) -> object:
    """``server.storage.pg.audit_into``, imported when first used (that module builds the
    facets, so importing it here at load time would be circular)."""
    from server.storage.pg import audit_into

    return audit_into(conn, event)


class PgPeopleStore(PeopleStore):
    """:param db: the hub's database.
    :param write: opens a write transaction; default ``db.write``.
    :param audit: appends an event inside a write; default ``server.storage.pg.audit_into``.
    """

    def __init__(
        self,
        db: PgDatabase,
        *,
        write: WriteOpener | None = None,
        audit: AuditInto | None = None,
    ) -> None:
        self._db = db
        self._write = write or db.write
        self._audit = audit or default_audit_into

    def set_wilayah(self, name: str, wilayah: Sequence[str], audit: AuditEvent) -> None:
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE users SET wilayah = %s WHERE name = %s", (json.dumps(list(wilayah)), name)
            )
            if cursor.rowcount == 0:
                raise NotFound(f"no user {name!r}")
            self._audit(conn, audit)

    def last_pushes(self, device_ids: Sequence[str]) -> dict[str, LastPush]:
        wanted = list(dict.fromkeys(device_ids))
        if not wanted:
            return {}
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT d.device_id, a.at, a.action, a.detail"
                " FROM unnest(%s::text[]) AS d (device_id) CROSS JOIN LATERAL"
                " (SELECT at, action, detail FROM audit"
                f"  WHERE device_id = d.device_id AND action IN ({_PUSHES})"
                "  ORDER BY position DESC LIMIT 1) AS a",
                (wanted,),
            ).fetchall()
        return {row[0]: parse_last_push(*row[1:]) for row in rows}
