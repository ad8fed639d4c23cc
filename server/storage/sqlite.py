"""The embedded SQLite backend of the hub: WAL, one writer, every write in one transaction.

A connection per thread (the WSGI server runs requests on a thread pool); writers take the
database lock up front with ``BEGIN IMMEDIATE`` so two pushes queue instead of deadlocking.
The hub-wide limits live in a file of their own beside it (server/storage/sqlite_limits.py).
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from schemas.migrations import ensure_wal
from schemas.pull_page import RECORD_COLUMNS, records_json
from schemas.validators import is_kelurahan_code
from server.audit import AuditEntry, AuditEvent
from server.storage.base import (
    AlreadyExists,
    ChangeRow,
    ConflictRow,
    Device,
    DeviceReport,
    HubStorage,
    NotFound,
    PullPage,
    RecordRow,
    ScopeExit,
    StorageError,
    User,
    WriterBusy,
    WriterWait,
    WriteSession,
)
from server.storage.jobs import JobStore
from server.storage.limits import LimitStore
from server.storage.migrations import apply_migrations
from server.storage.office import OfficeReads
from server.storage.people import PeopleStore
from server.storage.read_columns import read_columns, verification_outcome
from server.storage.rows import DEVICE_SELECT as _DEVICE_SELECT
from server.storage.rows import conflict_of as _conflict
from server.storage.rows import device_of as _device
from server.storage.rows import json_text as _json
from server.storage.rows import live_nik as _nik
from server.storage.rows import pack_clocks as _pack_clocks
from server.storage.rows import record_of as _record
from server.storage.rows import user_of as _user
from server.storage.sqlite_jobs import SQLiteJobStore
from server.storage.sqlite_limits import SQLiteLimitStore
from server.storage.sqlite_office import SQLiteOfficeReads, save_programs
from server.storage.sqlite_people import SQLitePeopleStore
from server.storage.sqlite_scope import scope_sql as _scope_sql
from server.storage.sqlite_threads import ThreadConnections
from server.storage.sqlite_verification import SQLiteVerificationStore
from server.storage.verification import VerificationStore

__all__ = ["SQLiteStorage", "read_audit"]

_CHUNK = 500  # bound parameters per IN (...) query, well under SQLite's limit
#: While a write waits within a bound, SQLite's busy handler sleeps at most this long per
#: attempt (1, 2, 5, 10, 2 ms), so a lock set free by another process is taken within a few
#: milliseconds; the handler's own schedule sleeps 100 ms at a time after the first 0.3 s.
_POLL_MS = 20
#: SQLite's automatic checkpoint threshold for the hub's database, in WAL pages.
WAL_AUTOCHECKPOINT_PAGES = 10_000
#: Each connection's page cache, KiB (SQLite's default is 2,000). A push inserts into
#: several indexes keyed by UUIDs (random ones, as every id was before version 7:
#: schemas/ids.py), whose leaf pages outgrow 2 MB by 20,000 records; each miss is a read of
#: the page from the OS. 16 MiB: 10,000 changes into a hub holding
#: 100,000 took 0.75 s of CPU instead of 0.95-0.97 s (docs/benchmarks.md, session 18).
#: Reached only by a connection that touches that many pages (a writer's, mostly).
PAGE_CACHE_KIB = 16 * 1024
#: A pulled record's columns, in the order of the page's text (schemas/pull_page.py).
_PULL_COLUMNS = f"SELECT {', '.join(RECORD_COLUMNS)}, quiet_device FROM records"
#: Any wilayah: seq order, the kelurahan checked in the index (migration 0006).
_PULL_SELECT = f"{_PULL_COLUMNS} INDEXED BY records_seq_kelurahan"
#: One whole kelurahan: just its own records above the cursor (migration 0006).
_PULL_KELURAHAN = (
    f"SELECT * FROM ({_PULL_COLUMNS} INDEXED BY records_kelurahan_seq"
    " WHERE kelurahan = ? AND seq > ? ORDER BY seq LIMIT ?)"
)
#: Up to this many whole kelurahan are read one by one; a longer list walks seq order.
_PULL_KELURAHAN_MAX = 16
_PULL_SEQ = RECORD_COLUMNS.index("seq")


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


_CONFLICT_SELECT = (
    "SELECT conflict_id, kind, record_id, entity, kelurahan, field, kept_value, kept_hlc,"
    " kept_device, kept_author, lost_value, lost_hlc, lost_device, lost_author, lost_change,"
    " other_record_id, seq, created_at, resolved_at, resolved_by, resolved_seq, resolution"
    " FROM conflicts"
)


def _select_conflicts(
    conn: sqlite3.Connection, where: str, params: Sequence[Any]
) -> list[ConflictRow]:
    cursor = conn.execute(f"{_CONFLICT_SELECT} WHERE {where}", params)
    names = [d[0] for d in cursor.description]
    return [_conflict(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]


def _pull_rows(
    conn: sqlite3.Connection,
    scopes: Sequence[str] | None,
    where: str,
    params: list[str],
    since: int,
    limit: int,
) -> list[tuple]:
    """The first `limit` records above `since` in a wilayah, in seq order.

    A wilayah of whole kelurahan codes (a pendamping's) is read kelurahan by kelurahan, each
    branch taking its own first `limit`, so the work is the laptop's own records, not the
    district's; any other wilayah walks the district in seq order.
    """
    if scopes and len(scopes) <= _PULL_KELURAHAN_MAX and all(map(is_kelurahan_code, scopes)):
        branches = " UNION ALL ".join([_PULL_KELURAHAN] * len(scopes))
        values = [value for code in scopes for value in (code, since, limit)]
        return conn.execute(
            f"SELECT * FROM ({branches}) ORDER BY seq LIMIT ?", [*values, limit]
        ).fetchall()
    return conn.execute(
        f"{_PULL_SELECT} WHERE seq > ? AND {where} ORDER BY seq LIMIT ?",
        [since, *params, limit],
    ).fetchall()


def _records_for(conn: sqlite3.Connection, record_ids: Sequence[str]) -> dict[str, RecordRow]:
    found: dict[str, RecordRow] = {}
    for chunk in _chunks(list(record_ids)):
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(
            "SELECT id, entity, kelurahan, seq, deleted, data, clocks, created_at, updated_at,"
            f" quiet_device, author FROM records WHERE id IN ({marks})",
            chunk,
        ):
            found[row[0]] = _record(row)
    return found


def _pairs(conn: sqlite3.Connection, select_where: str, keys: Sequence[str]) -> dict[str, Any]:
    """`SELECT key, value ... WHERE key IN (...)` over any number of keys, as a dict."""
    found: dict[str, Any] = {}
    for chunk in _chunks(list(keys)):
        marks = ",".join("?" * len(chunk))
        found.update(conn.execute(f"{select_where} IN ({marks})", chunk).fetchall())
    return found


class _SQLiteWrite(WriteSession):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def receipts_for(self, change_ids: Sequence[str]) -> dict[str, str]:
        return _pairs(
            self._conn, "SELECT change_id, receipt FROM changes WHERE change_id", change_ids
        )

    def records_for(self, record_ids: Sequence[str]) -> dict[str, RecordRow]:
        return _records_for(self._conn, record_ids)

    def last_seq(self) -> int:
        return self._conn.execute("SELECT COALESCE(MAX(seq), 0) FROM records").fetchone()[0]

    def save(
        self,
        records: Iterable[RecordRow],
        changes: Iterable[ChangeRow],
        conflicts: Iterable[ConflictRow],
    ) -> None:
        records = list(records)
        # The office's read model (migration 0007) in the same statement: its columns come
        # from the data this write holds decoded already; `author` is kept from the insert.
        self._conn.executemany(
            "INSERT INTO records (id, entity, kelurahan, seq, deleted, data, clocks, hlc, nik,"
            " created_at, updated_at, quiet_device, author, visited_utc, purpose,"
            " review_state, beneficiary_id, request_status, status_since, name_key,"
            " verification_outcome)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET kelurahan = excluded.kelurahan, seq = excluded.seq,"
            " deleted = excluded.deleted, data = excluded.data, clocks = excluded.clocks,"
            " hlc = excluded.hlc, nik = excluded.nik, updated_at = excluded.updated_at,"
            " quiet_device = excluded.quiet_device,"
            " author = COALESCE(records.author, excluded.author),"
            " visited_utc = excluded.visited_utc, purpose = excluded.purpose,"
            " review_state = excluded.review_state, beneficiary_id = excluded.beneficiary_id,"
            " request_status = excluded.request_status, status_since = excluded.status_since,"
            " name_key = excluded.name_key,"
            " verification_outcome = excluded.verification_outcome",
            (
                (
                    r.id,
                    r.entity,
                    r.kelurahan,
                    r.seq,
                    int(r.deleted),
                    orjson.dumps(r.data).decode(),
                    _pack_clocks(r.clocks, r.seqs, r.seq),
                    r.hlc,
                    _nik(r),
                    r.created_at,
                    r.updated_at,
                    r.quiet_device,
                    r.author,
                    *read_columns(r),
                    verification_outcome(r),
                )
                for r in records
            ),
        )
        save_programs(self._conn, [r for r in records if r.entity == "beneficiary"])
        self._conn.executemany(
            "INSERT INTO changes (change_id, device_id, author_id, entity, record_id, hlc, fields,"
            " received_at, receipt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    c.change_id,
                    c.device_id,
                    c.author_id,
                    c.entity,
                    c.record_id,
                    c.hlc,
                    c.fields_json,
                    c.received_at,
                    c.receipt_json,
                )
                for c in changes
            ),
        )
        self._conn.executemany(
            "INSERT INTO conflicts (kind, record_id, entity, kelurahan, field, kept_value,"
            " kept_hlc, kept_device, kept_author, lost_value, lost_hlc, lost_device,"
            " lost_author, lost_change, other_record_id, seq, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    c.kind,
                    c.record_id,
                    c.entity,
                    c.kelurahan,
                    c.field,
                    _json(c.kept_value),
                    c.kept_hlc,
                    c.kept_device,
                    c.kept_author,
                    _json(c.lost_value),
                    c.lost_hlc,
                    c.lost_device,
                    c.lost_author,
                    c.lost_change,
                    c.other_record_id,
                    c.seq,
                    c.created_at,
                )
                for c in conflicts
            ),
        )

    def add_scope_exits(self, exits: Iterable[ScopeExit]) -> None:
        exits = list(exits)
        self._conn.executemany(
            "INSERT INTO scope_exits (seq, record_id, entity, old_kelurahan, new_kelurahan)"
            " VALUES (?, ?, ?, ?, ?)",
            ((e.seq, e.record_id, e.entity, e.old_kelurahan, e.new_kelurahan) for e in exits),
        )
        # A record's conflicts follow it: the office (and the laptops) of its new kelurahan
        # review them, the old one no longer sees its values.
        self._conn.executemany(
            "UPDATE conflicts SET kelurahan = ? WHERE record_id = ?",
            ((e.new_kelurahan, e.record_id) for e in sorted(exits, key=lambda e: e.seq)),
        )

    def beneficiaries_with_nik(self, niks: Sequence[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for chunk in _chunks(list(niks)):
            marks = ",".join("?" * len(chunk))
            for nik, record_id in self._conn.execute(
                f"SELECT nik, id FROM records WHERE nik IN ({marks}) ORDER BY seq", chunk
            ):
                found.setdefault(nik, []).append(record_id)
        return found

    def records_of_beneficiary(self, beneficiary_id: str) -> list[RecordRow]:
        rows = self._conn.execute(
            "SELECT id, entity, kelurahan, seq, deleted, data, clocks, created_at, updated_at,"
            " quiet_device, author FROM records WHERE entity != 'beneficiary' AND deleted = 0"
            " AND json_extract(data, '$.beneficiary_id') = ? ORDER BY seq",
            (beneficiary_id,),
        ).fetchall()
        return [_record(row) for row in rows]

    def users_of_devices(self, device_ids: Sequence[str]) -> dict[str, str]:
        return _pairs(
            self._conn, "SELECT device_id, user_name FROM devices WHERE device_id", device_ids
        )

    def conflict(self, conflict_id: int) -> ConflictRow:
        if not -(2**63) <= conflict_id < 2**63:  # no SQLite row can have such an id
            raise NotFound(f"no conflict {conflict_id}")
        found = _select_conflicts(self._conn, "conflict_id = ?", (conflict_id,))
        if not found:
            raise NotFound(f"no conflict {conflict_id}")
        return found[0]

    def resolve_conflict(
        self, conflict_id: int, when: str, by: str, seq: int, resolution: Any
    ) -> None:
        self._conn.execute(
            "UPDATE conflicts SET resolved_at = ?, resolved_by = ?, resolved_seq = ?,"
            " resolution = ? WHERE conflict_id = ?",
            (when, by, seq, _json(resolution), conflict_id),
        )

    def get_meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM hub_meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._conn.execute(
            "INSERT INTO hub_meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def touch_device(
        self, device_id: str, when: str, synced: bool, report: DeviceReport | None = None
    ) -> None:
        columns: list[str] = ["last_seen_at = ?"]
        params: list[Any] = [when]
        if synced:
            columns.append("last_sync_at = ?")
            params.append(when)
        if report is not None:
            columns.append("client_version = ?, queue_size = ?, reported_at = ?")
            params += [report.client_version, report.queue_size, when]
        self._conn.execute(
            f"UPDATE devices SET {', '.join(columns)} WHERE device_id = ?", [*params, device_id]
        )

    def last_audit(self) -> tuple[int, str] | None:
        row = self._conn.execute(
            "SELECT position, hash FROM audit ORDER BY position DESC LIMIT 1"
        ).fetchone()
        return (row[0], row[1]) if row else None

    def append_audit(self, entry: AuditEntry) -> None:
        self._conn.execute(
            "INSERT INTO audit (position, at, actor, device_id, action, detail, prev_hash, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry.position,
                entry.at,
                entry.actor,
                entry.device_id,
                entry.action,
                entry.detail,
                entry.prev_hash,
                entry.hash,
            ),
        )


class SQLiteStorage(HubStorage):
    """Hub storage in one SQLite file.

    :param path: the database file; its folder must exist.
    :param busy_timeout_ms: how long a writer waits for another before failing.
    :param limits_path: the file of the hub-wide limits; `limits.sqlite3` beside `path`.
    """

    def __init__(
        self,
        path: str | Path,
        busy_timeout_ms: int = 10_000,
        limits_path: str | Path | None = None,
    ) -> None:
        self.path = Path(path)
        self._busy_timeout_ms = busy_timeout_ms
        self._limits = SQLiteLimitStore(limits_path or self.path.with_name("limits.sqlite3"))
        self._connections = ThreadConnections(self.path, self._setup, "hub database")
        self._people = SQLitePeopleStore(
            self._transaction, self._conn, lambda conn, event: _SQLiteWrite(conn).audit(event)
        )
        self._office = SQLiteOfficeReads(self._conn, self.path)
        self._verification = SQLiteVerificationStore(
            self._transaction, self._conn, lambda conn, event: _SQLiteWrite(conn).audit(event)
        )
        self._jobs = SQLiteJobStore(
            self.path,
            self._transaction,
            self._conn,
            lambda conn, event: _SQLiteWrite(conn).audit(event),
            busy_timeout_ms,
        )
        #: this thread's bound on waiting for the writer (:meth:`waiting_for_writer`)
        self._local = threading.local()

    @classmethod
    def load_from_config(cls, config: dict[str, Any]) -> SQLiteStorage:
        return cls(Path(config["DATA_DIR"]) / "hub.sqlite3")

    # -- connections ----------------------------------------------------------------------

    def _setup(self, conn: sqlite3.Connection) -> None:
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
        ensure_wal(conn)
        # FULL, not NORMAL: a receipt tells a laptop it may forget a change, so a commit
        # the hub acknowledged must survive a power cut too.
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        # A checkpoint every 10,000 WAL pages (~40 MiB) rather than 1,000: each batch of new
        # records touches ~500 leaf pages of every UUID-keyed index, so a larger WAL copies
        # a page once for many commits (a push into a 100,000-record hub: 12.1 -> 10.3 s).
        # It runs after the commit, outside the write lock, so no push waits on it.
        conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")
        conn.execute(f"PRAGMA cache_size = -{PAGE_CACHE_KIB}")

    def _conn(self) -> sqlite3.Connection:
        return self._connections.get()

    def close(self) -> None:
        """Close every connection this storage opened, in any thread (at shutdown)."""
        self._connections.close()
        self._limits.close()

    @property
    def limits(self) -> LimitStore:
        return self._limits

    @property
    def people(self) -> PeopleStore:
        return self._people

    @property
    def office(self) -> OfficeReads:
        return self._office

    @property
    def jobs(self) -> JobStore:
        return self._jobs

    @property
    def verification(self) -> VerificationStore:
        return self._verification

    @contextmanager
    def waiting_for_writer(self, seconds: float) -> Iterator[WriterWait]:
        wait = WriterWait()
        outer = getattr(self._local, "wait", None)
        self._local.wait = (time.monotonic() + seconds, wait)
        try:
            yield wait
        finally:
            self._local.wait = outer

    def _begin(self, conn: sqlite3.Connection) -> None:
        """BEGIN IMMEDIATE: with the busy timeout, or polling until this thread's bound."""
        bound = getattr(self._local, "wait", None)
        if bound is None:
            conn.execute("BEGIN IMMEDIATE")
            return
        deadline, wait = bound
        conn.execute(f"PRAGMA busy_timeout = {_POLL_MS}")
        try:
            while True:
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    break
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) and "busy" not in str(exc):
                        raise
                    if time.monotonic() >= deadline:
                        raise WriterBusy(f"write lock not free in time: {exc}") from exc
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
        if wait.acquired_at is None:
            wait.acquired_at = time.monotonic()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        try:
            self._begin(conn)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot start a write: {exc}") from exc
        try:
            yield conn
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise StorageError(f"write failed and was rolled back: {exc}") from exc
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise StorageError(f"commit failed: {exc}") from exc

    def migrate(self) -> list[str]:
        self._limits.repair()  # ephemeral and unsynced: a damaged file is simply made anew
        return apply_migrations(self._conn())

    @contextmanager
    def write(self) -> Iterator[WriteSession]:
        with self._transaction() as conn:
            yield _SQLiteWrite(conn)

    # -- people and laptops -------------------------------------------------------------

    def add_user(self, user: User, created_at: str, audit: AuditEvent | None = None) -> None:
        with self._transaction() as conn:
            if conn.execute("SELECT 1 FROM users WHERE name = ?", (user.name,)).fetchone():
                raise AlreadyExists(f"user {user.name!r} exists already")
            conn.execute(
                "INSERT INTO users (name, role, wilayah, password_hash, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    user.name,
                    user.role,
                    json.dumps(list(user.wilayah)),
                    user.password_hash,
                    created_at,
                ),
            )
            if audit is not None:
                _SQLiteWrite(conn).audit(audit)

    def get_user(self, name: str) -> User:
        row = (
            self._conn()
            .execute("SELECT name, role, wilayah, password_hash FROM users WHERE name = ?", (name,))
            .fetchone()
        )
        if row is None:
            raise NotFound(f"no user {name!r}")
        return _user(*row)

    def list_users(self) -> list[User]:
        rows = (
            self._conn()
            .execute("SELECT name, role, wilayah, password_hash FROM users ORDER BY name")
            .fetchall()
        )
        return [_user(*row) for row in rows]

    def set_password_hash(
        self, name: str, password_hash: str | None, audit: AuditEvent | None = None
    ) -> None:
        with self._transaction() as conn:
            cursor = conn.execute(
                "UPDATE users SET password_hash = ? WHERE name = ?", (password_hash, name)
            )
            if cursor.rowcount == 0:
                raise NotFound(f"no user {name!r}")
            if audit is not None:
                _SQLiteWrite(conn).audit(audit)

    def end_web_sessions(self, name: str, at: int, audit: AuditEvent | None = None) -> None:
        with self._transaction() as conn:
            if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone() is None:
                return
            conn.execute(
                "INSERT INTO web_logouts (user_name, after) VALUES (?, ?)"
                " ON CONFLICT (user_name) DO UPDATE SET after = MAX(after, excluded.after)",
                (name, at),
            )
            if audit is not None:
                _SQLiteWrite(conn).audit(audit)

    def web_sessions_after(self, name: str) -> int:
        row = (
            self._conn()
            .execute("SELECT after FROM web_logouts WHERE user_name = ?", (name,))
            .fetchone()
        )
        return int(row[0]) if row else 0

    def add_enroll_code(
        self,
        code_hash: str,
        user_name: str,
        created_at: str,
        expires_at: str,
        audit: AuditEvent | None = None,
    ) -> None:
        self.get_user(user_name)
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO enroll_codes (code_hash, user_name, created_at, expires_at)"
                " VALUES (?, ?, ?, ?)",
                (code_hash, user_name, created_at, expires_at),
            )
            if audit is not None:
                _SQLiteWrite(conn).audit(audit)

    def redeem_enroll_code(
        self,
        code_hash: str,
        now: str,
        device_id: str,
        device_name: str,
        token_hash: str,
        audit: AuditEvent | None = None,
    ) -> Device:
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT user_name FROM enroll_codes WHERE code_hash = ? AND used_at IS NULL"
                " AND expires_at > ?",
                (code_hash, now),
            ).fetchone()
            if row is None:
                raise NotFound("enrolment code unknown, used or expired")
            conn.execute(
                "UPDATE enroll_codes SET used_at = ? WHERE code_hash = ?", (now, code_hash)
            )
            conn.execute(
                "INSERT INTO devices (device_id, user_name, name, token_hash, enrolled_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (device_id, row[0], device_name, token_hash, now),
            )
            if audit is not None:
                _SQLiteWrite(conn).audit(
                    dataclasses.replace(audit, actor=audit.actor or row[0], device_id=device_id)
                )
        return self._device_where("d.device_id = ?", device_id)

    def _device_where(self, where: str, value: str) -> Device:
        row = self._conn().execute(f"{_DEVICE_SELECT} WHERE {where}", (value,)).fetchone()
        if row is None:
            raise NotFound("no such device")
        return _device(row)

    def device_by_token(self, token_hash: str) -> Device:
        return self._device_where("d.token_hash = ?", token_hash)

    def list_devices(self) -> list[Device]:
        rows = self._conn().execute(f"{_DEVICE_SELECT} ORDER BY d.enrolled_at DESC").fetchall()
        return [_device(row) for row in rows]

    def get_device(self, device_id: str) -> Device:
        return self._device_where("d.device_id = ?", device_id)

    def revoke_device(self, device_id: str, when: str, audit: AuditEvent | None = None) -> bool:
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT revoked_at FROM devices WHERE device_id = ?", (device_id,)
            ).fetchone()
            if row is None:
                raise NotFound("no such device")
            if row[0] is not None:
                return False
            conn.execute("UPDATE devices SET revoked_at = ? WHERE device_id = ?", (when, device_id))
            if audit is not None:
                _SQLiteWrite(conn).audit(audit)
        return True

    def device_token_hash(self, device_id: str) -> str:
        row = (
            self._conn()
            .execute("SELECT token_hash FROM devices WHERE device_id = ?", (device_id,))
            .fetchone()
        )
        if row is None:
            raise NotFound("no such device")
        return row[0]

    def receipts_of_device(self, device_id: str, change_ids: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for chunk in _chunks(list(change_ids)):
            marks = ",".join("?" * len(chunk))
            found.update(
                self._conn().execute(
                    f"SELECT change_id, receipt FROM changes WHERE change_id IN ({marks})"
                    " AND device_id = ?",
                    [*chunk, device_id],
                )
            )
        return found

    # -- records --------------------------------------------------------------------------

    def pull(
        self,
        scopes: Sequence[str] | None,
        since: int,
        limit: int,
        skip_quiet_for: str | None = None,
    ) -> PullPage:
        where, params = _scope_sql(scopes)
        conn = self._conn()
        own = not conn.in_transaction  # one snapshot for the records and the exits
        if own:
            conn.execute("BEGIN")
        try:
            rows = _pull_rows(conn, scopes, where, params, since, limit + 1)
            more = len(rows) > limit
            rows = rows[:limit]
            exits = self._scope_exits(conn, scopes, since, rows[-1][_PULL_SEQ] if more else None)
        finally:
            if own:
                conn.execute("COMMIT")
        # entity and id are validated codes and UUIDs, data is stored JSON: no re-encoding.
        records = records_json(rows, skip_quiet_for)
        upto = rows[-1][_PULL_SEQ] if rows else since
        if exits and not more:
            upto = max(upto, exits[-1]["seq"])
        return PullPage(records, upto, more, exits)

    @staticmethod
    def _scope_exits(
        conn: sqlite3.Connection, scopes: Sequence[str] | None, since: int, upto: int | None
    ) -> list[dict[str, Any]]:
        """Exits above `since` (up to `upto`, if given) out of `scopes`, oldest first."""
        if not scopes:  # an admin sees everything; no scope at all held nothing
            return []
        was_in, old_params = _scope_sql(scopes, "old_kelurahan")
        now_in, new_params = _scope_sql(scopes, "new_kelurahan")
        bound, bound_params = ("AND seq <= ?", [upto]) if upto is not None else ("", [])
        rows = conn.execute(
            f"SELECT record_id, entity, seq FROM scope_exits WHERE seq > ? {bound}"
            f" AND {was_in} AND NOT {now_in} ORDER BY seq",
            [since, *bound_params, *old_params, *new_params],
        ).fetchall()
        return [{"id": i, "entity": e, "seq": s} for i, e, s in rows]

    def get_record(self, record_id: str) -> RecordRow:
        found = _records_for(self._conn(), [record_id])
        if record_id not in found:
            raise NotFound(f"no record {record_id}")
        return found[record_id]

    def iter_changes(self, record_id: str) -> Iterator[ChangeRow]:
        sql = (
            "SELECT change_id, device_id, author_id, entity, record_id, hlc, fields,"
            " received_at, receipt FROM changes WHERE record_id = ? ORDER BY rowid"
        )
        for row in self._conn().execute(sql, (record_id,)).fetchall():
            yield ChangeRow(*row)

    def list_conflicts(
        self,
        scopes: Sequence[str] | None,
        open_only: bool = True,
        limit: int = 100,
        after_id: int = 0,
    ) -> list[ConflictRow]:
        where, params = _scope_sql(scopes)
        if open_only:
            where += " AND resolved_at IS NULL"
        return _select_conflicts(
            self._conn(),
            f"conflict_id > ? AND {where} ORDER BY conflict_id LIMIT ?",
            [after_id, *params, limit],
        )

    def conflicts_for_device(
        self,
        device_id: str,
        since: int,
        upto: int,
        scopes: Sequence[str] | None = None,
    ) -> list[ConflictRow]:
        where, params = _scope_sql(scopes)
        return _select_conflicts(
            self._conn(),
            "(lost_device = ? OR kept_device = ?) AND ((seq > ? AND seq <= ?)"
            f" OR (resolved_seq > ? AND resolved_seq <= ?)) AND {where} ORDER BY conflict_id",
            (device_id, device_id, since, upto, since, upto, *params),
        )

    def stats(self) -> dict[str, Any]:
        conn = self._conn()
        records = dict(
            conn.execute(
                "SELECT entity, COUNT(*) FROM records WHERE deleted = 0 GROUP BY entity"
            ).fetchall()
        )
        return {
            "records": {e: records.get(e, 0) for e in ("beneficiary", "visit", "device_request")},
            "devices": conn.execute(
                "SELECT COUNT(*) FROM devices WHERE revoked_at IS NULL"
            ).fetchone()[0],
            "open_conflicts": conn.execute(
                "SELECT COUNT(*) FROM conflicts WHERE resolved_at IS NULL"
            ).fetchone()[0],
            "changes": conn.execute("SELECT COUNT(*) FROM changes").fetchone()[0],
            "last_seq": conn.execute("SELECT COALESCE(MAX(seq), 0) FROM records").fetchone()[0],
        }

    # -- the audit chain ------------------------------------------------------------------

    def iter_audit(self, after: int = 0, newest: int | None = None) -> Iterator[AuditEntry]:
        conn = self._conn()
        if newest is not None:
            if newest <= 0:
                return
            row = conn.execute(
                "SELECT position FROM audit WHERE position > ? ORDER BY position DESC"
                " LIMIT 1 OFFSET ?",
                (after, newest),
            ).fetchone()
            if row is not None:
                after = row[0]
        yield from read_audit(conn, after)


def read_audit(conn: sqlite3.Connection, after: int = 0) -> Iterator[AuditEntry]:
    """The audit entries of the database on `conn` above position `after`, as stored (also
    how a backup file's chain is read before it is trusted, server/storage/sqlite_backup.py).
    """
    # Read in pages: one long SELECT would hold a WAL snapshot (and the checkpoint)
    # open for as long as the caller takes; positions only grow, so paging is exact.
    while True:
        # Each column as its type and its bytes: a tampered BLOB or non-UTF-8 text
        # cannot fail the read; AuditEntry.from_stored marks such an entry.
        rows = conn.execute(
            "SELECT position, typeof(at), CAST(at AS BLOB), typeof(actor),"
            " CAST(actor AS BLOB), typeof(device_id), CAST(device_id AS BLOB),"
            " typeof(action), CAST(action AS BLOB), typeof(detail), CAST(detail AS BLOB),"
            " typeof(prev_hash), CAST(prev_hash AS BLOB), typeof(hash), CAST(hash AS BLOB)"
            " FROM audit WHERE position > ? ORDER BY position LIMIT 1000",
            (after,),
        ).fetchall()
        for row in rows:
            yield AuditEntry.from_stored(row)
        if len(rows) < 1000:
            return
        after = rows[-1][0]
