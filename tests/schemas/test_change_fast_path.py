"""`load_change`'s fast path must never accept what `ChangeSchema` would load differently."""

from __future__ import annotations

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from schemas.sync import ChangeSchema, _fast_change, load_change

DEVICE = "3f2b8c1e-0a4d-4c6e-9b1f-2d7e5a9c0b11"


def valid_change(**overrides) -> dict:
    change = {
        "change_id": str(uuid.uuid4()),
        "entity": "visit",
        "record_id": str(uuid.uuid4()),
        "base_seq": None,
        "fields": {"purpose": "monitoring"},
        "hlc": f"0001763890000000:000001:{DEVICE}",
        "device_id": DEVICE,
        "author_id": "siti",
    }
    change.update(overrides)
    return change


uuids = st.one_of(
    st.uuids().map(str),
    st.uuids().map(lambda u: str(u).upper()),
    st.uuids().map(lambda u: u.hex),
    st.text(max_size=40),
)
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**12),
    st.floats(),
    st.text(max_size=70),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
mutations = st.fixed_dictionaries(
    {},
    optional={
        "change_id": uuids,
        "record_id": uuids,
        "entity": st.one_of(
            st.sampled_from(["visit", "beneficiary", "device_request", "Visit"]), values
        ),
        "base_seq": values,
        "fields": values,
        "hlc": st.one_of(
            st.text(max_size=30),
            st.just(f"0001763890000000:000001:{DEVICE}"),
            st.just("١٧٦٣٨٩٠٠٠٠٠٠٠٠٠٠:000001:x"),
        ),
        "device_id": values,
        "author_id": values,
        "extra": values,
    },
)


@settings(max_examples=300)
@given(mutations, st.sets(st.sampled_from(sorted(valid_change())), max_size=2))
def test_the_fast_path_accepts_only_what_the_schema_loads_to_the_same_value(overrides, drop):
    raw = valid_change(**overrides)
    for key in drop:
        raw.pop(key)
    fast = _fast_change(raw)
    try:
        slow = ChangeSchema().load(raw)
    except ValidationError:
        assert fast is None
    else:
        assert fast is None or fast == slow


def test_a_well_formed_change_takes_the_fast_path():
    raw = valid_change()
    assert _fast_change(raw) is raw


def test_a_malformed_change_is_refused_with_the_schema_errors_naming_the_field():
    raw = valid_change(base_seq=-1, hlc="kemarin")
    try:
        load_change(raw)
    except ValidationError as exc:
        assert set(exc.messages) == {"base_seq", "hlc"}
    else:
        raise AssertionError("a malformed change was accepted")
