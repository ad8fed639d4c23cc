"""The whole basic job, laptop and hub in one process through the Flask test client."""

from __future__ import annotations

import pytest

from client_sync.errors import HubUnreachable, InvalidRecord
from tests.conftest import KELURAHAN, beneficiary, visit
from tests.support.transports import FlakyTransport, WsgiTransport

pytestmark = pytest.mark.both_backends


def test_records_made_offline_reach_a_second_laptop_in_the_same_wilayah(laptops):
    siti = laptops.enroll("siti")
    budi = laptops.enroll("budi")
    bid = siti.store.add("beneficiary", beneficiary())
    vid = siti.store.add("visit", visit(bid))
    rid = siti.store.add(
        "device_request",
        {
            "beneficiary_id": bid,
            "device_type": "kursi_roda",
            "reason": "Tidak dapat berjalan jauh.",
        },
    )
    siti.store.update("beneficiary", bid, {"phone": "081234567890"})

    pushed = siti.sync()
    pulled = budi.sync()

    assert (pushed.pushed, pushed.rejected) == (4, 0)
    assert pulled.pulled == 3
    assert budi.store.get("beneficiary", bid)["phone"] == "081234567890"
    assert budi.store.get("visit", vid)["kelurahan"] == KELURAHAN
    assert budi.store.get("device_request", rid)["status"] == "diajukan"
    assert siti.store.status()["pending"] == 0


def test_a_laptop_in_another_wilayah_pulls_nothing_of_the_first(laptops):
    siti = laptops.enroll("siti", wilayah=("31.71.01",))
    wayan = laptops.enroll("wayan", wilayah=("31.71.02",))
    siti.store.add("beneficiary", beneficiary())
    siti.sync()

    result = wayan.sync()

    assert result.pulled == 0
    assert wayan.store.list("beneficiary") == []


def test_a_lost_response_after_the_hub_committed_is_resent_without_duplicates(
    laptops, hub_app, hub_storage
):
    pushes = []

    def lose_first_push_response(call, method, path):
        if path.endswith("/push"):
            pushes.append(call)
            return "response" if len(pushes) == 1 else None
        return None

    flaky = FlakyTransport(WsgiTransport(hub_app), lose_first_push_response)
    siti = laptops.enroll("siti", transport_factory=lambda _url: flaky)
    bid = siti.store.add("beneficiary", beneficiary())
    for n in range(5):
        siti.store.add("visit", visit(bid, findings=f"kunjungan {n}"))

    with pytest.raises(HubUnreachable):
        siti.sync()
    assert siti.store.status()["pending"] == 6  # nothing marked delivered without a receipt
    assert hub_storage.stats()["changes"] == 6  # ...although the hub did commit them

    result = siti.sync()

    assert (result.pushed, result.rejected) == (6, 0)
    assert hub_storage.stats()["changes"] == 6
    assert hub_storage.stats()["records"] == {"beneficiary": 1, "visit": 5, "device_request": 0}
    assert len(siti.store.list("visit")) == 5
    assert siti.store.status()["pending"] == 0


def test_a_request_dropped_before_the_hub_saw_it_is_sent_again_next_round(
    laptops, hub_app, hub_storage
):
    flaky = FlakyTransport(
        WsgiTransport(hub_app), lambda call, method, path: "request" if call == 2 else None
    )
    siti = laptops.enroll("siti", transport_factory=lambda _url: flaky)
    siti.store.add("beneficiary", beneficiary())

    with pytest.raises(HubUnreachable):
        siti.sync()
    siti.sync()

    assert hub_storage.stats()["records"]["beneficiary"] == 1
    assert siti.store.status()["last_sync_outcome"] == "ok"


def test_a_pull_pages_through_many_records_and_gets_each_once(laptops):
    siti = laptops.enroll("siti")
    budi = laptops.enroll("budi")
    bid = siti.store.add("beneficiary", beneficiary())
    made = {siti.store.add("visit", visit(bid, findings=f"ke-{n}")) for n in range(23)}
    siti.sync()

    result = budi.sync(pull_limit=5)

    assert result.pages == 5
    assert result.pulled == 24
    assert {v["id"] for v in budi.store.list("visit")} == made


def test_an_invalid_nik_is_refused_on_the_laptop_and_names_the_field(laptops):
    siti = laptops.enroll("siti")

    with pytest.raises(InvalidRecord) as refused:
        siti.store.add("beneficiary", beneficiary(nik="3171014508450000"))

    assert "nik" in refused.value.errors
    assert siti.store.status()["pending"] == 0


def test_an_unknown_field_is_refused_on_the_laptop_and_names_the_field(laptops):
    siti = laptops.enroll("siti")

    with pytest.raises(InvalidRecord) as refused:
        siti.store.add("beneficiary", beneficiary(hobby="memancing"))

    assert refused.value.errors == {"hobby": ["Isian tidak dikenal."]}


def test_an_edit_made_on_top_of_a_pulled_record_reaches_the_other_laptop(laptops):
    siti = laptops.enroll("siti")
    budi = laptops.enroll("budi")
    bid = siti.store.add("beneficiary", beneficiary())
    siti.sync()
    budi.sync()

    budi.store.update("beneficiary", bid, {"address": "Jl. Melati No. 4, RT 02/RW 05"})
    budi.sync()
    siti.sync()

    assert siti.store.get("beneficiary", bid)["address"] == "Jl. Melati No. 4, RT 02/RW 05"
    assert siti.store.get("beneficiary", bid)["sync"] == "synced"


def test_a_change_the_hub_refuses_is_kept_on_the_laptop_with_its_reason(laptops):
    siti = laptops.enroll("siti", wilayah=("31.71.01",))
    # The laptop validates what it can; the hub alone knows its programme list.
    laptops.app.extensions["pendamping"].sync.programs = frozenset({"KLJ"})
    bid = siti.store.add("beneficiary", beneficiary(programs=["PKH"]))

    result = siti.sync()

    assert result.rejected == 1
    assert "programs" in result.errors[0]["errors"]
    kept = siti.store.rejected()
    assert kept[0]["record_id"] == bid
    assert kept[0]["fields"]["name"] == "Ibu Sri Wahyuni"
