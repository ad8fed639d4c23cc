"""Who is due a visit: the rule of the office's Cakupan page and of the laptop's Beranda.

A beneficiary of a programme is *due* when no live visit of theirs has its `visited_at` at
or after :func:`coverage_since` (now minus :data:`COVERAGE_DAYS` days, to the second, in
UTC). Any live visit counts, whatever its purpose or the office's review of it (a visit the
office returned for correction still happened); a deleted one does not. The hub applies the
rule in SQL over its read model (server/storage/sqlite_office.py, `_VISITED_SINCE`), the
laptop over its own (client_sync/store/views.py); both take the moment and the visit's
instant from here, so the two lists cannot drift apart. No I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "COVERAGE_DAYS",
    "FIRST_PROGRAMS",
    "coverage_since",
    "instant_text",
    "is_recent_visit",
    "utc_instant",
]

#: "not visited in the last 30 days" (DESIGN.md §8)
COVERAGE_DAYS = 30
#: the monthly-paid programmes, always listed first (DESIGN.md §1)
FIRST_PROGRAMS: tuple[str, ...] = ("KLJ", "KPDJ", "KAJ")
_INSTANT = "%Y-%m-%dT%H:%M:%SZ"
#: `YYYY-MM-DDTHH:MM:SS[.ffffff]` (year 1000 on: strftime pads no shorter year) with `Z` or
#: a whole-hour offset east of UTC: the hour and the zone. The same fast path as the hub's
#: (branch wt-cpu, server/storage/read_columns.py): one rule, held equal to the conversion
#: by a Hypothesis test (tests/schemas/test_name_keys_and_coverage.py).
_EAST_OFFSET = re.compile(
    r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T([0-9]{2}):[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?"
    r"(Z|\+[0-9]{2}:00)"
)


def coverage_since(now: dt.datetime, days: int = COVERAGE_DAYS) -> dt.datetime:
    """The moment a visit must be at or after to count: `days` days before `now`."""
    return now - dt.timedelta(days=days)


def instant_text(moment: dt.datetime) -> str:
    """A moment as the read models store a visit's time: UTC ``YYYY-MM-DDTHH:MM:SSZ``,
    sortable as text (a naive moment is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime(_INSTANT)


def utc_instant(value: Any) -> str | None:
    """An ISO instant with any offset (a visit's `visited_at`) as :func:`instant_text`
    gives it, as SQLite's ``strftime('%Y-%m-%dT%H:%M:%SZ', value)`` does; None when it is
    not one."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    # The common case, a visit's time as the laptop writes it (`+07:00`, whole hours east
    # of UTC, `Z`) on the same day in UTC: the hour moved back by text, a fifth of the cost
    # of converting (once per visit pulled or recorded). Anything else converts below.
    shape = _EAST_OFFSET.fullmatch(value)
    if shape is not None:
        hour, zone = int(shape[1]), shape[2]
        offset = 0 if zone == "Z" else int(zone[1:3])
        if hour >= offset:
            return f"{value[:11]}{hour - offset:02d}{value[13:19]}Z"
    return instant_text(moment)


def is_recent_visit(visit: Mapping[str, Any], beneficiary_id: str, since: dt.datetime) -> bool:
    """Whether `visit` (a live visit record's fields) keeps `beneficiary_id` off the due list
    for the window starting at `since`: it is theirs and visited at or after `since`."""
    if visit.get("beneficiary_id") != beneficiary_id:
        return False
    instant = utc_instant(visit.get("visited_at"))
    return instant is not None and instant >= instant_text(since)
