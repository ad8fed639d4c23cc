"""Control characters in free text are refused at the schema, naming the field (issue 15,
item 5): one-line text (names, ids, a laptop's name) takes none, notes that run over lines
take newline, carriage return and tab only. The msgspec fast path decides nothing else."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from schemas import records
from schemas.records import RECORD_SCHEMAS, load_fields, preload_fields
from schemas.sync import EnrollRequestSchema
from tests.schemas.test_records import VALID

#: what a one-line field refuses: newline, CR, tab, ESC (a colour), NUL, DEL, C1 (NEL,
#: CSI), Unicode's line separator
ONE_LINE_BAD = ["a\nb", "a\rb", "a\tb", "a\x1b[31mb", "a\x00b", "a\x7fb", "a\x85b", "a\x9bb"]
ONE_LINE_BAD += ["a\u2028b"]
#: what a note refuses: the same but newline, CR, tab
NOTE_BAD = ["a\x1b[31mb", "a\x00b", "a\x07b", "a\x7fb", "a\x9bb"]
NOTE_OK = "Baris satu\nbaris dua\r\n\tmenjorok; Rp 1.500.000 — café"

ONE_LINE_FIELDS = [("beneficiary", "name"), ("beneficiary", "dtsen_id"), ("visit", "caseworker_id")]
#: every free-text field, for the fast path's equivalence
TEXT_FIELDS = ["name", "dtsen_id", "caseworker_id", "address", "findings", "follow_up", "reason"]
NOTE_FIELDS = [
    ("beneficiary", "address"),
    ("visit", "findings"),
    ("visit", "follow_up"),
    ("device_request", "reason"),
]


def with_field(entity: str, field: str, value: Any) -> dict[str, Any]:
    return {**VALID[entity], field: value}


def refused_fields(entity: str, data: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as refused:
        load_fields(entity, data, creating=True)
    return sorted(refused.value.normalized_messages())


@pytest.mark.parametrize(("entity", "field"), ONE_LINE_FIELDS)
@pytest.mark.parametrize("text", ONE_LINE_BAD)
def test_a_one_line_field_refuses_every_control_character_naming_the_field(entity, field, text):
    assert refused_fields(entity, with_field(entity, field, text)) == [field]
    assert preload_fields(entity, {field: text}) is None  # the fast path leaves it to the schema


@pytest.mark.parametrize(("entity", "field"), NOTE_FIELDS)
@pytest.mark.parametrize("text", NOTE_BAD)
def test_a_note_refuses_control_characters_but_newline_and_tab(entity, field, text):
    assert refused_fields(entity, with_field(entity, field, text)) == [field]
    assert preload_fields(entity, {field: text}) is None


@pytest.mark.parametrize(("entity", "field"), NOTE_FIELDS)
def test_a_note_may_run_over_several_lines(entity, field):
    loaded = load_fields(entity, with_field(entity, field, NOTE_OK), creating=True)
    assert loaded[field] == NOTE_OK
    assert preload_fields(entity, {field: NOTE_OK}) == {field: NOTE_OK}


def test_a_nul_in_a_beneficiary_name_is_refused_in_indonesian():
    with pytest.raises(ValidationError) as refused:
        load_fields("beneficiary", with_field("beneficiary", "name", "Ibu Sri\x00"), creating=True)
    assert refused.value.messages == {
        "name": ["Tidak boleh memuat karakter kendali (baris baru, tab, escape terminal, NUL)."]
    }


@pytest.mark.parametrize(
    "assessment",
    [
        {"mobilitas\n": "baik"},
        {"mobilitas": "baik\x1b[2J"},
        {"mobilitas": ["baik", {"catatan": "x\x00"}]},
    ],
)
def test_an_assessment_refuses_controls_in_its_keys_and_its_texts(assessment):
    data = with_field("visit", "assessment", assessment)
    assert refused_fields("visit", data) == ["assessment"]
    assert preload_fields("visit", {"assessment": assessment}) is None


def test_an_assessment_may_hold_multi_line_notes():
    assessment = {"mobilitas": "baik", "catatan": ["baris satu\nbaris dua"], "skor": 3}
    loaded = load_fields("visit", with_field("visit", "assessment", assessment), creating=True)
    assert loaded["assessment"] == assessment
    assert preload_fields("visit", {"assessment": assessment}) == {"assessment": assessment}


@pytest.mark.parametrize("name", ["laptop\nsiti", "laptop\x1b[31msiti", "\x1b]0;judul\x07", "a\tb"])
def test_a_laptop_name_with_a_control_character_is_refused_naming_device_name(name):
    errors = EnrollRequestSchema().validate({"code": "K7QM-2XHP-9RTA", "device_name": name})
    assert list(errors) == ["device_name"]


def test_an_ordinary_laptop_name_is_taken():
    body = {"code": "K7QM-2XHP-9RTA", "device_name": "Laptop Siti (Dinsos) — ruang 2"}
    assert EnrollRequestSchema().validate(body) == {}


#: every character one-line text refuses (notes refuse a subset of these)
EVERY_CONTROL = [chr(c) for c in [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]]


@pytest.mark.parametrize("char", EVERY_CONTROL, ids=lambda c: f"U+{ord(c):04X}")
def test_the_one_search_over_a_changes_json_finds_every_control_character(char):
    # the push's fast accept skips each text field's own check only when this search over
    # the change's JSON finds nothing: in a text, in a key, at any depth
    for data in (
        {"findings": f"a{char}b"},
        {"assessment": {f"k{char}": 1}},
        {"assessment": {"k": [{"x": f"{char}"}]}},
    ):
        assert records._CONTROL_IN_JSON.search(orjson.dumps(data)) is not None
        assert not records._no_control(data, None)


@pytest.mark.parametrize("char", EVERY_CONTROL, ids=lambda c: f"U+{ord(c):04X}")
def test_a_control_character_sent_in_a_push_is_still_refused_naming_the_field(char):
    data = {**VALID["visit"], "caseworker_id": f"a{char}b"}
    assert preload_fields("visit", data, orjson.dumps(data)) is None
    assert refused_fields("visit", data) == ["caseworker_id"]


#: a `sent` in which the search finds a control character: every field's own check runs
EVERY_CHECK = b'{"x":"\\n"}'


@settings(max_examples=500)
@given(
    st.sampled_from(sorted(VALID)),
    st.dictionaries(st.sampled_from(TEXT_FIELDS), st.text()),
    st.dictionaries(st.text(max_size=3), st.one_of(st.text(max_size=3), st.integers()), max_size=3),
)
def test_preloading_with_the_changes_json_decides_as_checking_every_field(entity, texts, notes):
    fields = RECORD_SCHEMAS[entity].fields
    data = {**VALID[entity], **{k: v for k, v in texts.items() if k in fields}}
    if "assessment" in fields:
        data["assessment"] = notes
    try:
        sent = orjson.dumps(data)
    except TypeError:  # a lone surrogate: the push has no JSON of it to pass
        sent = None
    assert preload_fields(entity, data, sent) == preload_fields(entity, data, EVERY_CHECK)
