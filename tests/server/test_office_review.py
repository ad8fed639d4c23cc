"""The office's review of visits (server/office/review.py) and what a laptop's edit does to
it (server/sync.py), over the in-process hub with real laptop stores."""

from __future__ import annotations

import json
import uuid

import pytest

from server.exceptions import Invalid, Missing, NotAllowed, StateConflict
from server.office.writes import MAX_BATCH
from server.storage import User
from server.timeutil import utc_iso
from tests.conftest import beneficiary, visit

pytestmark = pytest.mark.both_backends

#: schemas/validators.py's words for a control character in a multi-line note
CONTROL = (
    "Tidak boleh memuat karakter kendali (escape terminal, NUL); "
    "hanya baris baru dan tab yang boleh."
)


@pytest.fixture
def state(hub_app):
    return hub_app.extensions["pendamping"]


@pytest.fixture
def kasi(hub_storage) -> User:
    hub_storage.add_user(User("kasi", "supervisor", ("31.71",)), utc_iso())
    return hub_storage.get_user("kasi")


@pytest.fixture
def siti(laptops):
    return laptops.enroll("siti")


def synced_visits(laptop, n: int = 1) -> list[str]:
    bid = laptop.store.add("beneficiary", beneficiary())
    ids = [laptop.store.add("visit", visit(bid, findings=f"Kunjungan {i}")) for i in range(n)]
    laptop.sync()
    return ids


def written(hub_storage) -> tuple[int, int]:
    """The hub's change count and audit length: what a refused action must leave alone."""
    return hub_storage.stats()["changes"], len(list(hub_storage.iter_audit()))


def test_a_returned_visit_carries_the_reason_who_and_when(state, kasi, siti, hub_storage):
    [vid] = synced_visits(siti)

    done = state.reviews.send_back(kasi, [vid], "  Foto rumah belum ada.\n")

    assert done.written == [vid] and done.seqs is not None
    review = hub_storage.get_record(vid).data["review"]
    assert (review["state"], review["reason"], review["by"]) == (
        "dikembalikan",
        "Foto rumah belum ada.",
        "kasi",
    )
    [change] = [c for c in hub_storage.iter_changes(vid) if c.author_id == "kasi"]
    assert (change.device_id, json.loads(change.receipt_json)["status"]) == ("hub", "applied")
    [entry] = hub_storage.iter_audit(newest=1)
    assert (entry.actor, entry.action, entry.device_id) == ("kasi", "review_visits", "hub")
    assert "Foto rumah" not in entry.detail  # ids and counts, never the text


def test_the_pendamping_edit_puts_the_visit_back_into_review_in_the_same_push(
    state, kasi, siti, hub_storage
):
    [vid] = synced_visits(siti)
    state.reviews.accept(kasi, [vid])
    siti.sync()
    assert siti.store.get("visit", vid)["review"]["state"] == "diterima"

    siti.store.update("visit", vid, {"follow_up": "Kunjungi lagi bulan depan."})
    assert siti.store.get("visit", vid)["review"] is None  # shown waiting at once
    siti.sync()

    held = hub_storage.get_record(vid)
    assert held.data["review"] is None and held.data["follow_up"] == "Kunjungi lagi bulan depan."
    *_, edit, reopen = list(hub_storage.iter_changes(vid))
    assert (edit.author_id, reopen.device_id, json.loads(reopen.fields_json)) == (
        "siti",
        "hub",
        {"review": None},
    )
    assert json.loads(reopen.receipt_json)["seq"] == json.loads(edit.receipt_json)["seq"] + 1
    siti.sync()
    assert siti.store.get("visit", vid)["review"] is None
    assert siti.store.status()["awaiting_pull"] == 0  # the laptop pulled the hub's copy back


def test_a_delete_of_a_reviewed_visit_is_a_tombstone_not_a_new_review(
    state, kasi, siti, hub_storage
):
    [vid] = synced_visits(siti)
    state.reviews.accept(kasi, [vid])
    siti.sync()
    siti.store.delete("visit", vid)
    siti.sync()
    held = hub_storage.get_record(vid)
    assert held.deleted and held.data["review"]["state"] == "diterima"


def test_a_laptop_cannot_set_the_review_itself(state, siti, hub_storage):
    [vid] = synced_visits(siti)
    device = hub_storage.get_device(siti.store.identity.device_id)
    change = {
        "change_id": str(uuid.uuid4()),
        "device_id": device.device_id,
        "author_id": "siti",
        "entity": "visit",
        "record_id": vid,
        "op": "put",
        "base_seq": hub_storage.get_record(vid).seq,
        "hlc": f"{int(1e12) + 10**11:016d}:000000:{device.device_id}",
        "fields": {"review": {"state": "diterima", "reason": None, "by": "siti", "at": "x"}},
    }
    [receipt] = state.sync.push(device, [change]).receipts
    assert receipt["status"] == "rejected" and "review" in receipt["errors"]
    assert hub_storage.get_record(vid).data.get("review") is None


