"""The hub's merge rule, `server.merge.merge_fields`: per field, the newer HLC wins."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.merge import FieldLoss, MergeResult, merge_fields

OLD = "0001732345678000:000000:laptop-a"
MID = "0001732345678500:000003:laptop-b"
NEW = "0001732345679000:000000:laptop-a"
NEW_OTHER_NODE = "0001732345679000:000000:laptop-b"


CASES: list[tuple[str, dict, dict, dict, str, dict, dict, tuple, tuple]] = [
    # id, data, clocks, fields, hlc -> data, clocks, applied, lost
    (
        "a newer value replaces an older one",
        {"name": "Sri"},
        {"name": MID},
        {"name": "Sri Wahyuni"},
        NEW,
        {"name": "Sri Wahyuni"},
        {"name": NEW},
        ("name",),
        (),
    ),
    (
        "an older value that differs is kept as a loss with both values and clocks",
        {"name": "Sri"},
        {"name": MID},
        {"name": "Sri Wahyuningsih"},
        OLD,
        {"name": "Sri"},
        {"name": MID},
        (),
        (FieldLoss("name", "Sri", MID, "Sri Wahyuningsih", OLD),),
    ),
    (
        "an older value equal to the held one is no loss",
        {"name": "Sri"},
        {"name": MID},
        {"name": "Sri"},
        OLD,
        {"name": "Sri"},
        {"name": MID},
        (),
        (),
    ),
    (
        "an unset field takes any value whatever its clock",
        {"name": "Sri"},
        {"name": MID},
        {"phone": "0812-3456-7890"},
        OLD,
        {"name": "Sri", "phone": "0812-3456-7890"},
        {"name": MID, "phone": OLD},
        ("phone",),
        (),
    ),
    (
        "an empty record takes every field of the first change",
        {},
        {},
        {"name": "Sri", "sex": "P"},
        OLD,
        {"name": "Sri", "sex": "P"},
        {"name": OLD, "sex": OLD},
        ("name", "sex"),
        (),
    ),
    (
        "fields the change does not touch keep their values and clocks",
        {"name": "Sri", "address": "Jl. Melati 3", "sex": "P"},
        {"name": OLD, "address": MID, "sex": NEW},
        {"name": "Sri W."},
        MID,
        {"name": "Sri W.", "address": "Jl. Melati 3", "sex": "P"},
        {"name": MID, "address": MID, "sex": NEW},
        ("name",),
        (),
    ),
    (
        "one change can win some fields and lose others",
        {"name": "Sri", "address": "Jl. Melati 3"},
        {"name": OLD, "address": NEW},
        {"name": "Sri W.", "address": "Jl. Mawar 1"},
        MID,
        {"name": "Sri W.", "address": "Jl. Melati 3"},
        {"name": MID, "address": NEW},
        ("name",),
        (FieldLoss("address", "Jl. Melati 3", NEW, "Jl. Mawar 1", MID),),
    ),
    (
        "a newer null clears a value",
        {"phone": "0812-3456-7890"},
        {"phone": OLD},
        {"phone": None},
        NEW,
        {"phone": None},
        {"phone": NEW},
        ("phone",),
        (),
    ),
    (
        "an older null against a value is a loss",
        {"phone": "0812-3456-7890"},
        {"phone": NEW},
        {"phone": None},
        OLD,
        {"phone": "0812-3456-7890"},
        {"phone": NEW},
        (),
        (FieldLoss("phone", "0812-3456-7890", NEW, None, OLD),),
    ),
    (
        "at the same millisecond the greater node wins",
        {"name": "Sri"},
        {"name": NEW},
        {"name": "Sri Wahyuni"},
        NEW_OTHER_NODE,
        {"name": "Sri Wahyuni"},
        {"name": NEW_OTHER_NODE},
        ("name",),
        (),
    ),
    (
        "a greater counter wins within one millisecond",
        {"name": "Sri"},
        {"name": "0001732345678500:000002:laptop-b"},
        {"name": "Sri W."},
        MID,
        {"name": "Sri W."},
        {"name": MID},
        ("name",),
        (),
    ),
    (
        "an older list that differs is a loss",
        {"programs": ["KLJ"]},
        {"programs": NEW},
        {"programs": ["KLJ", "PKH"]},
        OLD,
        {"programs": ["KLJ"]},
        {"programs": NEW},
        (),
        (FieldLoss("programs", ["KLJ"], NEW, ["KLJ", "PKH"], OLD),),
    ),
    (
        "the same change applied again changes nothing and loses nothing",
        {"name": "Sri"},
        {"name": MID},
        {"name": "Sri"},
        MID,
        {"name": "Sri"},
        {"name": MID},
        (),
        (),
    ),
]


@pytest.mark.parametrize(
    ("data", "clocks", "fields", "hlc", "want_data", "want_clocks", "applied", "lost"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_merging_a_change_into_a_record(
    data, clocks, fields, hlc, want_data, want_clocks, applied, lost
):
    assert merge_fields(data, clocks, fields, hlc) == MergeResult(
        want_data, want_clocks, applied, lost
    )


@pytest.mark.parametrize(
    ("data", "clocks", "fields", "hlc"),
    [case[1:5] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_merge_leaves_its_inputs_untouched(data, clocks, fields, hlc):
    originals = copy.deepcopy((data, clocks, fields))
    result = merge_fields(data, clocks, fields, hlc)
    assert (data, clocks, fields) == originals
    assert result.data is not data
    assert result.clocks is not clocks


_hlcs = st.builds(
    lambda ms, counter, node: f"{ms:016d}:{counter:06d}:{node}",
    st.integers(0, 10**6),
    st.integers(0, 3),
    st.sampled_from(["laptop-a", "laptop-b", "hub"]),
)
_values = st.one_of(st.none(), st.integers(0, 3), st.sampled_from(["Sri", "Budi"]))
_names = st.sampled_from(["name", "address", "phone", "sex"])


@st.composite
def _records(draw) -> tuple[dict[str, Any], dict[str, str]]:
    names = draw(st.sets(_names))
    return {n: draw(_values) for n in names}, {n: draw(_hlcs) for n in names}


@given(_records(), st.dictionaries(_names, _values), _hlcs)
def test_every_field_ends_with_the_value_of_its_greatest_clock(record, fields, hlc):
    data, clocks = record
    result = merge_fields(data, clocks, fields, hlc)
    for name in set(data) | set(fields):
        candidates = []
        if name in clocks:
            candidates.append((clocks[name], data[name]))
        if name in fields:
            candidates.append((hlc, fields[name]))
        top_clock = max(clock for clock, _value in candidates)
        assert result.clocks[name] == top_clock
        assert result.data[name] in [v for clock, v in candidates if clock == top_clock]


@given(_records(), st.dictionaries(_names, _values), _hlcs)
def test_no_value_of_a_change_disappears_without_a_trace(record, fields, hlc):
    data, clocks = record
    result = merge_fields(data, clocks, fields, hlc)
    lost = {loss.field: loss for loss in result.lost}
    for name, value in fields.items():
        if clocks.get(name) == hlc:
            continue  # one timestamp is one event: the same change seen again
        kept = result.data[name] == value
        assert kept or name in lost
        if name in lost:
            assert (lost[name].lost_value, lost[name].lost_hlc) == (value, hlc)
            assert (lost[name].kept_value, lost[name].kept_hlc) == (data[name], clocks[name])
