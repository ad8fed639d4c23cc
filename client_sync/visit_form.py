"""A visit as a form: the record's fields as the form's text, and the form's text back as
record fields, for the field app's Kunjungan pages (no Flask here, so it is tested alone).

The schema checks every value (schemas/records.py ``VisitSchema``): this module only turns
text into the types a field takes and leaves a value it cannot read to the schema, whose
own message then names the field. The one check of its own is an assessment score's range.

The assessment is free-form in the schema (text keys, at most 100); the form asks the
standard items of :data:`ASSESSMENT_ITEMS` as proper fields (a score, choices) and shows
any other key a record holds (typed on the CLI, or an older form) as a name/value row,
so editing a visit never drops what it had. A row left as it was keeps its value's type.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ASSESSMENT_ITEMS",
    "EDITABLE",
    "EXTRA_BLANK_ROWS",
    "AssessmentItem",
    "VisitForm",
    "changed_fields",
    "form_of",
    "local_input",
    "month_bounds",
    "read_form",
]

#: the visit fields the form edits (the rest are the laptop's or the hub's)
EDITABLE: tuple[str, ...] = (
    "purpose",
    "visited_at",
    "findings",
    "assessment",
    "follow_up",
    "verification_outcome",
    "lat",
    "lon",
)
_TEXTS = ("findings", "follow_up")
_CODES = ("purpose", "verification_outcome")
#: blank name/value rows offered for assessment items of one's own
EXTRA_BLANK_ROWS = 2
_INPUT_MINUTE = "%Y-%m-%dT%H:%M"


@dataclass(frozen=True, slots=True)
class AssessmentItem:
    """A standard item of a visit's assessment: a score from `low` to `high`, or one of
    `choices` (the values as they are stored)."""

    key: str
    choices: tuple[str, ...] = ()
    low: int = 0
    high: int = 0


#: the standard assessment (labels in client_sync/app/pages/kunjungan.py): the Barthel
#: index of daily living (0-20), mobility, fall risk, family support, the house
ASSESSMENT_ITEMS: tuple[AssessmentItem, ...] = (
    AssessmentItem("adl_barthel", low=0, high=20),
    AssessmentItem("mobilitas", ("mandiri", "terbatas", "perlu alat bantu", "tirah baring")),
    AssessmentItem("risiko_jatuh", ("rendah", "sedang", "tinggi")),
    AssessmentItem("dukungan_keluarga", ("ada", "terbatas", "tidak ada")),
    AssessmentItem("kondisi_rumah", ("layak", "kurang layak", "tidak layak")),
)
_ITEM_KEYS = {item.key for item in ASSESSMENT_ITEMS}


@dataclass
class VisitForm:
    """What a visit form shows: each input's text (`values`, by input name), the other
    assessment rows as ``(name, value)`` texts, and each refusal's messages by input name
    (a record field's refusal under the field's own name)."""

    values: dict[str, str]
    extra: list[tuple[str, str]]
    errors: dict[str, list[str]]


def local_input(value: Any) -> str:
    """A stored instant as a ``datetime-local`` input shows it: this laptop's local time,
    to the minute; the text itself when it is not an instant."""
    if not isinstance(value, str):
        return ""
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone()
    return moment.strftime(_INPUT_MINUTE)


def _instant(text: str) -> str:
    """A ``datetime-local`` input (no offset: the laptop's local time) as an ISO instant
    with the offset; other text as typed, for the schema to judge."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.astimezone()  # the laptop's zone, as the CLI's "now"
    return moment.replace(microsecond=0).isoformat()


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def form_of(record: Mapping[str, Any] | None, now: str | None = None) -> VisitForm:
    """The form's text for a visit (None: a new visit, at `now`, an ISO instant)."""
    record = record or {}
    values = {name: "" for name in EDITABLE if name != "assessment"}
    for name in _TEXTS + _CODES:
        found = record.get(name)
        values[name] = found if isinstance(found, str) else ""
    for name in ("lat", "lon"):
        found = record.get(name)
        values[name] = "" if found is None else str(found)
    values["visited_at"] = local_input(record.get("visited_at") or now)
    assessment = record.get("assessment")
    held = assessment if isinstance(assessment, dict) else {}
    for item in ASSESSMENT_ITEMS:
        found = held.get(item.key)
        values[f"a_{item.key}"] = "" if found is None else _shown(found)
    extra = [(str(k), _shown(v)) for k, v in held.items() if k not in _ITEM_KEYS]
    return VisitForm(values, extra, {})


def _number(text: str) -> float | str:
    try:
        number = float(text)
    except ValueError:
        return text  # the schema's message names the field
    return number if math.isfinite(number) else text


def read_form(
    form: Mapping[str, str], current: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], VisitForm]:
    """The record fields a submitted form gives (every :data:`EDITABLE` field; an emptied
    one is None), and the form to show again if it is refused.

    :param form: the submitted inputs by name (``a_KEY`` an assessment item,
        ``lain_nama_N``/``lain_nilai_N`` the other rows).
    :param current: the visit being edited: a time shown to the minute and left as it was
        keeps its seconds and offset, an other row left as it was keeps its value.
    """
    current = current or {}
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    errors: dict[str, list[str]] = {}
    fields: dict[str, Any] = {}
    for name in _CODES:
        fields[name] = values.get(name, "").strip() or None
    for name in _TEXTS:
        text = values.get(name, "").replace("\r\n", "\n").strip()
        fields[name] = text or None
    for name in ("lat", "lon"):
        text = values.get(name, "").strip()
        fields[name] = _number(text) if text else None
    when = values.get("visited_at", "").strip()
    if when and when == local_input(current.get("visited_at")):
        fields["visited_at"] = current["visited_at"]
    else:
        fields["visited_at"] = _instant(when) if when else None
    assessment, extra = _assessment(values, current.get("assessment"), errors)
    fields["assessment"] = assessment or None
    return fields, VisitForm(values, extra, errors)


