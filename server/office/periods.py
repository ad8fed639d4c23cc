"""Days and months as the district office means them: in its own time zone.

The hub keeps instants in UTC; "today", "this month" and `--month 2026-01` are the office's
calendar (`WEB_UTC_OFFSET_HOURS`, 7 for WIB), turned here into UTC bounds for the read
model's queries. A value the office typed that is not a day or a month is refused naming
its field, in Indonesian.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from server.exceptions import Invalid

__all__ = ["OfficeCalendar", "Period"]

_MONTH = re.compile(r"[0-9]{4}-[0-9]{2}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

#: the last year a period may name: its end (the next day or month) must still be a date
LAST_YEAR = 9998


@dataclass(frozen=True, slots=True)
class Period:
    """[start, end) as aware datetimes, and how the office names it (`2026-01`)."""

    start: dt.datetime
    end: dt.datetime
    label: str


@dataclass(frozen=True, slots=True)
class OfficeCalendar:
    """The office's calendar: a fixed offset from UTC in hours."""

    offset_hours: int = 7

    @property
    def zone(self) -> dt.timezone:
        return dt.timezone(dt.timedelta(hours=self.offset_hours))

    def local(self, moment: dt.datetime) -> dt.datetime:
        """`moment` in the office's time zone."""
        return moment.astimezone(self.zone)

    def day(self, date: dt.date) -> Period:
        start = dt.datetime.combine(date, dt.time(), self.zone)
        return Period(start, start + dt.timedelta(days=1), date.isoformat())

    def month(self, year: int, month: int) -> Period:
        start = dt.datetime(year, month, 1, tzinfo=self.zone)
        end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=self.zone)
        return Period(start, end, f"{year:04d}-{month:02d}")

    def today(self, now: dt.datetime) -> Period:
        return self.day(self.local(now).date())

    def this_month(self, now: dt.datetime) -> Period:
        local = self.local(now)
        return self.month(local.year, local.month)

    def last_month(self, now: dt.datetime) -> Period:
        local = self.local(now)
        year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
        return self.month(year, month)

    def parse_month(self, text: str, field: str = "month") -> Period:
        """`2026-01` as a period. :raises Invalid: naming `field`."""
        if not _MONTH.fullmatch(text or ""):
            raise Invalid.on(field, "Bulan harus berbentuk YYYY-MM, mis. 2026-01.")
        year, month = int(text[:4]), int(text[5:])
        if not 1 <= month <= 12 or not 1900 <= year <= LAST_YEAR:
            raise Invalid.on(field, "Bulan harus berbentuk YYYY-MM, mis. 2026-01.")
        return self.month(year, month)

    def parse_day(self, text: str, field: str = "day") -> Period:
        """`2026-01-15` as a period. :raises Invalid: naming `field`."""
        try:
            if not _DAY.fullmatch(text or ""):
                raise ValueError(text)
            date = dt.date.fromisoformat(text)
        except ValueError:
            raise Invalid.on(
                field, "Tanggal harus berbentuk YYYY-MM-DD, mis. 2026-01-15."
            ) from None
        if not 1900 <= date.year <= LAST_YEAR:
            raise Invalid.on(field, "Tanggal harus berbentuk YYYY-MM-DD, mis. 2026-01-15.")
        return self.day(date)
