"""A visit's review by the district office, and the office's free-text notes: both sides' rules.

The hub writes a visit's `review` (a field only the hub sets, :data:`REVIEW_FIELD` in
:data:`schemas.records.SERVER_FIELDS`)::

    {"state": "diterima" | "dikembalikan", "reason": str | None, "by": user, "at": iso}

Absent or ``null`` means *menunggu* (waiting for review): a new visit, and a visit the
pendamping edited after the office looked at it. The laptop reads the same constants to show
a returned visit. No I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError

from schemas.validators import validate_multiline, validate_single_line

__all__ = [
    "ACCEPTED",
    "NOTE_MAX",
    "RETURNED",
    "REVIEW_FIELD",
    "REVIEW_STATES",
    "WAITING",
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


def review_state(record: Mapping[str, Any]) -> str:
    """A visit's review state: ``diterima``, ``dikembalikan`` or ``menunggu``."""
    review = record.get(REVIEW_FIELD)
    state = review.get("state") if isinstance(review, dict) else None
    return state if state in REVIEW_STATES else WAITING


def clean_note(
    value: Any, *, required: bool, max_len: int = NOTE_MAX, multiline: bool = True
) -> str | None:
    """A reason or name the office typed, as stored: stripped; at most `max_len` characters;
    no control characters (:func:`schemas.validators.validate_multiline`: line breaks and
    tabs are text in a reason; :func:`~schemas.validators.validate_single_line` for a
    name); None when empty and not `required`.

    :raises ValidationError: a message without a field name (the caller names it).
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError("Wajib diisi.")
        return None
    if not isinstance(value, str):
        raise ValidationError("Harus teks.")
    text = value.strip()
    if len(text) > max_len:
        raise ValidationError(f"Paling banyak {max_len} karakter.")
    (validate_multiline if multiline else validate_single_line)(text)
    return text
