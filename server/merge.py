"""The hub's merge rule as pure functions: no Flask, no SQL, no clock.

For now: per field, the value with the greater HLC wins (last writer wins). A value that
loses to a concurrent write with a different value is returned as a :class:`FieldLoss`, which
the caller keeps in the conflict queue, so nothing a pendamping typed disappears.
The richer policy (base_seq, lifecycle conflicts, duplicate persons) builds on this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["FieldLoss", "MergeResult", "merge_fields"]


@dataclass(frozen=True, slots=True)
class FieldLoss:
    """A value of the incoming change that lost to the value already held."""

    field: str
    kept_value: Any
    kept_hlc: str
    lost_value: Any
    lost_hlc: str


@dataclass(frozen=True, slots=True)
class MergeResult:
    data: dict[str, Any]
    clocks: dict[str, str]
    applied: tuple[str, ...]
    lost: tuple[FieldLoss, ...]


def merge_fields(
    data: Mapping[str, Any], clocks: Mapping[str, str], fields: Mapping[str, Any], hlc: str
) -> MergeResult:
    """Merge the `fields` of one change stamped `hlc` into a record's `data`.

    :param clocks: the HLC of each field's current value; a field with no clock is unset.
    :returns: the new data and clocks, the fields the change set, and the values it lost.
    """
    new_data, new_clocks = dict(data), dict(clocks)
    applied, lost = [], []
    for name, value in fields.items():
        held = clocks.get(name)
        if held is None or hlc > held:
            new_data[name] = value
            new_clocks[name] = hlc
            applied.append(name)
        elif hlc < held and data.get(name) != value:
            lost.append(FieldLoss(name, data.get(name), held, value, hlc))
    return MergeResult(new_data, new_clocks, tuple(applied), tuple(lost))
