"""The pull page on the wire, derived from its schema: the hub's text and the laptop's check.

:class:`schemas.sync.PullPageSchema` (with its record and exit schemas) is the one
definition of a page. The hub does not dump pages through it: a page of 5,000 records is
assembled as text from the JSON already stored, never decoded and encoded again. So the
text is made here, from the schema's own field names and order: :data:`RECORD_COLUMNS`
(the hub's SQL selects these columns), :func:`records_json` (compiled once, at import, into
the same f-string a hand-written one would be, so the hot path pays nothing for it) and
:func:`page_json`. The laptop checks what it receives with :func:`is_pull_page`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson
from marshmallow import fields as ma

from schemas.sync import PullExitSchema, PullPageSchema, PullRecordSchema

__all__ = ["EXIT_KEYS", "PAGE_KEYS", "RECORD_COLUMNS", "is_pull_page", "page_json", "records_json"]

#: One pulled record's keys, in wire order; the hub's `records` table has these columns.
RECORD_COLUMNS: tuple[str, ...] = tuple(PullRecordSchema().fields)
#: A scope exit's keys, in wire order.
EXIT_KEYS: tuple[str, ...] = tuple(PullExitSchema().fields)
#: A page's keys, in wire order (`exits` is left out when there is none).
PAGE_KEYS: tuple[str, ...] = tuple(PullPageSchema().fields)

#: How a value of each field type goes into the text: a string is a code, a UUID or an HLC
#: (nothing to escape), an integer as is, a boolean from its column's 0/1, and an object
#: is the JSON text already stored.
_PIECES: dict[type[ma.Field], str] = {
    ma.String: '"{{{name}}}"',
    ma.Integer: "{{{name}}}",
    ma.Boolean: '{{"true" if {name} else "false"}}',
    ma.Dict: "{{{name}}}",
}


def _compile_records_json() -> Callable[[Iterable[Sequence[Any]], str | None], list[str]]:
    """The function of :func:`records_json`'s contract, made from the record schema."""
    fields = PullRecordSchema().fields
    names = [f"_{name}" for name in fields]
    body = ",".join(
        f'"{key}":' + _PIECES[type(field)].format(name=name)
        for (key, field), name in zip(fields.items(), names, strict=True)
    )
    source = (
        "def records_json(rows, skip_quiet_for):\n"
        f"    return [f'{{{{{body}}}}}' for {', '.join(names)}, _quiet in rows\n"
        "            if _quiet is None or _quiet != skip_quiet_for]\n"
    )
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<{__name__}.records_json>", "exec"), namespace)
    return namespace["records_json"]


records_json = _compile_records_json()
records_json.__doc__ = """One JSON object per row, as the page's `records` carries them.

Each row is the :data:`RECORD_COLUMNS` values then the record's `quiet_device`; a row
whose quiet device is `skip_quiet_for` is left out (the laptop stamped its own copy).
"""


def page_json(
    records: Sequence[str],
    conflicts: list[dict[str, Any]],
    exits: list[Any],
    next_seq: int,
    more: bool,
) -> str:
    """The page's text: `records` as :func:`records_json` made them, `exits` left out when empty."""
    values = {
        "records": "[" + ",".join(records) + "]",
        "conflicts": orjson.dumps(conflicts, option=orjson.OPT_NON_STR_KEYS).decode(),
        "exits": orjson.dumps(exits).decode() if exits else None,
        "next": str(next_seq),
        "more": "true" if more else "false",
    }
    return "{" + ",".join(f'"{k}":{values[k]}' for k in PAGE_KEYS if values[k] is not None) + "}"


def is_pull_page(data: Any) -> bool:
    """Whether a pull's answer has what the laptop needs before it stores anything.

    `records` a list and `next` an integer; `more` present; `conflicts` and `exits` lists
    when present (a hub from before exits sends none); each exit ``{"id", "entity", "seq"}``.
    """
    return (
        isinstance(data, dict)
        and isinstance(data.get("records"), list)
        and isinstance(data.get("next"), int)
        and isinstance(data.get("conflicts", []), list)
        and "more" in data
        and _exits_ok(data.get("exits", []))
    )


def _exits_ok(exits: Any) -> bool:
    return isinstance(exits, list) and all(
        isinstance(e, dict)
        and isinstance(e.get("id"), str)
        and isinstance(e.get("entity"), str)
        and isinstance(e.get("seq"), int)
        for e in exits
    )
