"""The protocol is defined once in schemas/, and what is derived from it agrees with it."""

from __future__ import annotations

from pathlib import Path

import marshmallow
import orjson
from marshmallow import fields, validate

from schemas.error_codes import TABLE_END, TABLE_START, ErrorCode, markdown_table
from schemas.messages import Schema
from schemas.pull_page import PAGE_KEYS, RECORD_COLUMNS, is_pull_page, page_json, records_json
from schemas.sync import PullPageSchema

ROOT = Path(__file__).resolve().parents[2]


def test_the_error_table_in_docs_protocol_md_is_the_enumeration() -> None:
    text = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    start, end = text.index(TABLE_START), text.index(TABLE_END) + len(TABLE_END)
    assert text[start:end] == markdown_table(), (
        "docs/protocol.md's error table is out of date; regenerate it with "
        "`python -m schemas.error_codes --write docs/protocol.md`"
    )


def test_every_error_slug_is_unique_and_a_generic_slug_exists_once_per_status() -> None:
    assert len({code.value for code in ErrorCode}) == len(ErrorCode)
    generic = [code.status for code in ErrorCode if code.generic]
    assert len(generic) == len(set(generic))
    assert ErrorCode.generic_for(404) is ErrorCode.NOT_FOUND
    assert ErrorCode.lookup("device_revoked") is ErrorCode.DEVICE_REVOKED
    assert ErrorCode.lookup("a_newer_hubs_slug") is None


def test_a_pull_page_written_as_text_loads_with_its_schema_in_its_order() -> None:
    rows = [
        ("visit", "9f1e0c2a-0000-4000-8000-000000000001", 41, 0, "h1", '{"a":1}', None),
        ("visit", "9f1e0c2a-0000-4000-8000-000000000002", 42, 1, "h2", "{}", "dev-1"),
    ]
    records = records_json(rows, "dev-1")
    text = page_json(records, [], [{"id": "x", "entity": "visit", "seq": 43}], 43, False)
    page = orjson.loads(text)
    assert tuple(page) == PAGE_KEYS
    assert tuple(page["records"][0]) == RECORD_COLUMNS
    assert PullPageSchema().load(page) == page
    assert is_pull_page(page)
    assert page["records"] == [
        {
            "entity": "visit",
            "id": "9f1e0c2a-0000-4000-8000-000000000001",
            "seq": 41,
            "deleted": False,
            "hlc": "h1",
            "data": {"a": 1},
        }
    ]
    assert "exits" not in orjson.loads(page_json(records, [], [], 41, True))


def test_indonesian_messages_do_not_change_marshmallows_own_defaults() -> None:
    class Plain(marshmallow.Schema):
        n = fields.Integer(required=True, validate=validate.Range(min=1))

    class Ours(Schema):
        n = fields.Integer(required=True, validate=validate.Range(min=1))

    assert Plain().validate({}) == {"n": ["Missing data for required field."]}
    assert Ours().validate({}) == {"n": ["Wajib diisi."]}
    assert Plain().validate({"n": 0}) == {"n": ["Must be greater than or equal to 1."]}
    assert Ours().validate({"n": 0}) == {"n": ["Harus lebih besar atau sama dengan 1."]}
    assert Ours().validate({"n": 1, "m": 2}) == {"m": ["Isian tidak dikenal."]}
