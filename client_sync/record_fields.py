"""Turning what a person typed into a record's fields, for the CLI and the field app alike.

The command line gives options (``--name``, ``--clear nik``), the app gives a form's values
(text boxes, checkboxes); both end as the `fields` of ``FieldStore.add`` / ``update``, and
the record schema (:mod:`schemas.records`) stays the one judge of each value. What is shared
lives here so the two cannot drift: which options count as given, what "cleared" means for
each field, and how a form's strings become a beneficiary's fields (an empty box is "not
given" on a new record and "clear it" on an edit; only changed fields travel on an edit).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "BENEFICIARY_CLEARABLE",
    "BENEFICIARY_FORM_FIELDS",
    "BENEFICIARY_LISTS",
    "OTHER_PROGRAMS",
    "VISIT_CLEARABLE",
    "FormValues",
    "beneficiary_fields",
    "beneficiary_form",
    "given",
    "with_cleared",
]

#: a form's values as typed: one text per field, a list for checkboxes (also a draft's JSON)
FormValues = Mapping[str, "str | Sequence[str]"]

#: `beneficiary edit --clear` names: option name -> (field, empty value)
BENEFICIARY_CLEARABLE: dict[str, tuple[str, Any]] = {
    "nik": ("nik", None),
    "birth-date": ("birth_date", None),
    "address": ("address", None),
    "category": ("categories", []),
    "disability": ("disability_types", []),
    "program": ("programs", []),
    "dtsen-id": ("dtsen_id", None),
    "phone": ("phone", None),
}
#: `visit edit --clear` names: option name -> (field, empty value)
VISIT_CLEARABLE: dict[str, tuple[str, Any]] = {
    "findings": ("findings", None),
    "follow-up": ("follow_up", None),
    "assessment": ("assessment", None),
    "lat": ("lat", None),
    "lon": ("lon", None),
}

#: a beneficiary's one-value form fields, in form order
BENEFICIARY_FORM_FIELDS: tuple[str, ...] = (
    "name",
    "nik",
    "sex",
    "birth_date",
    "kelurahan",
    "address",
    "dtsen_id",
    "phone",
)
#: a beneficiary's list fields (checkboxes)
BENEFICIARY_LISTS: tuple[str, ...] = ("categories", "disability_types", "programs")
#: the form's free-text box for programmes not among the checkboxes ("PKH, BPNT")
OTHER_PROGRAMS = "programs_other"
_MULTILINE = frozenset({"address"})
_SPLIT = re.compile(r"[,;\s]+")


def given(**options: Any) -> dict[str, Any]:
    """The options the user actually gave (None and empty repeats are "not given"),
    repeatable ones as lists."""
    return {
        k: list(v) if isinstance(v, tuple) else v
        for k, v in options.items()
        if v is not None and v != ()
    }


def with_cleared(
    fields: dict[str, Any], names: Sequence[str], clearable: Mapping[str, tuple[str, Any]]
) -> dict[str, Any]:
    """`fields` with each named field set to its empty value (`clearable[name]`).

    :raises ValueError: a field both given and cleared; ``args[0]`` is its clear name.
    """
    out = dict(fields)
    for name in names:
        field, empty = clearable[name]
        if field in out:
            raise ValueError(name)
        out[field] = empty
    return out


def _text(values: FormValues, name: str) -> str:
    value = values.get(name)
    if isinstance(value, (list, tuple)):
        value = value[0] if value else ""
    if not isinstance(value, str):
        return ""
    if name in _MULTILINE:
        return value.replace("\r\n", "\n").strip()
    return value.strip()


def _list(values: FormValues, name: str) -> list[str]:
    value = values.get(name)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        return []
    return list(dict.fromkeys(v.strip() for v in value if isinstance(v, str) and v.strip()))


def _programs(values: FormValues) -> list[str]:
    typed = [p.upper() for p in _SPLIT.split(_text(values, OTHER_PROGRAMS)) if p]
    return list(dict.fromkeys([*_list(values, "programs"), *typed]))


def beneficiary_fields(
    values: FormValues, current: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A beneficiary form's values as record fields.

    :param current: the record being edited; None for a new one. New: every box filled in
        (an empty box is left out, so the schema names a missing required field). Edit:
        only the fields whose value changed, an emptied box as its cleared value (None, or
        ``[]`` for a list), as `pendamping beneficiary edit --clear` does.
    """
    fields: dict[str, Any] = {}
    for name in BENEFICIARY_FORM_FIELDS:
        text = _text(values, name)
        if text:
            fields[name] = text
        elif current is not None:
            fields[name] = None
    for name in BENEFICIARY_LISTS:
        chosen = _programs(values) if name == "programs" else _list(values, name)
        if chosen or current is not None:
            fields[name] = chosen
    if current is None:
        return fields
    return {
        name: value for name, value in fields.items() if _plain(value) != _plain(current.get(name))
    }


def _plain(value: Any) -> Any:
    """None, "" and [] are all "empty" when comparing a form with a record."""
    if value in (None, "", []):
        return None
    if isinstance(value, (list, tuple)):
        return sorted(value)
    return value


def beneficiary_form(record: Mapping[str, Any]) -> dict[str, str | list[str]]:
    """A beneficiary record as its form's values (the reverse of :func:`beneficiary_fields`)."""
    values: dict[str, str | list[str]] = {}
    for name in BENEFICIARY_FORM_FIELDS:
        value = record.get(name)
        values[name] = "" if value is None else str(value)
    for name in BENEFICIARY_LISTS:
        values[name] = [str(v) for v in record.get(name) or []]
    values[OTHER_PROGRAMS] = ""
    return values