def test_bulk_accept_is_one_transaction_and_repeats_write_nothing(state, kasi, siti, hub_storage):
    ids = synced_visits(siti, 4)
    first = state.reviews.accept(kasi, ids[:2])
    again = state.reviews.accept(kasi, ids)
    assert again.written == ids[2:] and again.unchanged == ids[:2]
    assert again.seqs == (first.seqs[1] + 1, first.seqs[1] + 2)
    before = written(hub_storage)
    nothing = state.reviews.accept(kasi, ids)
    assert (nothing.written, nothing.seqs) == ([], None)
    assert written(hub_storage) == before


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        (None, "Wajib diisi."),
        ("   ", "Wajib diisi."),
        ("x" * 1001, "Paling banyak 1000 karakter."),
        ("Foto\x00kurang", CONTROL),
        ("Foto\x1b[31m", CONTROL),
    ],
)
def test_a_bad_reason_names_the_field_and_writes_nothing(
    state, kasi, siti, hub_storage, reason, message
):
    [vid] = synced_visits(siti)
    before = written(hub_storage)
    with pytest.raises(Invalid) as refused:
        state.reviews.send_back(kasi, [vid], reason)
    assert refused.value.errors == {"reason": [message]}
    assert written(hub_storage) == before


def test_a_reason_may_span_lines(state, kasi, siti, hub_storage):
    [vid] = synced_visits(siti)
    state.reviews.send_back(kasi, [vid], "Foto kurang jelas.\r\nTanda tangan\tbelum ada.")
    assert "\tbelum" in hub_storage.get_record(vid).data["review"]["reason"]


def test_one_unknown_id_in_a_bulk_writes_none_of_them(state, kasi, siti, hub_storage):
    ids = synced_visits(siti, 2)
    stranger = str(uuid.uuid4())
    before = written(hub_storage)
    with pytest.raises(Missing) as refused:
        state.reviews.accept(kasi, [*ids, stranger])
    assert stranger in refused.value.errors["visit_ids"][0]
    assert written(hub_storage) == before
    assert all(hub_storage.get_record(i).data.get("review") is None for i in ids)


@pytest.mark.parametrize(
    "ids",
    [[], ["bukan-id"], [str(uuid.uuid4()).upper()], [str(uuid.uuid4()) for _ in range(501)]],
    ids=["none", "not an id", "not canonical", "over the limit"],
)
def test_a_bad_id_list_is_refused_naming_visit_ids(state, kasi, ids):
    assert MAX_BATCH == 500
    with pytest.raises(Invalid) as refused:
        state.reviews.accept(kasi, ids)
    assert list(refused.value.errors) == ["visit_ids"]


def test_a_visit_outside_the_supervisors_wilayah_is_not_found(state, laptops, hub_storage):
    hub_storage.add_user(User("kasi-72", "supervisor", ("31.72",)), utc_iso())
    [vid] = synced_visits(laptops.enroll("siti"))
    before = written(hub_storage)
    with pytest.raises(Missing):
        state.reviews.accept(hub_storage.get_user("kasi-72"), [vid])
    assert written(hub_storage) == before


def test_an_admin_reviews_anywhere_and_a_pendamping_nowhere(state, laptops, hub_storage):
    hub_storage.add_user(User("kadis", "admin", ()), utc_iso())
    siti = laptops.enroll("siti")
    [vid] = synced_visits(siti)
    assert state.reviews.accept(hub_storage.get_user("kadis"), [vid]).written == [vid]
    with pytest.raises(NotAllowed):
        state.reviews.send_back(hub_storage.get_user("siti"), [vid], "Tidak.")


def test_a_visit_edited_since_the_page_showed_it_is_not_accepted_unread(
    state, kasi, siti, hub_storage
):
    [vid] = synced_visits(siti)
    shown = hub_storage.get_record(vid).seq
    siti.store.update("visit", vid, {"findings": "Ditambah setelah kantor melihat."})
    siti.sync()
    with pytest.raises(StateConflict) as refused:
        state.reviews.accept(kasi, [vid], seen={vid: shown})
    assert list(refused.value.errors) == ["visit_ids"]
    assert hub_storage.get_record(vid).data.get("review") is None
    assert state.reviews.accept(kasi, [vid], seen={vid: hub_storage.get_record(vid).seq}).written
