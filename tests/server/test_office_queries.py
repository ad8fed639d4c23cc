"""The office's queries over records that arrived the real ways: a push, a USB bundle, a
conflict resolution. The read model is kept by each in its own transaction."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from client_sync.bundle import export_bundle
from server.bundle import import_bundle
from server.exceptions import Invalid, Missing, OutsideScope
from server.office import OfficeCalendar, OfficeQueries, summary
from server.scope import Scope
from server.storage import User
from server.timeutil import utc_iso
from tests.conftest import beneficiary, visit

pytestmark = pytest.mark.both_backends

NOW = dt.datetime(2026, 11, 23, 5, 0, tzinfo=dt.UTC)  # 12:00 WIB
DISTRICT, OTHER = Scope(("31.71",)), Scope(("31.72",))


@pytest.fixture
def office(hub_app) -> OfficeQueries:
    state = hub_app.extensions["pendamping"]
    return OfficeQueries(state.storage, OfficeCalendar(7), hub_app.config["PROGRAMS"], lambda: NOW)


@pytest.fixture
def siti(laptops):
    return laptops.enroll("siti", wilayah=("31.71.01",))


@pytest.fixture
def dewi(laptops):
    return laptops.enroll("dewi", wilayah=("31.72.01",))


def test_a_pushed_visit_is_listed_with_its_pendamping_and_waits_for_review(office, siti):
    bid = siti.store.add("beneficiary", beneficiary(name="Ibu Sri Wahyuni"))
    vid = siti.store.add("visit", visit(bid, visited_at="2026-11-20T09:30:00+07:00"))
    siti.sync()
    page = office.visits(DISTRICT, office.record_filter(DISTRICT, month="2026-11"))
    assert [(v.id, v.author, v.review_state) for v in page.items] == [(vid, "siti", "menunggu")]
    assert page.total == 1
    assert page.items[0].beneficiary_name == "Ibu Sri Wahyuni"
    assert office.visits(OTHER, office.record_filter(OTHER)).items == []
    assert summary(office, DISTRICT).visits_waiting == 1
    assert summary(office, OTHER).visits_waiting == 0


def test_the_author_is_the_laptop_s_user_not_the_name_a_change_claims(office, siti, hub_app):
    bid = siti.store.add("beneficiary", beneficiary())
    siti.sync()
    found = office.search(DISTRICT, "wahyuni")
    assert [b.author for b in found] == ["siti"]
    page = office.beneficiary(DISTRICT, bid)
    assert [h.user for h in page.history] == ["siti"]


def test_a_bundle_fills_the_read_model_as_a_push_does(office, siti, hub_app, tmp_path: Path):
    bid = siti.store.add("beneficiary", beneficiary(programs=["KLJ", "KPDJ"]))
    siti.store.add("visit", visit(bid, visited_at="2026-11-02T08:00:00+07:00"))
    path = export_bundle(siti.store, siti.home, tmp_path / "siti.zip").path
    import_bundle(hub_app.extensions["pendamping"], path)
    assert office.visits(DISTRICT, office.record_filter(DISTRICT, pendamping="siti")).total == 1
    coverage = {c.program: (c.enrolled, c.visited) for c in summary(office, DISTRICT).coverage}
    assert coverage["KLJ"] == (1, 1)
    assert coverage["KPDJ"] == (1, 1)
    assert coverage["KAJ"] == (0, 0)


def test_coverage_names_who_nobody_visited_in_30_days_until_a_visit_arrives(office, siti):
    bid = siti.store.add("beneficiary", beneficiary(name="Pak Slamet", nik=None))
    siti.store.add("visit", visit(bid, visited_at="2026-09-01T08:00:00+07:00"))
    siti.sync()
    report = office.coverage(DISTRICT, "KLJ")
    assert [(u.name, u.author) for u in report.page.items] == [("Pak Slamet", "siti")]
    assert report.counts.by_kelurahan == {"31.71.01.1001": 1}
    assert report.counts.by_author == {"siti": 1}
    assert office.coverage(OTHER, "KLJ").counts.total == 0
    siti.store.add("visit", visit(bid, visited_at="2026-11-22T08:00:00+07:00"))
    siti.sync()
    assert office.coverage(DISTRICT, "KLJ").counts.total == 0


def test_a_conflict_resolution_that_merges_two_people_moves_them_out_of_the_lists(
    office, siti, laptops, hub_app
):
    budi = laptops.enroll("budi", wilayah=("31.71.01",))
    first = siti.store.add("beneficiary", beneficiary(name="Sri Wahyuni"))
    siti.sync()
    second = budi.store.add("beneficiary", beneficiary(name="Sri Wahyuningsih"))
    budi.store.add("visit", visit(second))
    budi.sync()
    assert len(office.search(DISTRICT, "3171014508450001")) == 2
    assert summary(office, DISTRICT).open_conflicts == 1
    state = hub_app.extensions["pendamping"]
    hub_app.extensions["pendamping"].storage.add_user(
        User("spv", "supervisor", ("31.71",)), utc_iso()
    )
    (conflict,) = state.conflicts.list(DISTRICT, True, 10)
    state.conflicts.resolve(conflict["conflict_id"], "spv", DISTRICT, "merge", survivor=first)
    assert [b.id for b in office.search(DISTRICT, "3171014508450001")] == [first]
    assert summary(office, DISTRICT).open_conflicts == 0
    assert [
        v.beneficiary_id for v in office.visits(DISTRICT, office.record_filter(DISTRICT)).items
    ] == [first]
    # one person, once, visited through the visit that moved to the survivor
    coverage = {c.program: (c.enrolled, c.visited) for c in summary(office, DISTRICT).coverage}
    assert coverage["KLJ"] == (1, 1)
    with pytest.raises(Missing):
        office.beneficiary(DISTRICT, second)  # a tombstone has no page


def test_a_beneficiary_s_page_holds_its_visits_requests_photos_and_history(office, siti):
    sha = "a" * 64
    bid = siti.store.add("beneficiary", beneficiary(attachments=[sha]))
    siti.store.add("visit", visit(bid, visited_at="2026-11-20T09:30:00+07:00"))
    siti.store.add("visit", visit(bid, visited_at="2026-10-20T09:30:00+07:00"))
    siti.store.add(
        "device_request",
        {"beneficiary_id": bid, "device_type": "kruk", "kelurahan": "31.71.01.1001"},
    )
    siti.sync()
    siti.store.update("beneficiary", bid, {"phone": "0812-3456-7890"})
    siti.sync()
    page = office.beneficiary(DISTRICT, bid)
    assert [v.data["visited_at"][:7] for v in page.visits] == ["2026-10", "2026-11"]
    assert [r.data["status"] for r in page.requests] == ["diajukan"]
    assert page.photos == [sha]
    assert [sorted(h.fields) for h in page.history][1] == ["phone"]
    with pytest.raises(Missing):
        office.beneficiary(OTHER, bid)  # outside the scope: as if it did not exist


def test_requests_are_listed_by_status_with_their_age(office, siti):
    bid = siti.store.add("beneficiary", beneficiary())
    siti.store.add(
        "device_request",
        {"beneficiary_id": bid, "device_type": "kruk", "kelurahan": "31.71.01.1001"},
    )
    siti.sync()
    ((count, age),) = office.requests_by_status(DISTRICT)
    assert (count.status, count.count) == ("diajukan", 1)
    assert age >= 0
    page = office.requests(DISTRICT, office.record_filter(DISTRICT, status="diajukan"))
    assert [item.device_type for item, _age in page.items] == ["kruk"]
    assert office.requests_by_status(OTHER) == []


def test_the_summary_counts_laptops_in_scope_and_calls_the_never_synced_silent(hub_app, siti, dewi):
    siti.store.add("beneficiary", beneficiary())
    siti.sync()
    state = hub_app.extensions["pendamping"]
    office = OfficeQueries(state.storage, OfficeCalendar(7), ["KLJ"])  # the real clock
    mine = summary(office, DISTRICT)
    assert (mine.laptops, mine.syncs_today, mine.silent_laptops) == (1, 1, 0)
    theirs = summary(office, OTHER)
    assert (theirs.laptops, theirs.syncs_today, theirs.silent_laptops) == (1, 0, 1)  # never
    assert summary(office, Scope(None)).laptops == 2


def test_what_the_office_types_is_checked_and_named(office):
    with pytest.raises(Invalid) as bad_month:
        office.record_filter(DISTRICT, month="2026-13")
    assert bad_month.value.errors == {"month": ["Bulan harus berbentuk YYYY-MM, mis. 2026-01."]}
    for field, value in (
        ("program", "XYZ"),
        ("purpose", "x"),
        ("review_state", "ok"),
        ("status", "x"),
        ("wilayah", "31.7"),
    ):
        with pytest.raises(Invalid) as refused:
            office.record_filter(DISTRICT, **{field: value})
        assert list(refused.value.errors) == [field]
    with pytest.raises(OutsideScope):
        office.record_filter(DISTRICT, wilayah="31.72.01")
    narrowed = office.record_filter(Scope(("31.71.01", "31.71.02")), wilayah="31.71")
    assert narrowed.wilayah == ("31.71.01", "31.71.02")
    period = office.record_filter(DISTRICT, day="2026-01-15")
    assert period.start == dt.datetime(2026, 1, 14, 17, 0, tzinfo=dt.UTC)


def test_a_hostile_page_cursor_starts_from_the_first_page(office, siti):
    bid = siti.store.add("beneficiary", beneficiary())
    siti.store.add("visit", visit(bid))
    siti.sync()
    for token in ("garbage", "W10", "x" * 5000, "WyJhIiwgMV0"):
        assert office.visits(DISTRICT, office.record_filter(DISTRICT), after=token).total == 1
