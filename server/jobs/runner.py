"""Who runs the hub's jobs: one process at a time, picked by a lease, each occurrence once.

Every `pendamping-hub serve` process (each gunicorn worker, each waitress service) runs a
:class:`JobRunner`: an APScheduler 3 ``BackgroundScheduler`` that fires every job on time.
A firing does the job only in the process holding the lease ``jobs`` in the hub's limits
(:meth:`~server.storage.LimitStore.take_lease`; renewed every third of
``JOBS_LEASE_TTL_S``), so the others stay idle; a holder that dies stops renewing, and
another process takes the lease when it lapses.

The lease picks the runner; the occurrence's claim in the hub database
(:meth:`~server.storage.JobStore.claim_run`, keyed by job and nominal time) is the fence:
a holder that stalled past its lease and wakes up finds the occurrence claimed by its
successor and does not run it again. A process that takes the lease marks runs of dead
holders *interrupted*, and runs each job's latest occurrence of the last
``JOBS_CATCH_UP_S`` that nobody claimed (missed while no hub ran, or while the lease
changed hands).

A job's failure is logged and recorded (outcome ``failed``, audited) and never leaves the
job's thread: the serve process goes on serving.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from server.audit import AuditEvent
from server.jobs.schedule import latest_occurrence
from server.jobs.tasks import JobContext
from server.storage import HubStorage, JobRun, StorageError
from server.timeutil import utc_iso

__all__ = ["LEASE", "Job", "JobRunner", "owner_id"]

log = logging.getLogger(__name__)

#: the lease's name in the limits
LEASE = "jobs"
#: how late a firing may come (a busy process) and still count as its occurrence, seconds
_LATE_S = 60.0
_MESSAGE_MAX = 500


@dataclass(frozen=True)
class Job:
    """One of the hub's jobs as configured.

    :ivar trigger: when it runs; None when it does not (then `skipped` says why).
    """

    job_id: str
    title: str
    setting: str
    func: Callable[[JobContext], str] | None
    trigger: CronTrigger | None
    skipped: str | None = None

    @property
    def active(self) -> bool:
        return self.func is not None and self.trigger is not None


def owner_id() -> str:
    """This process, as a lease owner and a run's owner: ``host:pid:token``."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class JobRunner:
    """The jobs of one hub process.

    :param jobs: the hub's jobs (inactive ones are listed, never fired).
    :param wall: wall-clock seconds (the lease's clock; tests move it by hand).
    """

    def __init__(
        self,
        storage: HubStorage,
        jobs: Sequence[Job],
        config: Mapping[str, Any],
        data_dir: Path,
        tz: tzinfo,
        *,
        owner: str | None = None,
        lease_ttl_s: float = 30.0,
        catch_up_s: float = 12 * 3600.0,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.storage = storage
        self.jobs = list(jobs)
        self.config = config
        self.data_dir = data_dir
        self.tz = tz
        self.owner = owner or owner_id()
        self.lease_ttl_s = lease_ttl_s
        self.catch_up_s = catch_up_s
        self._wall = wall
        self._held = False
        self._lock = threading.Lock()
        self._scheduler: BackgroundScheduler | None = None

    # -- the scheduler --------------------------------------------------------------------

    def start(self) -> None:
        """Fire the active jobs on time, and hold the lease (renewed in the background)."""
        scheduler = BackgroundScheduler(
            timezone=self.tz,
            executors={"default": ThreadPoolExecutor(4)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": _LATE_S},
        )
        scheduler.add_job(
            self.heartbeat,
            IntervalTrigger(seconds=max(0.5, self.lease_ttl_s / 3)),
            id="lease",
            next_run_time=datetime.now(self.tz),
        )
        for job in self.jobs:
            if job.active:
                scheduler.add_job(self._fire, job.trigger, args=[job], id=job.job_id)
        self._scheduler = scheduler
        scheduler.start()

    def stop(self) -> None:
        """Stop firing and give the lease up, so another process takes it at once."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        with contextlib.suppress(StorageError):  # else it lapses by itself
            self.storage.limits.release_lease(LEASE, self.owner)
        self._held = False

    # -- the lease ------------------------------------------------------------------------

    def heartbeat(self) -> bool:
        """Take or renew the lease. Taking it over runs what the last holder left.

        :returns: whether this process holds it now.
        """
        try:
            held = self.storage.limits.take_lease(LEASE, self.owner, self._wall(), self.lease_ttl_s)
        except StorageError as exc:
            log.warning("sewa tugas hub tidak dapat diperbarui: %s", exc)
            held = False
        with self._lock:
            taken, self._held = held and not self._held, held
        if taken:
            log.info("proses %s menjalankan tugas hub", self.owner)
            self._took_over()
        return held

    def holds_lease(self) -> bool:
        """Whether this process holds the lease now, as the limits say (not as it hopes)."""
        try:
            holder = self.storage.limits.lease_holder(LEASE, self._wall())
        except StorageError:
            return False
        return holder is not None and holder[0] == self.owner

    def _took_over(self) -> None:
        try:
            for run in self.storage.jobs.running():
                if run.owner != self.owner:
                    self._finish(
                        run.job_id,
                        run.scheduled_for,
                        "interrupted",
                        f"proses {run.owner} berhenti sebelum tugas selesai",
                    )
        except StorageError as exc:
            log.warning("tugas yang terputus tidak dapat ditandai: %s", exc)
        now = datetime.now(self.tz)
        for job in self.jobs:
            if job.active:
                assert job.trigger is not None
                missed = latest_occurrence(job.trigger, now, self.catch_up_s)
                if missed is not None:
                    self._submit(job, missed)

    def _submit(self, job: Job, occurrence: datetime) -> None:
        """Run an occurrence in the scheduler's threads (or here, with no scheduler)."""
        if self._scheduler is None:
            self.run(job, occurrence)
        else:
            self._scheduler.add_job(
                self.run,
                args=[job, occurrence],
                id=f"catch-up-{job.job_id}",
                replace_existing=True,
            )

    # -- runs -----------------------------------------------------------------------------

    def _fire(self, job: Job) -> None:
        assert job.trigger is not None
        occurrence = latest_occurrence(job.trigger, datetime.now(self.tz), _LATE_S)
        if occurrence is not None:
            self.run(job, occurrence)

    def run(self, job: Job, occurrence: datetime) -> JobRun | None:
        """Run `job` for `occurrence` if this process holds the lease and is the first to
        claim the occurrence; record its outcome, audited. Never raises.

        :returns: the run as recorded; None when it was not this process's to run.
        """
        if job.func is None or not self.holds_lease():
            return None
        key = utc_iso(occurrence)
        try:
            if not self.storage.jobs.claim_run(job.job_id, key, self.owner, utc_iso()):
                return None
        except StorageError as exc:
            log.warning("tugas %s (%s) tidak dapat diklaim: %s", job.job_id, key, exc)
            return None
        context = JobContext(self.storage, self.config, self.data_dir, occurrence, self.tz)
        try:
            message, outcome = job.func(context), "ok"
            log.info("tugas %s (%s) selesai: %s", job.job_id, key, message)
        except Exception as exc:  # a job's failure is recorded, never the process's end
            log.exception("tugas %s (%s) gagal", job.job_id, key)
            message, outcome = f"{type(exc).__name__}: {exc}", "failed"
        self._finish(job.job_id, key, outcome, message)
        return self.storage.jobs.last_runs().get(job.job_id)

    def _finish(self, job_id: str, key: str, outcome: str, message: str) -> None:
        message = message[:_MESSAGE_MAX]
        now = utc_iso()
        detail = {"job": job_id, "scheduled_for": key, "outcome": outcome, "message": message}
        try:
            self.storage.jobs.finish_run(
                job_id, key, outcome, message, now, AuditEvent(now, "hub", "job_run", detail)
            )
        except StorageError as exc:
            log.error("hasil tugas %s (%s) tidak dapat dicatat: %s", job_id, key, exc)
