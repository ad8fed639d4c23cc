"""The msgspec fast path for a record's fields (schemas/compiled.py) never decides anything
the schema would decide otherwise: what it accepts, the schema loads to the same JSON; what
it does not, the schema loads (and names the field) as before."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError, validate
from marshmallow import fields as ma

from bench.common import visit_fields
from schemas.codes import (
    CATEGORIES,
    DEVICE_STATUSES,
    DEVICE_TYPES,
    VERIFICATION_OUTCOMES,
    VISIT_PURPOSES,
)
from schemas.compiled import CompiledLoader, annotation_of, json_plain
from schemas.jsonsafe import MAX_DEPTH, unsafe_fields
from schemas.messages import Schema
from schemas.records import (
    _LOADERS,
    RECORD_SCHEMAS,
    complete_fields,
    load_fields,
    preload_fields,
)
from tests.conftest import KELURAHAN, beneficiary
from tests.schemas.test_records import BENEFICIARY_ID, VALID


def as_json(value: Any) -> Any:
    """A loaded value's every type and value, key order aside (1, 1.0 and True differ; so
    do NaNs only by their text), comparable with == even where JSON cannot carry it."""
    if isinstance(value, dict):
        return ("dict", sorted(((as_json(k), as_json(v)) for k, v in value.items()), key=repr))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [as_json(v) for v in value])
    return (type(value).__name__, repr(value))


def outcome(load: Any) -> tuple[str, Any]:
    """What a load did: its JSON, or the messages of its refusal."""
    try:
        return "loaded", as_json(load())
    except ValidationError as exc:
        return "refused", exc.normalized_messages()


surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
texts = st.one_of(
    st.text(max_size=12),
    st.text(st.one_of(st.characters(), surrogates), max_size=6),
    st.text(min_size=95, max_size=110),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(),
    texts,
    st.binary(max_size=4),
)
nested = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(st.one_of(texts, st.integers(0, 3)), inner, max_size=3),
    ),
    max_leaves=12,
)


def deep(depth: int) -> Any:
    value: Any = {"a": 1}
    for _ in range(depth):
        value = {"a": value}
    return value


#: values worth trying per field: the edges of each rule, and neighbours of valid values
SPECIAL: dict[str, list[Any]] = {
    "kelurahan": [KELURAHAN, "31.71.01.100", "99.71.01.1001", "31.71.01.1001\n", " 31.71.01.1001"],
    "nik": ["3171014508450001", "3171014508450000", "0071014508450001", "31710145084500011"],
    "name": ["", "x" * 200, "x" * 201, "Ibu Sri"],
    "birth_date": ["1945-08-05", "1879-12-31", "2026-02-30", "1945-8-5", "2026-W01-1"],
    "sex": ["L", "P", "l", ""],
    "categories": [["lansia"], ["lansia", "lansia"], [*CATEGORIES, "anak"], ("anak",), []],
    "disability_types": [["fisik"], ["fisik", "x"], []],
    "programs": [["KLJ"], ["KLJ", "KLJ"], ["klj"], ["KLJ\n"], ["K"], ["A" * 16], ["A" * 17]],
    "dtsen_id": ["x" * 40, "x" * 41],
    "phone": ["+62 812-3456-7890", "0812", "+62812345678901234567890", "0812345678\n"],
    "attachments": [["a" * 64], ["A" * 64], ["a" * 63], ["a" * 64] * 51, []],
    "beneficiary_id": [
        BENEFICIARY_ID,
        BENEFICIARY_ID.upper(),
        BENEFICIARY_ID.replace("-", ""),
        "{" + BENEFICIARY_ID + "}",
        BENEFICIARY_ID + "\n",
    ],
    "caseworker_id": ["x" * 100, "x" * 101],
    "visited_at": [
        "2026-11-23T09:30:00+07:00",
        "2026-11-23T09:30:00Z",
        "2026-11-23T09:30:00+00:00",
        "2026-11-23T09:30:00.250+07:00",
        "2026-11-23T09:30+07:00",
        "2026-11-23T09:30:00",
        "1870-11-23T09:30:00+07:00",
        "2026-11-23 09:30:00+07:00",
    ],
    "purpose": [*VISIT_PURPOSES, "Monitoring"],
    "verification_outcome": [*VERIFICATION_OUTCOMES, None, "Layak", "wafat", ""],
    "assessment": [
        {"adl_barthel": 12},
        {"x" * 101: 1},
        {str(n): n for n in range(101)},
        {"skor": float("nan")},
        {"skor": 2**63},
        {"skor": 2**63 - 1},
        {"skor": -(2**63)},
        {"catatan": "\ud800"},
        {"\udfff": 1},
        {1: "a"},
        deep(MAX_DEPTH - 2),
        deep(MAX_DEPTH - 1),
        deep(MAX_DEPTH),
        {"l": [[[[[[1]]]]]]},
        {"t": (1, 2)},
    ],
    "lat": [-90, 90, -90.0, 90.0, 90.0001, 0, float("inf"), float("nan"), "1.5", 10**400, True],
    "lon": [-180.0, 180, 180.5, -6.2],
    "device_type": [*DEVICE_TYPES, "Kursi_roda"],
    "status": [*DEVICE_STATUSES, None, "batal"],
    "reason": ["x" * 5000, "x" * 5001],
    "findings": ["x" * 10_000, "x" * 10_001, "caf\u00e9", "\ud83d"],
    "follow_up": ["x" * 5000, "x" * 5001],
    "address": ["x" * 500, "x" * 501],
}
ENTITY_FIELDS = {entity: sorted(schema.load_fields) for entity, schema in RECORD_SCHEMAS.items()}


@st.composite
def records(draw: st.DrawFn) -> tuple[str, Any]:
    entity = draw(st.sampled_from(sorted(VALID)))
    data = dict(VALID[entity])
    names = ENTITY_FIELDS[entity]
    for name in draw(st.lists(st.sampled_from(names), max_size=4)):
        data[name] = draw(
            st.one_of(st.sampled_from(SPECIAL.get(name, [None])), scalars, nested)
            if name in SPECIAL
            else st.one_of(scalars, nested)
        )
    for name in draw(st.lists(st.sampled_from(sorted(data)), max_size=3)):
        data.pop(name, None)
    if draw(st.booleans()) and draw(st.booleans()):
        data[draw(st.sampled_from(["id", "extra", "Kelurahan"]))] = draw(scalars)
    if draw(st.integers(0, 20)) == 0:
        return entity, draw(st.one_of(scalars, nested))  # not even an object
    return entity, data


def same_decision(entity: str, data: Any, partial: bool) -> None:
    accepted = _LOADERS[entity].accept(data, partial=partial)
    if accepted is None:
        return  # the schema decides, as before
    loaded = RECORD_SCHEMAS[entity].load(data, partial=partial)
    assert as_json(accepted) == as_json(loaded)


EDGES = [
    (entity, name, value)
    for entity, names in ENTITY_FIELDS.items()
    for name in names
    for value in [*SPECIAL.get(name, []), None, True, 1, 1.5, "", [], {}, b"x"]
]


@pytest.mark.parametrize(("entity", "name", "value"), EDGES)
def test_each_edge_of_each_field_is_decided_as_the_schema_decides_it(entity, name, value):
    data = {**VALID[entity], name: value}
    same_decision(entity, data, partial=False)
    same_decision(entity, {name: value}, partial=True)
    assert outcome(
        lambda: complete_fields(entity, data, preload_fields(entity, data), creating=True)
    ) == outcome(lambda: load_fields(entity, data, creating=True))


@settings(max_examples=600)
@given(records(), st.booleans())
def test_the_compiled_loader_accepts_only_what_the_schema_loads_to_the_same_json(drawn, partial):
    entity, data = drawn
    same_decision(entity, data, partial)


@settings(max_examples=600)
@given(records(), st.booleans())
def test_preloading_outside_the_write_then_completing_is_load_fields(drawn, creating):
    entity, data = drawn
    preloaded = preload_fields(entity, data)
    assert outcome(lambda: complete_fields(entity, data, preloaded, creating=creating)) == (
        outcome(lambda: load_fields(entity, data, creating=creating))
    )


@settings(max_examples=400)
@given(nested)
def test_json_plain_never_passes_what_jsonsafe_refuses(value):
    if json_plain(value):
        assert unsafe_fields({"x": value}) == {}


@pytest.mark.parametrize(
    ("entity", "data"),
    [
        ("visit", {**visit_fields(BENEFICIARY_ID, 7), "kelurahan": KELURAHAN}),
        ("visit", VALID["visit"]),
        ("beneficiary", beneficiary()),
        ("beneficiary", {"name": "Ibu Sri", "sex": "P", "kelurahan": KELURAHAN}),
        ("device_request", VALID["device_request"]),
        ("device_request", {**VALID["device_request"], "status": "disetujui"}),
    ],
)
def test_valid_records_take_the_compiled_path(entity, data):
    preloaded = preload_fields(entity, data)
    assert preloaded is not None
    assert as_json(preloaded) == as_json(RECORD_SCHEMAS[entity].load(data, partial=True))
    assert _LOADERS[entity].accept(data) is not None


@pytest.mark.parametrize("entity", sorted(RECORD_SCHEMAS))
def test_the_compiled_type_is_derived_from_every_field_of_the_schema(entity):
    loader = _LOADERS[entity]
    schema = RECORD_SCHEMAS[entity]
    assert set(loader.type.__annotations__) == set(schema.load_fields)
    # plain fields are checked in C; only custom fields run their own code
    custom = {n for n, f in schema.load_fields.items() if annotation_of(f) is None}
    assert loader.compiled == set(schema.load_fields) - custom - set(loader._steps)
    assert custom <= {"birth_date", "visited_at", "handover_date"}  # dates: IsoDate


def test_a_refusal_still_names_the_field_with_the_schemas_message():
    data = {**VALID["visit"], "purpose": "jalan-jalan", "lat": 91.0}
    assert preload_fields("visit", data) is None
    with pytest.raises(ValidationError) as refused:
        complete_fields("visit", data, None, creating=True)
    expected = RECORD_SCHEMAS["visit"].validate(data)
    assert refused.value.normalized_messages() == expected
    assert set(expected) == {"purpose", "lat"}


def test_a_schema_with_a_field_kind_it_does_not_know_loads_through_that_fields_own_code():
    class Odd(Schema):
        class Meta:
            unknown = "raise"

        when = ma.Date(required=True)
        count = ma.Integer()  # not strict: "3" loads as 3, so it is left to the field
        ratio = ma.Float(allow_nan=False)

    schema = Odd()
    loader = CompiledLoader(schema, schema.load)
    assert loader.accept({"when": "2026-01-02", "count": 3, "ratio": 0.5}) == schema.load(
        {"when": "2026-01-02", "count": 3, "ratio": 0.5}
    )
    assert loader.accept({"when": "2026-01-02", "count": "3"}) == {
        "when": schema.load({"when": "2026-01-02"})["when"],
        "count": 3,
    }
    assert loader.accept({"when": "2026-01-02", "ratio": math.inf}) is None
    assert loader.accept({"count": 3}) is None  # a required field is missing
    assert loader.accept({"count": 3}, partial=True) == {"count": 3}


def test_a_choice_with_a_length_limit_keeps_both_rules():
    class Coded(Schema):
        class Meta:
            unknown = "raise"

        code = ma.String(validate=[validate.OneOf(["ab", "abcdef"]), validate.Length(max=3)])

    schema = Coded()
    loader = CompiledLoader(schema, schema.load)
    assert loader.accept({"code": "ab"}) == {"code": "ab"}
    assert loader.accept({"code": "abcdef"}) is None  # a choice, but too long: the schema says
    with pytest.raises(ValidationError):
        schema.load({"code": "abcdef"})
