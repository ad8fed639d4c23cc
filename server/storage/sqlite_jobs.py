"""The SQLite :class:`~server.storage.jobs.JobStore`: job runs and silent flags in the hub's
database (migration 0008), and the online backup through SQLite's backup API.

It shares the hub database's connections and write transactions (``BEGIN IMMEDIATE``) with
:class:`~server.storage.sqlite.SQLiteStorage`, which builds it; the backup reads through a
connection of its own, so the copy is one snapshot however long the pushes go on.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path

from server.audit import AuditEvent
from server.storage.base import StorageError
from server.storage.jobs import JobRun, JobStore, SilentDevice

__all__ = ["SQLiteJobStore"]

_RUN_COLUMNS = "job_id, scheduled_for, owner, started_at, finished_at, outcome, message"


class SQLiteJobStore(JobStore):
    """:param path: the hub database file (for the backup's own connection).
    :param transaction: a write transaction on the hub database (commits on a clean exit).
    :param connection: this thread's connection, for reads.
    :param append_audit: appends an event to the audit chain on a connection in a write.
    :param busy_timeout_ms: the backup connection's wait for a lock.
    """

    def __init__(
        self,
        path: Path,
        transaction: Callable[[], AbstractContextManager[sqlite3.Connection]],
        connection: Callable[[], sqlite3.Connection],
        append_audit: Callable[[sqlite3.Connection, AuditEvent], object],
        busy_timeout_ms: int = 10_000,
    ) -> None:
        self._path = path
        self._transaction = transaction
        self._conn = connection
        self._append_audit = append_audit
        self._busy_timeout_ms = busy_timeout_ms

    # -- job runs -------------------------------------------------------------------------

    def claim_run(self, job_id: str, scheduled_for: str, owner: str, now: str) -> bool:
        with self._transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO job_runs (job_id, scheduled_for, owner, started_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (job_id, scheduled_for) DO NOTHING",
                (job_id, scheduled_for, owner, now),
            )
            return cursor.rowcount == 1

    def finish_run(
        self,
        job_id: str,
        scheduled_for: str,
        outcome: str,
        message: str,
        now: str,
        audit: AuditEvent,
    ) -> bool:
        with self._transaction() as conn:
            cursor = conn.execute(
                "UPDATE job_runs SET outcome = ?, message = ?, finished_at = ?"
                " WHERE job_id = ? AND scheduled_for = ? AND outcome = 'running'",
                (outcome, message, now, job_id, scheduled_for),
            )
            if cursor.rowcount != 1:
                return False
            self._append_audit(conn, audit)
            return True

    def last_runs(self) -> dict[str, JobRun]:
        rows = (
            self._conn()
            .execute(
                f"SELECT {_RUN_COLUMNS} FROM job_runs r WHERE scheduled_for ="
                " (SELECT max(scheduled_for) FROM job_runs WHERE job_id = r.job_id)"
            )
            .fetchall()
        )
        return {row[0]: JobRun(*row) for row in rows}

    def runs(self, job_id: str, limit: int = 50) -> list[JobRun]:
        rows = (
            self._conn()
            .execute(
                f"SELECT {_RUN_COLUMNS} FROM job_runs WHERE job_id = ?"
                " ORDER BY scheduled_for DESC LIMIT ?",
                (job_id, limit),
            )
            .fetchall()
        )
        return [JobRun(*row) for row in rows]

    def running(self) -> list[JobRun]:
        rows = (
            self._conn()
            .execute(
                f"SELECT {_RUN_COLUMNS} FROM job_runs WHERE outcome = 'running' ORDER BY started_at"
            )
            .fetchall()
        )
        return [JobRun(*row) for row in rows]

    # -- silent laptops -------------------------------------------------------------------

    def set_silent_devices(
        self, device_ids: Sequence[str], now: str, audit: AuditEvent
    ) -> tuple[int, int]:
        wanted = set(device_ids)
        with self._transaction() as conn:
            flagged = {row[0] for row in conn.execute("SELECT device_id FROM silent_devices")}
            new = sorted(wanted - flagged)
            gone = sorted(flagged - wanted)
            conn.executemany("DELETE FROM silent_devices WHERE device_id = ?", ((d,) for d in gone))
            conn.executemany(
                "INSERT INTO silent_devices (device_id, flagged_at) VALUES (?, ?)",
                ((d, now) for d in new),
            )
            detail = {**audit.detail, "flagged": len(new), "cleared": len(gone)}
            detail["silent"] = len(wanted)
            self._append_audit(
                conn, AuditEvent(audit.at, audit.actor, audit.action, detail, audit.device_id)
            )
        return len(new), len(gone)

    def silent_devices(self) -> list[SilentDevice]:
        rows = (
            self._conn()
            .execute(
                "SELECT s.device_id, d.name, d.user_name, d.last_sync_at, s.flagged_at"
                " FROM silent_devices s JOIN devices d ON d.device_id = s.device_id"
                " ORDER BY s.flagged_at, d.name"
            )
            .fetchall()
        )
        return [SilentDevice(*row) for row in rows]

    # -- the online backup ----------------------------------------------------------------

    def backup_into(self, path: Path) -> None:
        if path.exists():
            raise StorageError(f"backup target {path} exists already")
        try:
            source = sqlite3.connect(self._path, isolation_level=None)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the hub database {self._path}: {exc}") from exc
        try:
            source.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            target = sqlite3.connect(path, isolation_level=None)
            try:
                # All pages in one step: one read transaction, so one snapshot. (A copy in
                # several steps restarts whenever another connection writes in between,
                # and a hub that laptops push to would never finish it.)
                source.backup(target, pages=-1)
                # One self-contained file: a copy in WAL mode would want its -wal beside it.
                target.execute("PRAGMA journal_mode = DELETE")
            finally:
                target.close()
        except sqlite3.Error as exc:
            raise StorageError(f"online backup into {path} failed: {exc}") from exc
        finally:
            source.close()
