"""Ringkasan: the office's day at a glance, in the caller's scope.

Laptops are few (hundreds) and are counted from :meth:`HubStorage.list_devices`; everything
about records comes from the read model's indexes (server/storage/office.py), so the page
costs the same with 100,000 visits as with 100.

Silent laptops are counted by the live rule (:func:`is_silent`), the one the Pendamping &
perangkat page and the daily ``silent_laptops`` job apply, so the Ringkasan's number is the
devices page's at any moment; the job's flags (``storage.jobs.silent_devices()``, kept once a
day) only add since when each laptop has been flagged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from server.office.queries import OfficeQueries
from server.scope import Scope
from server.storage import Device
from server.storage.jobs import SilentDevice
from server.storage.office import ProgramCoverage, RecordFilter, StatusCount

__all__ = ["SilentLaptop", "Summary", "is_silent", "summary"]


@dataclass(frozen=True, slots=True)
class SilentLaptop:
    """A silent laptop as the Ringkasan lists it."""

    device_id: str
    name: str
    user: str
    last_sync_at: str | None
    #: when the daily job first flagged it (None: silent since the job last ran, or the
    #: job has not run yet)
    flagged_at: str | None


@dataclass(frozen=True, slots=True)
class Summary:
    """The counts of the Ringkasan page."""

    #: laptops in scope (not revoked), and how many pushed today (the office's day)
    laptops: int
    syncs_today: int
    #: laptops not heard from for more than `silent_days`, or never since enrolment
    silent_laptops: int
    silent_days: int
    open_conflicts: int
    #: visits whose review state is menunggu
    visits_waiting: int
    #: per status (lifecycle order): the count and the age in days of the oldest
    requests: list[tuple[StatusCount, int]]
    visits_this_month: int
    visits_last_month: int
    #: per programme (KLJ, KPDJ, KAJ first): enrolled in scope, and visited this month
    coverage: list[ProgramCoverage]
    #: the month labels (``2026-01``) of this month and the last
    this_month: str = ""
    last_month: str = ""
    #: the silent laptops themselves, longest unheard first (never synced before all)
    silent: list[SilentLaptop] = field(default_factory=list)


def _instant(iso: str | None) -> dt.datetime | None:
    if not iso:
        return None
    try:
        moment = dt.datetime.fromisoformat(iso)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def is_silent(device: Device, now: dt.datetime, days: int) -> bool:
    """A laptop the office should chase: not revoked, and never synced since it was enrolled
    or not heard from (a sync or any call) for more than `days` days. The rule of the
    laptops table (server/web/laptops.py) and of the daily job (server/jobs/tasks.py)."""
    if device.revoked_at is not None:
        return False
    heard = [t for t in (_instant(device.last_seen_at), _instant(device.last_sync_at)) if t]
    if device.last_sync_at is None or not heard:
        return True
    return now - max(heard) > dt.timedelta(days=days)


def _silent_list(
    devices: list[Device], flags: list[SilentDevice], now: dt.datetime, days: int
) -> list[SilentLaptop]:
    flagged = {f.device_id: f.flagged_at for f in flags}
    silent = [d for d in devices if is_silent(d, now, days)]
    silent.sort(key=lambda d: (d.last_sync_at is not None, d.last_sync_at or "", d.name))
    return [
        SilentLaptop(d.device_id, d.name, d.user.name, d.last_sync_at, flagged.get(d.device_id))
        for d in silent
    ]


def summary(queries: OfficeQueries, scope: Scope, silent_days: int = 7) -> Summary:
    """The Ringkasan of `scope` now."""
    now = queries.now()
    calendar = queries.calendar
    today = calendar.today(now)
    this_month, last_month = calendar.this_month(now), calendar.last_month(now)
    devices = [
        d
        for d in queries.storage.list_devices()
        if d.revoked_at is None and scope.covers_any(d.user.wilayah)
    ]
    synced_today = 0
    for device in devices:
        synced = _instant(device.last_sync_at)
        if synced is not None and today.start <= synced < today.end:
            synced_today += 1
    office = queries.storage.office
    prefixes = scope.prefixes
    by_program = {c.program: c for c in office.coverage(prefixes, this_month.start, this_month.end)}
    silent = _silent_list(devices, queries.storage.jobs.silent_devices(), now, silent_days)
    return Summary(
        laptops=len(devices),
        syncs_today=synced_today,
        silent_laptops=len(silent),
        silent_days=silent_days,
        open_conflicts=office.count_open_conflicts(prefixes),
        visits_waiting=office.count_visits(prefixes, RecordFilter(review_state="menunggu")),
        requests=queries.requests_by_status(scope),
        visits_this_month=office.count_visits(
            prefixes, RecordFilter(start=this_month.start, end=this_month.end)
        ),
        visits_last_month=office.count_visits(
            prefixes, RecordFilter(start=last_month.start, end=last_month.end)
        ),
        coverage=[
            by_program.get(program, ProgramCoverage(program, 0, 0))
            for program in [*queries.programs, *sorted(set(by_program) - set(queries.programs))]
        ],
        this_month=this_month.label,
        last_month=last_month.label,
        silent=silent,
    )
