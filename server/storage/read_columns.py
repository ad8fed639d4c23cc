"""The office's read-model columns of a record, computed from its decoded data on each write.

Every backend's writer stores these beside the record's JSON in the same transaction
(migration 0007 for SQLite), so the district office's pages filter, count and sort on
indexed plain columns and never decode a record's JSON. Pure: no SQL, shared by backends.
A migration that fills them from existing JSON must give exactly these values
(tests/server/test_office_read_model.py checks the SQLite one).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, NamedTuple

from server.storage.base import RecordRow

__all__ = [
    "REVIEW_WAITING",
    "ReadColumns",
    "name_key",
    "programs_of",
    "read_columns",
    "utc_instant",
    "verification_outcome",
]

#: a visit with no `review` object is waiting for review
REVIEW_WAITING = "menunggu"

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class ReadColumns(NamedTuple):
    """What the office's indexes hold of one record (None where it does not apply)."""

    visited_utc: str | None
    purpose: str | None
    review_state: str | None
    beneficiary_id: str | None
    request_status: str | None
    status_since: str | None
    name_key: str | None


#: `YYYY-MM-DDTHH:MM:SS[.ffffff]` (year 1000 on: strftime pads no shorter year) with `Z` or
#: a whole-hour offset east of UTC: the hour and the zone
_EAST_OFFSET = re.compile(
    r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T([0-9]{2}):[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?"
    r"(Z|\+[0-9]{2}:00)"
)

_NONE = ReadColumns(None, None, None, None, None, None, None)


def name_key(name: str) -> str:
    """A name as it is searched and sorted: lower-cased in ASCII only, as SQLite's lower()
    does it, so a key filled by a migration and one filled by the writer agree."""
    return name.translate(_ASCII_LOWER)


def utc_instant(value: str) -> str | None:
    """An ISO instant with any offset as UTC `YYYY-MM-DDTHH:MM:SSZ` (sortable as text), as
    SQLite's ``strftime('%Y-%m-%dT%H:%M:%SZ', value)`` gives it; None when unreadable."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    # The common case, a visit's time as the laptop writes it (`+07:00`, whole hours east
    # of UTC, `Z`) on the same day in UTC: the hour moved back by text, half the cost
    # of converting (once per visit written). Anything else converts below.
    shape = _EAST_OFFSET.fullmatch(value)
    if shape is not None:
        hour, zone = int(shape[1]), shape[2]
        offset = 0 if zone == "Z" else int(zone[1:3])
        if hour >= offset:
            return f"{value[:11]}{hour - offset:02d}{value[13:19]}Z"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def read_columns(record: RecordRow) -> ReadColumns:
    """The read-model columns of `record` as it is after this write."""
    data = record.data
    if record.entity == "visit":
        review = data.get("review")
        state = review.get("state") if isinstance(review, dict) else None
        visited = _text(data.get("visited_at"))
        return ReadColumns(
            utc_instant(visited) if visited else None,
            _text(data.get("purpose")),
            _text(state) or REVIEW_WAITING,
            _text(data.get("beneficiary_id")),
            None,
            None,
            None,
        )
    if record.entity == "device_request":
        history = data.get("status_history")
        last = history[-1] if isinstance(history, list) and history else None
        since = _text(last.get("at")) if isinstance(last, dict) else None
        return ReadColumns(
            None,
            None,
            None,
            _text(data.get("beneficiary_id")),
            _text(data.get("status")),
            since or record.created_at,
            None,
        )
    if record.entity == "beneficiary":
        name = _text(data.get("name"))
        return _NONE._replace(name_key=name_key(name) if name is not None else None)
    return _NONE


def verification_outcome(record: RecordRow) -> str | None:
    """A visit's `verification_outcome` (the column of `NNNN_monthly_verification.sql`,
    read with the visit's month and beneficiary); None for anything else."""
    if record.entity != "visit":
        return None
    return _text(record.data.get("verification_outcome"))


def programs_of(record: RecordRow) -> list[str]:
    """The programmes a live beneficiary is enrolled in (none for anything else)."""
    if record.entity != "beneficiary" or record.deleted:
        return []
    programs = record.data.get("programs")
    if not isinstance(programs, list):
        return []
    return list(dict.fromkeys(p for p in programs if isinstance(p, str)))
