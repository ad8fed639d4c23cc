"""The pull page on the wire, derived from its schema: the hub's text and the laptop's check.

:class:`schemas.sync.PullPageSchema` (with its record and exit schemas) is the one
definition of a page. The hub does not dump pages through it: a page of 5,000 records is
assembled as text from the JSON already stored, never decoded and encoded again. So the
text is made here, in the schema's field order: :data:`RECORD_COLUMNS` (the hub's SQL
selects these columns), :func:`records_json` and :func:`page_json`; a test loads their text
with the schema. The laptop checks what it receives with :func:`is_pull_page`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson

from schemas.sync import PullPageSchema, PullRecordSchema

__all__ = ["PAGE_KEYS", "RECORD_COLUMNS", "is_pull_page", "page_json", "records_json"]

#: One pulled record's keys, in wire order; the hub's `records` table has these columns.
RECORD_COLUMNS: tuple[str, ...] = tuple(PullRecordSchema().fields)
#: A page's keys, in wire order (`exits` is left out when there is none).
PAGE_KEYS: tuple[str, ...] = tuple(PullPageSchema().fields)


def records_json(rows: Iterable[Sequence[Any]], skip_quiet_for: str | None) -> list[str]:
    """One JSON object per row, as the page's `records` carries them.

    Each row is the :data:`RECORD_COLUMNS` values then the record's `quiet_device`; a row
    whose quiet device is `skip_quiet_for` is left out (the laptop stamped its own copy).
    `entity` and `id` are validated codes and UUIDs and `data` is stored JSON text, so
    nothing is escaped or encoded again. Written by hand for speed: the test of this module
    checks its keys and their order against :class:`~schemas.sync.PullRecordSchema`.
    """
    return [
        f'{{"entity":"{e}","id":"{i}","seq":{s},"deleted":{"true" if d else "false"},'
        f'"hlc":"{h}","data":{data}}}'
        for e, i, s, d, h, data, quiet in rows
        if quiet is None or quiet != skip_quiet_for
    ]


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
