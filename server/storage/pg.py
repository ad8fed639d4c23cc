"""The PostgreSQL backend of the hub: any number of hub processes against one database.

Chosen by ``STORAGE_URL=postgresql://...`` (server/storage/__init__.py). Every write takes
the hub's one write lock (an advisory lock, server/storage/pg_db.py) and holds it to
COMMIT, so the guarantees of the SQLite hub hold across processes and machines: seqs
without gaps that a pull never passes, one merge per record at a time, one audit chain, one
hub clock (docs/postgresql.md says how each holds). Reads that need one state (a pull page)
run in a REPEATABLE READ snapshot; other reads autocommit. The facets (limits, people,
office, jobs, verification) are classes of their own over the same :class:`PgDatabase`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

import psycopg

from schemas.pull_page import RECORD_COLUMNS, records_json
from schemas.validators import is_kelurahan_code
from server.audit import AuditEntry, AuditEvent
from server.storage.base import (
    AlreadyExists,
    ChangeRow,
    ConflictRow,
    Device,
    HubStorage,
    NotFound,
    PullPage,
    RecordRow,
    User,
    WriterWait,
    WriteSession,
)
from server.storage.pg_db import PgDatabase
from server.storage.pg_migrations import apply_migrations
from server.storage.pg_scope import scope_sql
from server.storage.pg_write import PgWrite, audit_into, records_for, select_conflicts
from server.storage.rows import DEVICE_SELECT as _DEVICE_SELECT
from server.storage.rows import device_of as _device
from server.storage.rows import user_of as _user

if TYPE_CHECKING:
    from server.storage.jobs import JobStore
    from server.storage.limits import LimitStore
    from server.storage.office import OfficeReads
    from server.storage.people import PeopleStore
    from server.storage.verification import VerificationStore

__all__ = ["PostgresStorage", "audit_into", "read_audit"]

_PULL_COLUMNS = f"SELECT {', '.join(RECORD_COLUMNS)}, quiet_device FROM records"
#: One whole kelurahan: just its own records above the cursor (index records_kelurahan_seq).
_PULL_KELURAHAN = f"({_PULL_COLUMNS} WHERE kelurahan = %s AND seq > %s ORDER BY seq LIMIT %s)"
#: Up to this many whole kelurahan are read one by one; a longer list walks seq order.
_PULL_KELURAHAN_MAX = 16
_PULL_SEQ = RECORD_COLUMNS.index("seq")
_AUDIT_PAGE = 1000


def _pull_rows(
    conn: psycopg.Connection, scopes: Sequence[str] | None, since: int, limit: int
) -> list[tuple[Any, ...]]:
    """The first `limit` records above `since` in a wilayah, in seq order.

    A wilayah of whole kelurahan codes (a pendamping's) is read kelurahan by kelurahan,
    each branch an index range of (kelurahan, seq) taking its own first `limit`, so the
    work is the laptop's own records, not the district's; any other wilayah walks the
    (seq, kelurahan) index in seq order and checks the kelurahan there.
    """
    if scopes and len(scopes) <= _PULL_KELURAHAN_MAX and all(map(is_kelurahan_code, scopes)):
        branches = " UNION ALL ".join([_PULL_KELURAHAN] * len(scopes))
        values: list[Any] = [value for code in scopes for value in (code, since, limit)]
        return conn.execute(
            f"SELECT * FROM ({branches}) AS mine ORDER BY seq LIMIT %s",
            [*values, limit],
        ).fetchall()
    where, params = scope_sql(scopes)
    return conn.execute(
        f"{_PULL_COLUMNS} WHERE seq > %s AND {where} ORDER BY seq LIMIT %s",
        [since, *params, limit],
    ).fetchall()


def _scope_exits(
    conn: psycopg.Connection, scopes: Sequence[str] | None, since: int, upto: int | None
) -> list[dict[str, Any]]:
    """Exits above `since` (up to `upto`, if given) out of `scopes`, oldest first."""
    if not scopes:  # an admin sees everything; no scope at all held nothing
        return []
    was_in, old_params = scope_sql(scopes, "old_kelurahan")
    now_in, new_params = scope_sql(scopes, "new_kelurahan")
    bound, bound_params = ("AND seq <= %s", [upto]) if upto is not None else ("", [])
    rows = conn.execute(
        f"SELECT record_id, entity, seq FROM scope_exits WHERE seq > %s {bound}"
        f" AND {was_in} AND NOT {now_in} ORDER BY seq",
        [since, *bound_params, *old_params, *new_params],
    ).fetchall()
    return [{"id": i, "entity": e, "seq": s} for i, e, s in rows]


def read_audit(db: PgDatabase, after: int = 0) -> Iterator[AuditEntry]:
    """The audit entries above position `after`, as stored, read a page at a time (no
    connection is held while the caller works through a page)."""
    while True:
        with db.read() as conn:
            rows = conn.execute(
                "SELECT position, at, actor, device_id, action, detail, prev_hash, hash"
                " FROM audit WHERE position > %s ORDER BY position LIMIT %s",
                (after, _AUDIT_PAGE),
            ).fetchall()
        for row in rows:
            yield AuditEntry(int(row[0]), *row[1:])
        if len(rows) < _AUDIT_PAGE:
            return
        after = rows[-1][0]


class PostgresStorage(HubStorage):
    """Hub storage in one PostgreSQL database, shared by any number of hub processes.

    :param url: ``postgresql://user@host:port/database`` (libpq's URL or conninfo).
    :param max_size: the most connections this process's pool opens.
    :raises StorageError: the database cannot be reached.
    """

    #: what `pendamping-hub check` and `backup` name this backend
    kind = "postgresql"

    def __init__(self, url: str, *, max_size: int = 10) -> None:
        self.url = url
        self.db = PgDatabase(url, max_size=max_size)
        self._facets: dict[str, Any] = {}

    @classmethod
    def load_from_config(cls, config: dict[str, Any]) -> PostgresStorage:
        return cls(str(config["STORAGE_URL"]))

    def migrate(self) -> list[str]:
        return apply_migrations(self.db)

    def close(self) -> None:
        """Close the pool (a later use opens a new one, e.g. in a forked worker)."""
        self.db.close()

    # -- facets (each its own module, over the same database) ------------------------------

    def _facet(self, name: str, module: str, cls: str) -> Any:
        facet = self._facets.get(name)
        if facet is None:
            facet = getattr(__import__(module, fromlist=[cls]), cls)(self.db)
            self._facets[name] = facet
        return facet

    @property
    def limits(self) -> LimitStore:
        return self._facet("limits", "server.storage.pg_limits", "PgLimitStore")

    @property
    def people(self) -> PeopleStore:
        return self._facet("people", "server.storage.pg_people", "PgPeopleStore")

    @property
    def office(self) -> OfficeReads:
        return self._facet("office", "server.storage.pg_office", "PgOfficeReads")

    @property
    def jobs(self) -> JobStore:
        return self._facet("jobs", "server.storage.pg_jobs", "PgJobStore")

    @property
    def verification(self) -> VerificationStore:
        return self._facet("verification", "server.storage.pg_verification", "PgVerificationStore")

    # -- writes ---------------------------------------------------------------------------

    def waiting_for_writer(self, seconds: float) -> AbstractContextManager[WriterWait]:
        return self.db.bounded(seconds)

    @contextmanager
    def write(self) -> Iterator[WriteSession]:
        with self.db.write() as conn:
            yield PgWrite(conn)

    # -- people and laptops -------------------------------------------------------------

    def add_user(self, user: User, created_at: str, audit: AuditEvent | None = None) -> None:
        with self.db.write() as conn:
            if conn.execute("SELECT 1 FROM users WHERE name = %s", (user.name,)).fetchone():
                raise AlreadyExists(f"user {user.name!r} exists already")
            conn.execute(
                "INSERT INTO users (name, role, wilayah, password_hash, created_at)"
                " VALUES (%s, %s, %s, %s, %s)",
                (
                    user.name,
                    user.role,
                    json.dumps(list(user.wilayah)),
                    user.password_hash,
                    created_at,
                ),
            )
            if audit is not None:
                audit_into(conn, audit)

    def get_user(self, name: str) -> User:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT name, role, wilayah, password_hash FROM users WHERE name = %s", (name,)
            ).fetchone()
        if row is None:
            raise NotFound(f"no user {name!r}")
        return _user(*row)

    def list_users(self) -> list[User]:
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT name, role, wilayah, password_hash FROM users ORDER BY name"
            ).fetchall()
        return [_user(*row) for row in rows]

    def set_password_hash(
        self, name: str, password_hash: str | None, audit: AuditEvent | None = None
    ) -> None:
        with self.db.write() as conn:
            cursor = conn.execute(
                "UPDATE users SET password_hash = %s WHERE name = %s", (password_hash, name)
            )
            if cursor.rowcount == 0:
                raise NotFound(f"no user {name!r}")
            if audit is not None:
                audit_into(conn, audit)

    def end_web_sessions(self, name: str, at: int, audit: AuditEvent | None = None) -> None:
        with self.db.write() as conn:
            if conn.execute("SELECT 1 FROM users WHERE name = %s", (name,)).fetchone() is None:
                return
            conn.execute(
                "INSERT INTO web_logouts (user_name, after) VALUES (%s, %s)"
                " ON CONFLICT (user_name) DO UPDATE"
                " SET after = GREATEST(web_logouts.after, excluded.after)",
                (name, at),
            )
            if audit is not None:
                audit_into(conn, audit)

    def web_sessions_after(self, name: str) -> int:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT after FROM web_logouts WHERE user_name = %s", (name,)
            ).fetchone()
        return int(row[0]) if row else 0

    def add_enroll_code(
        self,
        code_hash: str,
        user_name: str,
        created_at: str,
        expires_at: str,
        audit: AuditEvent | None = None,
    ) -> None:
        with self.db.write() as conn:
            if conn.execute("SELECT 1 FROM users WHERE name = %s", (user_name,)).fetchone() is None:
                raise NotFound(f"no user {user_name!r}")
            conn.execute(
                "INSERT INTO enroll_codes (code_hash, user_name, created_at, expires_at)"
                " VALUES (%s, %s, %s, %s)",
                (code_hash, user_name, created_at, expires_at),
            )
            if audit is not None:
                audit_into(conn, audit)

    def redeem_enroll_code(
        self,
        code_hash: str,
        now: str,
        device_id: str,
        device_name: str,
        token_hash: str,
        audit: AuditEvent | None = None,
    ) -> Device:
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT user_name FROM enroll_codes WHERE code_hash = %s AND used_at IS NULL"
                " AND expires_at > %s",
                (code_hash, now),
            ).fetchone()
            if row is None:
                raise NotFound("enrolment code unknown, used or expired")
            conn.execute(
                "UPDATE enroll_codes SET used_at = %s WHERE code_hash = %s", (now, code_hash)
            )
            conn.execute(
                "INSERT INTO devices (device_id, user_name, name, token_hash, enrolled_at)"
                " VALUES (%s, %s, %s, %s, %s)",
                (device_id, row[0], device_name, token_hash, now),
            )
            if audit is not None:
                audit_into(
                    conn,
                    dataclasses.replace(audit, actor=audit.actor or row[0], device_id=device_id),
                )
        return self._device_where("d.device_id = %s", device_id)

    def _device_where(self, where: str, value: str) -> Device:
        with self.db.read() as conn:
            row = conn.execute(f"{_DEVICE_SELECT} WHERE {where}", (value,)).fetchone()
        if row is None:
            raise NotFound("no such device")
        return _device(row)

    def device_by_token(self, token_hash: str) -> Device:
        return self._device_where("d.token_hash = %s", token_hash)

    def list_devices(self) -> list[Device]:
        with self.db.read() as conn:
            rows = conn.execute(f"{_DEVICE_SELECT} ORDER BY d.enrolled_at DESC").fetchall()
        return [_device(row) for row in rows]

    def get_device(self, device_id: str) -> Device:
        return self._device_where("d.device_id = %s", device_id)

    def revoke_device(self, device_id: str, when: str, audit: AuditEvent | None = None) -> bool:
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT revoked_at FROM devices WHERE device_id = %s", (device_id,)
            ).fetchone()
            if row is None:
                raise NotFound("no such device")
            if row[0] is not None:
                return False
            conn.execute(
                "UPDATE devices SET revoked_at = %s WHERE device_id = %s", (when, device_id)
            )
            if audit is not None:
                audit_into(conn, audit)
        return True

    def device_token_hash(self, device_id: str) -> str:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT token_hash FROM devices WHERE device_id = %s", (device_id,)
            ).fetchone()
        if row is None:
            raise NotFound("no such device")
        return str(row[0])

    def receipts_of_device(self, device_id: str, change_ids: Sequence[str]) -> dict[str, str]:
        if not change_ids:
            return {}
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT change_id, receipt FROM changes WHERE change_id = ANY(%b::text[])"
                " AND device_id = %s",
                (list(change_ids), device_id),
            ).fetchall()
        return dict(rows)

    # -- records --------------------------------------------------------------------------

    def pull(
        self,
        scopes: Sequence[str] | None,
        since: int,
        limit: int,
        skip_quiet_for: str | None = None,
    ) -> PullPage:
        with self.db.snapshot() as conn:  # one state for the records and the exits
            rows = _pull_rows(conn, scopes, since, limit + 1)
            more = len(rows) > limit
            rows = rows[:limit]
            exits = _scope_exits(conn, scopes, since, rows[-1][_PULL_SEQ] if more else None)
        # entity and id are validated codes and UUIDs, data is stored JSON: no re-encoding.
        records = records_json(rows, skip_quiet_for)
        upto = rows[-1][_PULL_SEQ] if rows else since
        if exits and not more:
            upto = max(upto, exits[-1]["seq"])
        return PullPage(records, upto, more, exits)

    def get_record(self, record_id: str) -> RecordRow:
        with self.db.read() as conn:
            found = records_for(conn, [record_id])
        if record_id not in found:
            raise NotFound(f"no record {record_id}")
        return found[record_id]

    def iter_changes(self, record_id: str) -> Iterator[ChangeRow]:
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT change_id, device_id, author_id, entity, record_id, hlc, fields,"
                " received_at, receipt FROM changes WHERE record_id = %s ORDER BY pos",
                (record_id,),
            ).fetchall()
        for row in rows:
            yield ChangeRow(*row)

    def list_conflicts(
        self,
        scopes: Sequence[str] | None,
        open_only: bool = True,
        limit: int = 100,
        after_id: int = 0,
    ) -> list[ConflictRow]:
        where, params = scope_sql(scopes)
        if open_only:
            where += " AND resolved_at IS NULL"
        with self.db.read() as conn:
            return select_conflicts(
                conn,
                f"conflict_id > %s AND {where} ORDER BY conflict_id LIMIT %s",
                [after_id, *params, limit],
            )

    def conflicts_for_device(
        self,
        device_id: str,
        since: int,
        upto: int,
        scopes: Sequence[str] | None = None,
    ) -> list[ConflictRow]:
        where, params = scope_sql(scopes)
        with self.db.read() as conn:
            return select_conflicts(
                conn,
                "(lost_device = %s OR kept_device = %s) AND ((seq > %s AND seq <= %s)"
                f" OR (resolved_seq > %s AND resolved_seq <= %s)) AND {where}"
                " ORDER BY conflict_id",
                (device_id, device_id, since, upto, since, upto, *params),
            )

    def stats(self) -> dict[str, Any]:
        with self.db.snapshot() as conn:
            records = dict(
                conn.execute(
                    "SELECT entity, COUNT(*) FROM records WHERE deleted = 0 GROUP BY entity"
                ).fetchall()
            )
            counts = conn.execute(
                "SELECT (SELECT COUNT(*) FROM devices WHERE revoked_at IS NULL),"
                " (SELECT COUNT(*) FROM conflicts WHERE resolved_at IS NULL),"
                " (SELECT COUNT(*) FROM changes),"
                " (SELECT COALESCE(MAX(seq), 0) FROM records)"
            ).fetchone()
        devices, open_conflicts, changes, last_seq = counts or (0, 0, 0, 0)
        return {
            "records": {e: records.get(e, 0) for e in ("beneficiary", "visit", "device_request")},
            "devices": devices,
            "open_conflicts": open_conflicts,
            "changes": changes,
            "last_seq": last_seq,
        }

    # -- the audit chain ------------------------------------------------------------------

    def iter_audit(self, after: int = 0, newest: int | None = None) -> Iterator[AuditEntry]:
        if newest is not None:
            if newest <= 0:
                return
            with self.db.read() as conn:
                row = conn.execute(
                    "SELECT position FROM audit WHERE position > %s ORDER BY position DESC"
                    " LIMIT 1 OFFSET %s",
                    (after, newest),
                ).fetchone()
            if row is not None:
                after = int(row[0])
        yield from read_audit(self.db, after)
