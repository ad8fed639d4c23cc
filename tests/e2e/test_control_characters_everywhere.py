"""A NUL or a terminal escape in a record is refused on the laptop before it is queued, and
by the hub when a laptop skipped that check: both name the field (issue 15, item 5)."""

from __future__ import annotations

import uuid

import pytest

from client_sync.errors import InvalidRecord
from tests.conftest import beneficiary


@pytest.mark.parametrize("name", ["Ibu Sri\x00", "Ibu\x1b[31m Sri", "Ibu\nSri"])
def test_the_laptop_refuses_a_control_character_in_a_name_and_queues_nothing(laptops, name):
    siti = laptops.enroll("siti")
    with pytest.raises(InvalidRecord) as refused:
        siti.store.add("beneficiary", beneficiary(name=name))
    assert list(refused.value.errors) == ["name"]
    assert siti.store.status()["pending"] == 0


def test_the_hub_refuses_a_pushed_nul_in_a_name_naming_it(laptops, hub_app):
    siti = laptops.enroll("siti")
    me = siti.store.identity
    change = {
        "change_id": str(uuid.uuid4()),
        "entity": "beneficiary",
        "record_id": str(uuid.uuid4()),
        "base_seq": None,
        "fields": beneficiary(name="Ibu Sri\x00"),
        "hlc": f"0001732345678901:000000:{me.device_id}",
        "device_id": me.device_id,
        "author_id": me.user,
    }
    pushed = hub_app.test_client().post(
        "/api/v1/sync/push",
        json={"protocol": 1, "schema_version": 1, "changes": [change]},
        headers={"Authorization": f"Bearer {me.token}"},
    )

    (receipt,) = pushed.get_json()["receipts"]
    assert receipt["status"] == "rejected"
    assert list(receipt["errors"]) == ["name"]
    assert hub_app.extensions["pendamping"].storage.stats()["records"]["beneficiary"] == 0
