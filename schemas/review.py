"""A visit's review by the district office, and the office's free-text notes: both sides' rules.

The hub writes a visit's `review` (a field only the hub sets, :data:`REVIEW_FIELD` in
:data:`schemas.records.SERVER_FIELDS`)::

    {"state": "diterima" | "dikembalikan", "reason": str | None, "by": user, "at": iso}

Absent or ``null`` means *menunggu* (waiting for review): a new visit, and a visit the
pendamping edited after the office looked at it. The laptop reads the same constants to show
a returned visit. No I/O here.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError

__all__ = [
    "ACCEPTED",
    "NOTE_MAX",
    "RETURNED",
    "REVIEW_FIELD",
    "REVIEW_STATES",
    "WAITING",
    "check_note",
    "clean_note",
    "review_state",
]

#: the visit field that holds the office's review
REVIEW_FIELD = "review"
ACCEPTED = "diterima"
RETURNED = "dikembalikan"
#: what a visit without a review is called (it is never stored: absent or null)
WAITING = "menunggu"
#: the states the office sets
REVIEW_STATES: tuple[str, ...] = (ACCEPTED, RETURNED)
#: the longest reason or note the office may type (a return's reason, a rejection's)
NOTE_MAX = 1000
#: line breaks and tabs are text; every other control character is refused
_TEXT_CONTROLS = frozenset("\n\r\t")


def review_state(record: Mapping[str, Any]) -> str:
    """A visit's review state: ``diterima``, ``dikembalikan`` or ``menunggu``."""
    review = record.get(REVIEW_FIELD)
    state = review.get("state") if isinstance(review, dict) else None
    return state if state in REVIEW_STATES else WAITING


def check_note(value: Any) -> None:
    """A marshmallow validator: at most :data:`NOTE_MAX` characters, no control characters
    other than line breaks and tabs (they break exports and terminals)."""
    if value is None:
        return
    if not isinstance(value, str):
        raise ValidationError("Harus teks.")
    if len(value) > NOTE_MAX:
        raise ValidationError(f"Paling banyak {NOTE_MAX} karakter.")
    if any(unicodedata.category(c) == "Cc" and c not in _TEXT_CONTROLS for c in value):
        raise ValidationError("Tidak boleh berisi karakter kendali.")


def clean_note(value: Any, *, required: bool) -> str | None:
    """A reason as stored: stripped, checked by :func:`check_note`; None when empty and
    not `required`.

    :raises ValidationError: a message without a field name (the caller names it).
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError("Wajib diisi.")
        return None
    check_note(value)
    return value.strip()
