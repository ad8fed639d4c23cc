"""marshmallow fields that validate and return JSON-native, canonical values.

The stock Date and DateTime fields deserialize to Python objects, which the hub would only
turn back into text to store. These keep the value a string in one canonical form, so a load
is all the work a change needs before it is written, and stored dates sort as text.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Annotated, Any

import msgspec
from marshmallow import fields

__all__ = ["IsoDate", "IsoDateTime", "UuidText"]

# fromisoformat alone would also take week dates such as 2026-W01-1.
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class IsoDate(fields.Field):
    """A calendar date as `YYYY-MM-DD`, not in the future of year 9999 nor before 1880."""

    default_error_messages = {"invalid": "Tanggal harus berbentuk YYYY-MM-DD."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str) or not _DATE_RE.fullmatch(value):
            raise self.make_error("invalid")
        try:
            parsed = dt.date.fromisoformat(value)
        except ValueError as exc:
            raise self.make_error("invalid") from exc
        if parsed.year < 1880:
            raise self.make_error("invalid")
        return parsed.isoformat()


class IsoDateTime(fields.Field):
    """An ISO 8601 instant with its UTC offset, e.g. `2026-11-23T09:30:00+07:00`.

    The offset is kept (a visit at 09:30 WIB stays 09:30 WIB); a naive time is refused
    because a laptop's time zone setting cannot be trusted.
    """

    default_error_messages = {
        "invalid": "Waktu harus ISO 8601 dengan zona waktu, mis. 2026-11-23T09:30:00+07:00.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str) or len(value) > 40:
            raise self.make_error("invalid")
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError as exc:
            raise self.make_error("invalid") from exc
        if parsed.tzinfo is None or parsed.year < 1880:
            raise self.make_error("invalid")
        return parsed.isoformat(timespec="seconds").replace("+00:00", "Z")


class UuidText(fields.Field):
    """A UUID in its canonical lower-case text form."""

    #: the values this field loads to themselves, for schemas.compiled: canonical UUIDs
    fast_annotation = Annotated[
        str,
        msgspec.Meta(pattern=r"\A[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z"),
    ]

    default_error_messages = {"invalid": "Harus UUID, mis. 3f2b8c1e-0a4d-4c6e-9b1f-2d7e5a9c0b11."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str) or len(value) > 40:
            raise self.make_error("invalid")
        try:
            return str(uuid.UUID(value))
        except ValueError as exc:
            raise self.make_error("invalid") from exc
