"""What the hub's scheduled jobs keep in storage: the :class:`JobStore` facet.

Reached as :attr:`server.storage.HubStorage.jobs`. The policy (when a job runs, which
laptop is silent, how many backups stay) is in :mod:`server.jobs`; a store only keeps
each job occurrence's claim and outcome, the silent-laptop flags, and makes the online
backup of the database, each change atomic and, where it is an office-visible write,
audited in the same transaction.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from server.audit import AuditEvent

__all__ = ["OUTCOMES", "JobRun", "JobStore", "SilentDevice"]

#: a run's outcome: still running (or its process died), done, raised, or given up
#: by the process that took over from a dead one
OUTCOMES = ("running", "ok", "failed", "interrupted")


@dataclass(frozen=True, slots=True)
class JobRun:
    """One occurrence of a job, claimed by the process that runs it."""

    job_id: str
    scheduled_for: str
    owner: str
    started_at: str
    finished_at: str | None
    outcome: str
    message: str


@dataclass(frozen=True, slots=True)
class SilentDevice:
    """A laptop the daily job flagged as silent, with what the office needs to chase it."""

    device_id: str
    device_name: str
    user_name: str
    last_sync_at: str | None
    flagged_at: str


class JobStore(abc.ABC):
    """Job runs, silent-laptop flags and the online backup, shared by every process."""

    #: whether :meth:`backup_into` copies the database into a file; False for a database
    #: its server's own tools back up (PostgreSQL), whose ``backup_into`` raises
    #: :class:`~server.storage.base.BackupUnsupported`
    file_backups: ClassVar[bool] = True

    @abc.abstractmethod
    def claim_run(self, job_id: str, scheduled_for: str, owner: str, now: str) -> bool:
        """Claim one occurrence of a job for `owner`, atomically hub-wide.

        :returns: True when this call claimed it; False when it was claimed already (by
            anyone, `owner` included): the caller must not run it.
        """

    @abc.abstractmethod
    def finish_run(
        self,
        job_id: str,
        scheduled_for: str,
        outcome: str,
        message: str,
        now: str,
        audit: AuditEvent,
    ) -> bool:
        """Record how a running occurrence ended, with `audit` in the same transaction.

        :returns: True when it was running and is now recorded; False (nothing written, no
            entry appended) when it is unknown or was finished already.
        """

    @abc.abstractmethod
    def last_runs(self) -> dict[str, JobRun]:
        """:returns: each job's latest occurrence (by `scheduled_for`), by job id."""

    @abc.abstractmethod
    def runs(self, job_id: str, limit: int = 50) -> list[JobRun]:
        """The latest `limit` occurrences of a job, newest first."""

    @abc.abstractmethod
    def running(self) -> list[JobRun]:
        """Occurrences still marked running, oldest first."""

    @abc.abstractmethod
    def set_silent_devices(
        self, device_ids: Sequence[str], now: str, audit: AuditEvent
    ) -> tuple[int, int]:
        """Make the flagged laptops exactly `device_ids`: a laptop flagged before keeps its
        first `flagged_at`, a new one is flagged at `now`, the others are cleared. `audit`
        is appended in the same transaction, its detail completed with ``flagged`` (new),
        ``cleared`` and ``silent`` (the total).

        :returns: (newly flagged, cleared).
        """

    @abc.abstractmethod
    def silent_devices(self) -> list[SilentDevice]:
        """The flagged laptops, longest flagged first (what the Ringkasan page shows)."""

    @abc.abstractmethod
    def backup_into(self, path: Path) -> None:
        """Write a consistent copy of the whole hub database into the new file `path`,
        while the hub serves (writes go on; the copy is one snapshot).

        :raises BackupUnsupported: this backend makes no file backups (:attr:`file_backups`
            is False); nothing is written.
        :raises StorageError: the copy could not be made (`path` may be left half
            written: the caller writes to a temporary name).
        """
