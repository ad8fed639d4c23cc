"""The office's ABF transitions (server/office/requests.py): the lifecycle, the roles, the
conflict policy against laptops that moved the same request offline, and bad input."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

import pytest

from server.exceptions import Invalid, Missing, NotAllowed, StateConflict
from server.scope import EVERYWHERE
from server.storage import User
from server.timeutil import utc_iso
from tests.conftest import beneficiary

pytestmark = pytest.mark.both_backends

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4


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


def synced_request(laptop) -> str:
    bid = laptop.store.add("beneficiary", beneficiary())
    rid = laptop.store.add("device_request", {"beneficiary_id": bid, "device_type": "kursi_roda"})
    laptop.sync()
    return rid


def written(hub_storage) -> tuple[int, int]:
    return hub_storage.stats()["changes"], len(list(hub_storage.iter_audit()))


def deliver(state, user, rid, **overrides):
    """Record the handover with the photo :data:`JPEG`, stored first unless it is there."""
    sha = hashlib.sha256(JPEG).hexdigest()
    if state.attachments.blob_path(sha) is None:
        state.requests.store_photo(user, rid, JPEG, "serah.jpg")
    fields = {"handover_date": "2026-01-05", "received_by": "Ibu Sri", "photo_sha256": sha}
    fields.update(overrides)
    return state.requests.deliver(user, rid, **fields)


def test_the_office_walks_a_request_to_its_handover(state, kasi, siti, hub_storage):
    rid = synced_request(siti)
    for step in (state.requests.verify, state.requests.approve):
        assert step(kasi, rid).outcome == "applied"
    done = deliver(state, kasi, rid)

    assert (done.status, done.outcome) == ("diserahkan", "applied")
    data = hub_storage.get_record(rid).data
    assert (data["handover_date"], data["received_by"]) == ("2026-01-05", "Ibu Sri")
    assert data["attachments"] == [hashlib.sha256(JPEG).hexdigest()]
    history = state.requests.history(kasi, rid)
    assert [(s["to"], s["by"], s["device"]) for s in history["status_history"][1:]] == [
        ("diverifikasi", "kasi", "hub"),
        ("disetujui", "kasi", "hub"),
        ("diserahkan", "kasi", "hub"),
    ]
    assert [c["by"] for c in history["changes"]] == ["siti", "kasi", "kasi", "kasi"]
    audit = [e for e in hub_storage.iter_audit() if e.actor == "kasi"]
    assert [e.action for e in audit] == [
        "request_transition",
        "request_transition",
        "office_photo",
        "request_transition",
    ]
    siti.sync()
    assert siti.store.get("device_request", rid)["status"] == "diserahkan"


def test_a_rejection_carries_its_reason_to_the_laptop(state, kasi, siti):
    rid = synced_request(siti)
    state.requests.reject(kasi, rid, "Sudah menerima kursi roda tahun lalu.")
    siti.sync()
    held = siti.store.get("device_request", rid)
    assert (held["status"], held["reject_reason"]) == (
        "ditolak",
        "Sudah menerima kursi roda tahun lalu.",
    )


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda s, u, r: s.requests.reject(u, r, ""), "reason"),
        (lambda s, u, r: s.requests.reject(u, r, "a\x07b"), "reason"),
        (lambda s, u, r: deliver(s, u, r, handover_date="05-01-2026"), "handover_date"),
        (lambda s, u, r: deliver(s, u, r, handover_date="2026-02-30"), "handover_date"),
        (lambda s, u, r: deliver(s, u, r, handover_date="2999-01-01"), "handover_date"),
        (lambda s, u, r: deliver(s, u, r, received_by=""), "received_by"),
        (lambda s, u, r: deliver(s, u, r, received_by="x" * 201), "received_by"),
        (lambda s, u, r: deliver(s, u, r, photo_sha256="0" * 64), "photo"),
        (lambda s, u, r: s.requests.approve(u, r, seen="12"), "seen"),
        (lambda s, u, r: s.requests.approve(u, "bukan-id"), "request_id"),
    ],
)
def test_bad_input_names_the_field_and_moves_nothing(state, kasi, siti, hub_storage, call, field):
    rid = synced_request(siti)
    state.requests.verify(kasi, rid)
    state.requests.approve(kasi, rid)
    state.requests.store_photo(kasi, rid, JPEG)  # so only the field under test is wrong
    before = written(hub_storage)
    with pytest.raises(Invalid) as refused:
        call(state, kasi, rid)
    assert list(refused.value.errors) == [field]
    assert written(hub_storage) == before
    assert hub_storage.get_record(rid).data["status"] == "disetujui"


def test_a_photo_that_is_not_a_photo_is_refused_and_nothing_is_kept(
    state, kasi, siti, hub_storage, hub_app
):
    rid = synced_request(siti)
    state.requests.verify(kasi, rid)
    state.requests.approve(kasi, rid)
    before = written(hub_storage)
    with pytest.raises(Invalid) as refused:
        state.requests.deliver_with_photo(
            kasi, rid, b"%PDF-1.4 ...", handover_date="2026-01-05", received_by="Ibu Sri"
        )
    assert list(refused.value.errors) == ["photo"]
    assert written(hub_storage) == before
    assert not list((state.attachments.root / "blobs").iterdir())


def test_a_bad_date_is_refused_before_the_photo_is_kept(state, kasi, siti, hub_storage):
    rid = synced_request(siti)
    state.requests.verify(kasi, rid)
    state.requests.approve(kasi, rid)
    before = written(hub_storage)
    with pytest.raises(Invalid):
        state.requests.deliver_with_photo(
            kasi, rid, JPEG, handover_date="kemarin", received_by="Ibu Sri"
        )
    assert written(hub_storage) == before
    assert not list((state.attachments.root / "blobs").iterdir())


def test_today_in_eastern_indonesia_is_not_the_future(state, kasi, siti):
    rid = synced_request(siti)
    state.requests.verify(kasi, rid)
    state.requests.approve(kasi, rid)
    wit_today = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=9)).date().isoformat()
    assert deliver(state, kasi, rid, handover_date=wit_today).status == "diserahkan"


def test_an_illegal_move_is_refused_naming_status(state, kasi, siti, hub_storage):
    rid = synced_request(siti)
    before = written(hub_storage)
    with pytest.raises(StateConflict) as refused:
        state.requests.approve(kasi, rid)  # diajukan -> disetujui skips verification
    assert list(refused.value.errors) == ["status"]
    with pytest.raises(StateConflict):
        deliver(state, kasi, rid)
    assert written(hub_storage)[0] == before[0]  # the photo's audit entry only


def test_a_pendamping_cannot_approve(state, siti, hub_storage):
    rid = synced_request(siti)
    with pytest.raises(NotAllowed):
        state.requests.approve(hub_storage.get_user("siti"), rid)
    with pytest.raises(NotAllowed):
        state.requests.verify(hub_storage.get_user("siti"), rid)  # not through the office


def test_a_request_of_another_district_is_not_found(state, siti, hub_storage):
    hub_storage.add_user(User("kasi-72", "supervisor", ("31.72",)), utc_iso())
    other = hub_storage.get_user("kasi-72")
    rid = synced_request(siti)
    before = written(hub_storage)
    for call in (
        lambda: state.requests.verify(other, rid),
        lambda: state.requests.history(other, rid),
        lambda: state.requests.store_photo(other, rid, JPEG),
        lambda: state.requests.verify(other, str(uuid.uuid4())),
    ):
        with pytest.raises(Missing):
            call()
    assert written(hub_storage) == before


def test_approve_then_a_cancellation_from_the_field_keeps_both_in_the_history(
    state, kasi, siti, hub_storage
):
    """docs/conflicts.md: approve and cancel are compatible; the later one applies after
    the earlier, and the history keeps both (the office's approval is not lost)."""
    rid = synced_request(siti)
    state.requests.verify(kasi, rid)
    siti.sync()
    siti.store.update("device_request", rid, {"status": "dibatalkan"})  # offline
    state.requests.approve(kasi, rid)
    siti.sync()
    data = hub_storage.get_record(rid).data
    assert data["status"] == "dibatalkan"
    assert [(s["to"], s["by"]) for s in data["status_history"][-2:]] == [
        ("disetujui", "kasi"),
        ("dibatalkan", "siti"),
    ]


def test_a_rejection_and_an_offline_cancellation_are_a_conflict_with_both_sides(
    state, kasi, siti, hub_storage
):
    rid = synced_request(siti)
    siti.store.update("device_request", rid, {"status": "dibatalkan"})  # offline
    state.requests.reject(kasi, rid, "Tidak memenuhi syarat.")
    result = siti.sync()
    assert result.conflicts == 1
    assert hub_storage.get_record(rid).data["status"] == "ditolak"
    [queued] = state.conflicts.list(EVERYWHERE)
    assert (queued["kept"]["value"], queued["lost"]["value"]) == ("ditolak", "dibatalkan")
    assert (queued["lost"]["author"], queued["kept"]["device"]) == ("siti", "hub")


def test_an_office_move_on_a_stale_page_meets_the_fields_change_as_a_conflict(
    state, kasi, siti, hub_storage
):
    rid = synced_request(siti)
    state.requests.verify(kasi, rid)
    siti.sync()
    shown = hub_storage.get_record(rid).seq  # the office's page shows it diverifikasi
    siti.store.update("device_request", rid, {"status": "dibatalkan"})
    siti.sync()  # the cancellation arrives first

    done = state.requests.approve(kasi, rid, seen=shown)

    assert (done.outcome, done.status) == ("conflict", "dibatalkan")
    [queued] = state.conflicts.list(EVERYWHERE)
    assert (queued["kept"]["value"], queued["lost"]["value"]) == ("dibatalkan", "disetujui")
    assert queued["lost"]["author"] == "kasi"
    with pytest.raises(StateConflict):  # on the current state it is plainly not legal
        state.requests.approve(kasi, rid)


def test_a_request_already_in_that_status_is_not_moved_again(state, kasi, siti, hub_storage):
    rid = synced_request(siti)
    state.requests.verify(kasi, rid)
    before = written(hub_storage)
    with pytest.raises(StateConflict):
        state.requests.verify(kasi, rid)
    assert written(hub_storage) == before
