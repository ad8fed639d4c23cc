"""When a hub job runs: its crontab line from the configuration, read as APScheduler triggers.

A line is the usual five crontab fields (minute hour day month weekday), or six with the
seconds first (how the tests run a job every two seconds); an empty line or ``off`` turns the
job off. Write weekdays as names (``mon-fri``): as numbers APScheduler counts from Monday = 0,
unlike crontab. Times are in a fixed offset from UTC (WIB is +7): Indonesia keeps no daylight
saving, and a fixed offset needs no time-zone database (Windows has none without ``tzdata``).

The occurrence a firing belongs to is its nominal time, the same in every hub process
(:func:`latest_occurrence`), which is what makes it a key all processes agree on.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo

from apscheduler.triggers.cron import CronTrigger

__all__ = ["ScheduleError", "hub_timezone", "latest_occurrence", "parse_schedule"]

_FIELDS = ("second", "minute", "hour", "day", "month", "day_of_week")


class ScheduleError(ValueError):
    """A schedule line that is not a crontab line; the message names the setting."""


def hub_timezone(offset_hours: float) -> tzinfo:
    """The jobs' clock: UTC plus `offset_hours` (7: WIB, 8: WITA, 9: WIT)."""
    return timezone(timedelta(hours=offset_hours))


def parse_schedule(setting: str, line: str | None, tz: tzinfo) -> CronTrigger | None:
    """The trigger of the crontab `line` of `setting`; None when the job is off.

    :raises ScheduleError: not five or six crontab fields, or a field APScheduler refuses.
    """
    text = (line or "").strip()
    if not text or text.lower() == "off":
        return None
    parts = text.split()
    if len(parts) == 5:
        parts = ["0", *parts]
    if len(parts) != 6:
        raise ScheduleError(
            f"{setting}: jadwal harus 5 kolom crontab (menit jam tanggal bulan hari), "
            f"atau 6 dengan detik di depan; tertulis {text!r}."
        )
    fields = dict(zip(_FIELDS, parts, strict=True))
    try:
        return CronTrigger(timezone=tz, **fields)
    except ValueError as exc:
        raise ScheduleError(f"{setting}: jadwal {text!r} tidak sah: {exc}") from None


def latest_occurrence(trigger: CronTrigger, now: datetime, within_s: float) -> datetime | None:
    """The latest time `trigger` fires at or before `now`, if within `within_s` seconds;
    None when it does not fire in that window."""
    start = now - timedelta(seconds=within_s)
    found = None
    moment = trigger.get_next_fire_time(None, start)
    while moment is not None and moment <= now:
        found = moment
        moment = trigger.get_next_fire_time(moment, moment + timedelta(microseconds=1))
    return found