def _assessment(
    values: Mapping[str, str], held: Any, errors: dict[str, list[str]]
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    held = held if isinstance(held, dict) else {}
    assessment: dict[str, Any] = {}
    for item in ASSESSMENT_ITEMS:
        name = f"a_{item.key}"
        text = values.get(name, "").strip()
        if not text:
            continue
        if item.choices:
            assessment[item.key] = (
                held.get(item.key) if text == _shown(held.get(item.key)) else text
            )
            continue
        try:
            score = int(text)
        except ValueError:
            score = item.low - 1
        if not item.low <= score <= item.high:
            errors[name] = [f"Harus bilangan bulat {item.low}–{item.high}."]
            continue
        assessment[item.key] = score
    extra: list[tuple[str, str]] = []
    n = 0
    while f"lain_nama_{n}" in values or f"lain_nilai_{n}" in values:
        key = values.get(f"lain_nama_{n}", "").strip()
        text = values.get(f"lain_nilai_{n}", "").replace("\r\n", "\n").strip()
        if key or text:
            extra.append((key, text))
        if text and not key:
            errors[f"lain_nama_{n}"] = ["Isi nama butirnya."]
        elif key in assessment or (key in _ITEM_KEYS and text):
            errors[f"lain_nama_{n}"] = ["Nama butir ini sudah dipakai."]
        elif key and text:
            kept = key in held and _shown(held[key]) == text
            assessment[key] = held[key] if kept else text
        n += 1
    return assessment, extra


def changed_fields(current: Mapping[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields whose value differs from the visit's: what an edit sends."""
    return {k: v for k, v in fields.items() if current.get(k) != v}


def month_bounds(month: str) -> tuple[dt.datetime, dt.datetime] | None:
    """``YYYY-MM`` as its first moment and the next month's, in this laptop's local time;
    None when it is not a month."""
    try:
        start = dt.datetime.strptime(month, "%Y-%m")
    except ValueError:
        return None
    if not 1900 <= start.year <= 9998:
        return None
    following = start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    return start.astimezone(), following.astimezone()
