"""A record that leaves a wilayah leaves the laptops of that wilayah (docs/protocol.md, Pull).

The supervisor of the kota moves a beneficiary from 31.71.01.1001 to 31.71.02.1003: the
pendamping of 31.71.01 drops it, the pendamping of 31.71.02 gets it, a laptop that never held
it hears nothing, and a pending edit of the moved record is refused and kept, never lost.
"""

from __future__ import annotations

import pytest

from client_sync import FieldDevice
from client_sync.errors import RecordNotFound
from client_sync.hub import HubClient
from tests.conftest import KELURAHAN, OTHER_KELURAHAN, beneficiary, visit
from tests.support.transports import WsgiTransport

pytestmark = pytest.mark.both_backends


@pytest.fixture
def moved(laptops):
    """Siti (31.71.01) records a beneficiary; the kota's supervisor moves it to 31.71.02."""
    siti = laptops.enroll("siti", wilayah=("31.71.01",))
    wayan = laptops.enroll("wayan", wilayah=("31.71.02",))
    kasi = laptops.enroll("bu-kasi", wilayah=("31.71",), role="supervisor")
    bid = siti.store.add("beneficiary", beneficiary())
    assert siti.sync().rejected == 0
    kasi.sync()

    def move() -> None:
        kasi.store.update("beneficiary", bid, {"kelurahan": OTHER_KELURAHAN})
        result = kasi.sync()
        assert (result.pushed, result.rejected) == (1, 0)

    return siti, wayan, kasi, bid, move


def test_the_laptop_of_the_old_wilayah_drops_the_record_that_left_it(moved):
    siti, _wayan, kasi, bid, move = moved
    move()

    siti.sync()

    with pytest.raises(RecordNotFound):
        siti.store.get("beneficiary", bid)
    assert siti.store.list("beneficiary") == []
    assert siti.store.status()["awaiting_pull"] == 0  # nothing left waiting for a pull
    assert kasi.store.get("beneficiary", bid)["kelurahan"] == OTHER_KELURAHAN


def test_the_laptop_of_the_new_wilayah_pulls_the_record(moved):
    _siti, wayan, _kasi, bid, move = moved
    move()

    wayan.sync()

    assert wayan.store.get("beneficiary", bid)["kelurahan"] == OTHER_KELURAHAN


def test_a_scope_that_never_held_the_record_gets_no_exit(moved, laptops, hub_app):
    *_, move = moved
    ani = laptops.enroll("ani", wilayah=("31.71.03",))
    move()

    page = HubClient(WsgiTransport(hub_app), ani.store.identity.token).pull(0, 100)

    assert (page["records"], page.get("exits", [])) == ([], [])


def test_the_kotas_supervisor_covering_both_places_gets_no_exit(moved, hub_app):
    _siti, _wayan, kasi, bid, move = moved
    move()

    page = HubClient(WsgiTransport(hub_app), kasi.store.identity.token).pull(0, 100)

    assert page.get("exits", []) == []
    kasi.sync()
    assert kasi.store.get("beneficiary", bid)["kelurahan"] == OTHER_KELURAHAN


def test_a_record_that_comes_back_is_held_again(moved, laptops):
    siti, _wayan, kasi, bid, move = moved
    move()
    kasi.store.update("beneficiary", bid, {"kelurahan": KELURAHAN})  # back again
    kasi.sync()

    siti.sync()  # one page holds the exit and the record's newer state

    assert siti.store.get("beneficiary", bid)["kelurahan"] == KELURAHAN


def test_a_pending_edit_of_a_record_that_left_is_refused_and_kept(moved):
    siti, _wayan, _kasi, bid, move = moved
    siti.store.update("beneficiary", bid, {"phone": "081234567890"})
    move()

    result = siti.sync()

    assert result.rejected == 1
    [refused] = siti.store.rejected()
    assert refused["record_id"] == bid and refused["fields"] == {"phone": "081234567890"}
    assert "kelurahan" in refused["errors"]


def test_a_visit_stays_where_it_was_recorded(moved):
    siti, _wayan, _kasi, bid, move = moved
    vid = siti.store.add("visit", visit(bid))
    siti.sync()
    move()

    siti.sync()

    assert siti.store.get("visit", vid)["kelurahan"] == KELURAHAN  # its own kelurahan


def test_a_laptop_that_pulled_nothing_yet_is_not_confused_by_an_exit(moved, laptops):
    *_, move = moved
    move()
    late: FieldDevice = laptops.enroll("tini", wilayah=("31.71.01",))

    result = late.sync()

    assert (result.pulled, late.store.list("beneficiary")) == (0, [])
