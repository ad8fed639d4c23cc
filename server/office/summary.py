"""Ringkasan: the office's day at a glance, in the caller's scope.

Laptops are few (hundreds) and are counted from :meth:`HubStorage.list_devices`; everything
about records comes from the read model's indexes (server/storage/office.py), so the page
costs the same with 100,000 visits as with 100.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from server.office.queries import OfficeQueries
from server.scope import Scope
from server.storage import Device
from server.storage.office import ProgramCoverage, RecordFilter, StatusCount

__all__ = ["Summary", "is_silent", "summary"]


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


def _instant(iso: str | None) -> dt.datetime | None:
    if not iso:
        return None
    try:
        moment = dt.datetime.fromisoformat(iso)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def is_silent(device: Device, now: dt.datetime, days: int) -> bool:
    """A laptop the office should chase: not revoked, and not heard from (a push or a pull)
    for more than `days` days, or never at all since it was enrolled."""
    if device.revoked_at is not None:
        return False
    heard = [t for t in (_instant(device.last_seen_at), _instant(device.last_sync_at)) if t]
    if not heard:
        return True
    return now - max(heard) > dt.timedelta(days=days)


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
    return Summary(
        laptops=len(devices),
        syncs_today=synced_today,
        silent_laptops=sum(1 for d in devices if is_silent(d, now, silent_days)),
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
    )
