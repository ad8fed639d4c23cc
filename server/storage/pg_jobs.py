"""The PostgreSQL :class:`~server.storage.jobs.JobStore`: job runs and silent flags in the
hub's database (migration ``pg_migrations/0003_jobs.sql``, the same tables as SQLite's).

The twin of :mod:`server.storage.sqlite_jobs`. Claiming an occurrence is one
``INSERT ... ON CONFLICT DO NOTHING`` in a plain transaction: the primary key makes it
hub-wide exact, and it never waits behind a push. What the office sees changed (a run's
outcome, the silent flags) is written under the hub's write lock with its audit entry,
so the audit chain never forks.

There is no online backup here: a PostgreSQL database is backed up by PostgreSQL's own
tools (pg_dump, or the data centre's backups; docs/operations.md), so
:meth:`PgJobStore.backup_into` raises :class:`~server.storage.base.BackupUnsupported` and
the nightly job records that as its outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from server.audit import AuditEvent
from server.storage.base import BackupUnsupported
from server.storage.jobs import JobRun, JobStore, SilentDevice
from server.storage.pg_db import PgDatabase
from server.storage.pg_people import AuditInto, WriteOpener, default_audit_into

__all__ = ["PgJobStore"]

_RUN_COLUMNS = "job_id, scheduled_for, owner, started_at, finished_at, outcome, message"


class PgJobStore(JobStore):
    """:param db: the hub's database.
    :param write: opens a write transaction; default ``db.write``.
    :param audit: appends an event inside a write; default ``server.storage.pg.audit_into``.
    """

    file_backups: ClassVar[bool] = False

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

    # -- job runs -------------------------------------------------------------------------

    def claim_run(self, job_id: str, scheduled_for: str, owner: str, now: str) -> bool:
        with self._db.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO job_runs (job_id, scheduled_for, owner, started_at)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (job_id, scheduled_for) DO NOTHING",
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
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE job_runs SET outcome = %s, message = %s, finished_at = %s"
                " WHERE job_id = %s AND scheduled_for = %s AND outcome = 'running'",
                (outcome, message, now, job_id, scheduled_for),
            )
            if cursor.rowcount != 1:
                return False
            self._audit(conn, audit)
            return True

    def last_runs(self) -> dict[str, JobRun]:
        with self._db.read() as conn:
            rows = conn.execute(
                f"SELECT DISTINCT ON (job_id) {_RUN_COLUMNS} FROM job_runs"
                " ORDER BY job_id, scheduled_for DESC"
            ).fetchall()
        return {row[0]: JobRun(*row) for row in rows}

    def runs(self, job_id: str, limit: int = 50) -> list[JobRun]:
        with self._db.read() as conn:
            rows = conn.execute(
                f"SELECT {_RUN_COLUMNS} FROM job_runs WHERE job_id = %s"
                " ORDER BY scheduled_for DESC LIMIT %s",
                (job_id, limit),
            ).fetchall()
        return [JobRun(*row) for row in rows]

    def running(self) -> list[JobRun]:
        with self._db.read() as conn:
            rows = conn.execute(
                f"SELECT {_RUN_COLUMNS} FROM job_runs WHERE outcome = 'running'"
                " ORDER BY started_at, job_id, scheduled_for"
            ).fetchall()
        return [JobRun(*row) for row in rows]

    # -- silent laptops -------------------------------------------------------------------

    def set_silent_devices(
        self, device_ids: Sequence[str], now: str, audit: AuditEvent
    ) -> tuple[int, int]:
        wanted = set(device_ids)
        with self._write() as conn:
            flagged = {
                row[0] for row in conn.execute("SELECT device_id FROM silent_devices").fetchall()
            }
            new = sorted(wanted - flagged)
            gone = sorted(flagged - wanted)
            if gone:
                conn.execute("DELETE FROM silent_devices WHERE device_id = ANY(%s)", (gone,))
            if new:
                with conn.cursor() as cursor:
                    cursor.executemany(
                        "INSERT INTO silent_devices (device_id, flagged_at) VALUES (%s, %s)",
                        [(d, now) for d in new],
                    )
            detail = {**audit.detail, "flagged": len(new), "cleared": len(gone)}
            detail["silent"] = len(wanted)
            self._audit(
                conn, AuditEvent(audit.at, audit.actor, audit.action, detail, audit.device_id)
            )
        return len(new), len(gone)

    def silent_devices(self) -> list[SilentDevice]:
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT s.device_id, d.name, d.user_name, d.last_sync_at, s.flagged_at"
                " FROM silent_devices s JOIN devices d ON d.device_id = s.device_id"
                " ORDER BY s.flagged_at, d.name"
            ).fetchall()
        return [SilentDevice(*row) for row in rows]

    # -- no online backup -----------------------------------------------------------------

    def backup_into(self, path: Path) -> None:
        raise BackupUnsupported(
            "a PostgreSQL hub database is backed up with pg_dump or the data centre's own"
            f" backups (docs/operations.md), not copied by the hub; nothing written to {path}"
        )
