"""Ids are minted as UUID version 7 (schemas/ids.py): ordered by the time made, so the
indexes keyed by them take a batch's ids on their last pages."""

from __future__ import annotations

import uuid

from marshmallow import Schema

from schemas.fields import UuidText
from schemas.ids import new_id
from tests.conftest import beneficiary


def test_an_id_is_a_canonical_version_7_uuid():
    made = new_id()
    parsed = uuid.UUID(made)
    assert parsed.version == 7 and parsed.variant == uuid.RFC_4122
    assert str(parsed) == made  # lower case, with hyphens: what the hub's checks want


def test_ids_made_one_after_another_sort_in_that_order_and_never_repeat():
    made = [new_id() for _ in range(5_000)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)


def test_the_schemas_take_version_7_ids_as_they_took_version_4():
    class Holder(Schema):
        id = UuidText(required=True)

    for made in (new_id(), str(uuid.uuid4())):
        assert Holder().load({"id": made}) == {"id": made}


def test_a_laptop_mints_version_7_record_and_change_ids_and_the_hub_its_device_id(laptops):
    store = laptops.enroll("ani").store
    record_id = store.add("beneficiary", beneficiary(nik=None))
    change_id = next(store.outbox_batches(10_000)).change_ids[0]
    assert uuid.UUID(record_id).version == 7
    assert uuid.UUID(change_id).version == 7
    assert uuid.UUID(store.identity.device_id).version == 7  # made by the hub at enrolment
