"""The contract of :class:`~server.storage.office.OfficeReads`, run by every backend.

:class:`server.storage.testing.StorageContract` inherits it, so a backend's one test class
runs it through ``storage.office``. Records go in through ``storage.write()`` and
``session.save`` only, as the writer saves them, so a backend passes only if its own save
keeps the read model: nothing here knows of SQL.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from typing import Any

import pytest

from server.storage.base import ChangeRow, ConflictRow, HubStorage, RecordRow, User
from server.storage.office import RecordFilter

__all__ = ["OfficeReadsContract"]

K71 = "31.71.01.1001"
K71B = "31.71.02.1003"
K72 = "31.72.01.1001"
T = "2026-01-10T02:00:00.000Z"
UTC = dt.UTC
WIB = dt.timezone(dt.timedelta(hours=7))
_ids = itertools.count(1)


def rid(n: int) -> str:
    return f"22222222-0000-4000-8000-{n:012d}"


def _row(
    n: int,
    entity: str,
    kelurahan: str,
    data: dict[str, Any],
    *,
    author: str | None = "ani",
    deleted: bool = False,
    created_at: str = T,
) -> RecordRow:
    data = {**data, "kelurahan": kelurahan}
    clocks = {name: f"{1_760_000_000_000 + n:016d}:000000:laptop-1" for name in data}
    return RecordRow(
        rid(n), entity, kelurahan, 0, deleted, data, clocks, created_at, created_at, author=author
    )


def person(n: int, kelurahan: str = K71, **data: Any) -> RecordRow:
    fields = {"name": f"Penerima {n}", "sex": "P", "programs": ["KLJ"], **data}
    author = fields.pop("author", "ani")
    created = fields.pop("created_at", T)
    return _row(n, "beneficiary", kelurahan, fields, author=author, created_at=created)


def visit(n: int, owner: int, kelurahan: str = K71, **data: Any) -> RecordRow:
    fields = {
        "beneficiary_id": rid(owner),
        "visited_at": "2026-01-15T09:00:00+07:00",
        "purpose": "monitoring",
        **data,
    }
    author = fields.pop("author", "ani")
    return _row(n, "visit", kelurahan, fields, author=author)


def request(n: int, owner: int, status: str = "diajukan", *, kelurahan: str = K71, **data: Any):
    at = data.pop("since", T)
    fields = {
        "beneficiary_id": rid(owner),
        "device_type": "kursi_roda",
        "status": status,
        "status_history": [{"from": None, "to": status, "by": "ani", "at": at}],
        **data,
    }
    return _row(n, "device_request", kelurahan, fields, created_at=data.get("created_at", T))


def save(storage: HubStorage, *records: RecordRow, changes=(), conflicts=()) -> None:
    """Save as the writer does: each write a new seq."""
    with storage.write() as session:
        seq = session.last_seq()
        rows = []
        for record in records:
            seq += 1
            record.seq = seq
            rows.append(record)
        session.save(rows, list(changes), list(conflicts))


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


class OfficeReadsContract:
    """Mixed into the storage contract; needs its ``storage`` fixture."""

    # -- Kunjungan ------------------------------------------------------------------------

    def test_visits_come_newest_first_by_instant_whatever_offset_they_were_typed_in(
        self, storage: HubStorage
    ):
        save(
            storage,
            person(1),
            visit(2, 1, visited_at="2026-01-15T09:00:00+07:00"),  # 02:00 UTC
            visit(3, 1, visited_at="2026-01-15T01:30:00Z"),  # earlier, though "later" text
            visit(4, 1, visited_at="2026-01-15T10:00:00+08:00"),  # 02:00 UTC too
        )
        found = storage.office.visits(None, RecordFilter(), 10)
        assert [v.id for v in found] == [rid(4), rid(2), rid(3)]  # ties by id, descending
        assert found[1].visited_at == "2026-01-15T09:00:00+07:00"  # as recorded
        assert found[0].beneficiary_name == "Penerima 1"

    def test_a_period_is_bounded_by_instants_so_a_late_evening_visit_stays_in_its_day(
        self, storage: HubStorage
    ):
        save(
            storage,
            person(1),
            visit(2, 1, visited_at="2026-01-31T23:30:00+07:00"),  # January in WIB
            visit(3, 1, visited_at="2026-02-01T00:30:00+07:00"),  # February in WIB
        )
        january = RecordFilter(
            start=dt.datetime(2026, 1, 1, tzinfo=WIB), end=dt.datetime(2026, 2, 1, tzinfo=WIB)
        )
        assert [v.id for v in storage.office.visits(None, january, 10)] == [rid(2)]
        assert storage.office.count_visits(None, january) == 1

    def test_visit_pages_follow_their_keys_and_see_every_visit_once(self, storage: HubStorage):
        records = [person(1)]
        for n in range(2, 27):
            hour = n % 5  # many share a time: the id breaks the tie
            records.append(visit(n, 1, visited_at=f"2026-01-15T0{hour}:00:00+07:00"))
        save(storage, *records)
        seen, after = [], None
        while True:
            page = storage.office.visits(None, RecordFilter(), 7, after)
            seen += [v.id for v in page]
            if len(page) < 7:
                break
            after = page[-1].key
        assert sorted(seen) == sorted(rid(n) for n in range(2, 27))
        assert len(seen) == 25
        assert storage.office.count_visits(None, RecordFilter()) == 25

    def test_visits_filter_by_pendamping_purpose_review_state_wilayah_and_programme(
        self, storage: HubStorage
    ):
        save(
            storage,
            person(1, programs=["KLJ"]),
            person(2, kelurahan=K71B, programs=["KPDJ"]),
            visit(3, 1, author="ani"),
            visit(4, 1, author="budi", purpose="verifikasi"),
            visit(5, 2, kelurahan=K71B, review={"state": "diterima", "by": "spv"}),
            visit(6, 2, kelurahan=K71B, review={"state": "dikembalikan", "reason": "foto"}),
        )

        def ids(**where: Any) -> set[str]:
            found = storage.office.visits(None, RecordFilter(**where), 50)
            assert storage.office.count_visits(None, RecordFilter(**where)) == len(found)
            return {v.id for v in found}

        assert ids(author="budi") == {rid(4)}
        assert ids(purpose="verifikasi") == {rid(4)}
        assert ids(review_state="menunggu") == {rid(3), rid(4)}  # no review object yet
        assert ids(review_state="dikembalikan") == {rid(6)}
        assert ids(wilayah=("31.71.02",)) == {rid(5), rid(6)}
        assert ids(program="KLJ") == {rid(3), rid(4)}
        assert ids(program="KPDJ", review_state="diterima") == {rid(5)}

    def test_a_review_written_later_moves_the_visit_between_states(self, storage: HubStorage):
        save(storage, person(1), visit(2, 1))
        waiting = RecordFilter(review_state="menunggu")
        assert storage.office.count_visits(None, waiting) == 1
        save(storage, visit(2, 1, review={"state": "diterima", "by": "spv", "at": T}))
        assert storage.office.count_visits(None, waiting) == 0
        assert storage.office.visits(None, RecordFilter(), 5)[0].review_state == "diterima"

    def test_a_deleted_visit_leaves_every_list(self, storage: HubStorage):
        save(storage, person(1), visit(2, 1))
        gone = visit(2, 1)
        gone.deleted = True
        save(storage, gone)
        assert storage.office.visits(None, RecordFilter(), 5) == []
        assert storage.office.count_visits(None, RecordFilter()) == 0

    def test_the_author_is_the_first_writer_and_later_writes_keep_it(self, storage: HubStorage):
        save(storage, person(1), visit(2, 1, author="ani"))
        save(storage, visit(2, 1, author="budi", findings="diubah"))  # an edit by another
        assert storage.office.visits(None, RecordFilter(), 5)[0].author == "ani"
        assert storage.get_record(rid(2)).author == "ani"

    # -- scope: a supervisor of 31.71 never sees 31.72 ------------------------------------

    def test_no_query_returns_a_record_outside_the_scope(self, storage: HubStorage):
        storage.add_user(User("ani", "pendamping", (K71,)), T)
        save(
            storage,
            person(1, K71, nik="3171014508450001", name="Siti Aminah"),
            person(2, K72, nik="3172014508450002", name="Siti Rahma"),
            visit(3, 1, K71),
            visit(4, 2, K72),
            request(5, 1, kelurahan=K71),
            request(6, 2, kelurahan=K72),
        )
        with storage.write() as session:
            session.save(
                [],
                [],
                [
                    ConflictRow(
                        rid(n),
                        "beneficiary",
                        "name",
                        "field",
                        "a",
                        None,
                        "b",
                        None,
                        None,
                        None,
                        None,
                        T,
                        kelurahan=k,
                        seq=1,
                    )
                    for n, k in ((1, K71), (2, K72))
                ],
            )
        mine, office = ("31.71",), storage.office
        month = RecordFilter(start=at("2026-01-01T00:00:00+07:00"), end=at("2026-03-01T00:00Z"))
        assert {v.kelurahan for v in office.visits(mine, RecordFilter(), 50)} == {K71}
        assert office.count_visits(mine, month) == 1
        assert [b.kelurahan for b in office.search_beneficiaries(mine, "siti", 50)] == [K71]
        assert office.search_beneficiaries(mine, "3172", 50) == []
        assert [r.kelurahan for r in office.requests(mine, RecordFilter(), 50)] == [K71]
        assert sum(c.count for c in office.requests_by_status(mine)) == 1
        assert office.count_open_conflicts(mine) == 1
        since = at("2027-01-01T00:00:00Z")
        assert office.unvisited_counts(mine, "KLJ", since).by_kelurahan == {K71: 1}
        assert [u.kelurahan for u in office.unvisited(mine, "KLJ", since, 50)] == [K71]
        assert [c.enrolled for c in office.coverage(mine, at(T), since)] == [1]
        for entity in ("beneficiary", "visit", "device_request"):
            rows = list(office.export_rows(entity, mine, RecordFilter()))
            assert [r.kelurahan for r in rows] == [K71], entity
        # a narrower wilayah cannot widen the scope
        assert office.visits(mine, RecordFilter(wilayah=("31.72",)), 50) == []
        assert office.visits((), RecordFilter(), 50) == []  # no wilayah: nothing

    # -- Penerima manfaat -------------------------------------------------------------------

    def test_search_finds_by_nik_prefix_and_by_any_part_of_the_name(self, storage: HubStorage):
        save(
            storage,
            person(1, name="Ibu Sri Wahyuni", nik="3171014508450001"),
            person(2, name="Bapak Slamet", nik="3171011203400002"),
            person(3, name="Nur_100% Ani", nik=None),
        )
        office = storage.office
        assert [b.id for b in office.search_beneficiaries(None, "WAHYU", 10)] == [rid(1)]
        assert [b.id for b in office.search_beneficiaries(None, "317101", 10)] == [rid(2), rid(1)]
        assert [b.id for b in office.search_beneficiaries(None, "3171014508450001", 10)] == [rid(1)]
        assert [b.id for b in office.search_beneficiaries(None, "_100%", 10)] == [rid(3)]
        # a wildcard is a character: found only where it was typed
        assert [b.id for b in office.search_beneficiaries(None, "%", 10)] == [rid(3)]
        assert [b.id for b in office.search_beneficiaries(None, "_", 10)] == [rid(3)]
        assert office.search_beneficiaries(None, "   ", 10) == []
        found = office.search_beneficiaries(None, "sri", 10)[0]
        assert (found.name, found.nik, found.programs) == (
            "Ibu Sri Wahyuni",
            "3171014508450001",
            ["KLJ"],
        )

    def test_a_renamed_beneficiary_is_found_by_its_new_name_only(self, storage: HubStorage):
        save(storage, person(1, name="Siti"))
        save(storage, person(1, name="Aminah"))
        assert storage.office.search_beneficiaries(None, "siti", 10) == []
        assert len(storage.office.search_beneficiaries(None, "amin", 10)) == 1

    def test_a_beneficiary_s_records_come_visits_in_time_order_then_requests(
        self, storage: HubStorage
    ):
        save(
            storage,
            person(1, name="Siti", nik="3171014508450001"),
            request(2, 1),
            visit(3, 1, visited_at="2026-03-01T08:00:00+07:00"),
            visit(4, 1, visited_at="2026-02-01T08:00:00+07:00"),
            visit(5, 9),  # someone else's
        )
        found = storage.office.beneficiary_records(rid(1))
        assert [r.id for r in found] == [rid(4), rid(3), rid(2)]
        assert found[0].beneficiary_nik == "3171014508450001"

    def test_history_lists_the_changes_that_were_not_refused_with_their_user(
        self, storage: HubStorage
    ):
        storage.add_user(User("ani", "pendamping", (K71,)), T)
        storage.add_enroll_code("c", "ani", T, "2099-01-01T00:00:00.000Z")
        storage.redeem_enroll_code("c", T, "laptop-1", "laptop ani", "tok")

        def change(n: int, device: str, author: str, status: str) -> ChangeRow:
            receipt = json.dumps({"change_id": str(n), "status": status})
            return ChangeRow(
                str(n),
                device,
                author,
                "beneficiary",
                rid(1),
                "h",
                json.dumps({"name": f"v{n}"}),
                T,
                receipt,
            )

        save(
            storage,
            person(1),
            changes=[
                change(1, "laptop-1", "claimed", "applied"),
                change(2, "laptop-1", "ani", "rejected"),
                change(3, "hub", "spv", "applied"),
            ],
        )
        history = storage.office.history(rid(1))
        assert [(h.change_id, h.user, h.device_name) for h in history] == [
            ("1", "ani", "laptop ani"),  # the device's user, not the claimed author
            ("3", "spv", None),
        ]
        assert history[0].fields == {"name": "v1"}

    # -- Permohonan ABF ---------------------------------------------------------------------

    def test_requests_by_status_count_and_name_the_oldest_in_each(self, storage: HubStorage):
        save(
            storage,
            person(1),
            request(2, 1, "diajukan", since="2026-01-05T00:00:00.000Z"),
            request(3, 1, "diajukan", since="2026-01-02T00:00:00.000Z"),
            request(4, 1, "disetujui", since="2026-01-07T00:00:00.000Z"),
        )
        counts = {
            c.status: (c.count, c.oldest_since) for c in storage.office.requests_by_status(None)
        }
        assert counts == {
            "diajukan": (2, "2026-01-02T00:00:00.000Z"),
            "disetujui": (1, "2026-01-07T00:00:00.000Z"),
        }
        listed = storage.office.requests(None, RecordFilter(status="diajukan"), 1)
        assert [r.id for r in listed] == [rid(3)]  # the longest waiting first
        assert listed[0].beneficiary_name == "Penerima 1"
        nxt = storage.office.requests(None, RecordFilter(status="diajukan"), 5, listed[0].key)
        assert [r.id for r in nxt] == [rid(2)]

    def test_a_request_moved_on_leaves_its_old_status(self, storage: HubStorage):
        save(storage, person(1), request(2, 1, "diajukan"))
        save(storage, request(2, 1, "diverifikasi", since="2026-01-20T00:00:00.000Z"))
        assert [(c.status, c.oldest_since) for c in storage.office.requests_by_status(None)] == [
            ("diverifikasi", "2026-01-20T00:00:00.000Z")
        ]

    # -- Cakupan ------------------------------------------------------------------------------

    def test_unvisited_names_the_programme_s_beneficiaries_with_no_recent_visit(
        self, storage: HubStorage
    ):
        save(
            storage,
            person(1, name="Citra", programs=["KLJ"], author="ani"),
            person(2, name="Ani", programs=["KLJ", "PKH"], author="budi"),
            person(3, name="Bima", kelurahan=K71B, programs=["KLJ"], author="budi"),
            person(4, name="Dodi", programs=["KPDJ"]),
            visit(5, 1, visited_at="2026-01-20T08:00:00+07:00"),  # recent
            visit(6, 2, visited_at="2025-11-01T08:00:00+07:00"),  # long ago
        )
        since = at("2026-01-01T00:00:00+07:00")
        office = storage.office
        counts = office.unvisited_counts(None, "KLJ", since)
        assert counts.total == 2
        assert counts.by_kelurahan == {K71: 1, K71B: 1}
        assert counts.by_author == {"budi": 2}
        listed = office.unvisited(None, "KLJ", since, 1)
        assert [(u.name, u.last_visit) for u in listed] == [("Ani", "2025-11-01T01:00:00Z")]
        rest = office.unvisited(None, "KLJ", since, 5, listed[0].key)
        assert [(u.name, u.last_visit) for u in rest] == [("Bima", None)]

    def test_unvisited_by_pendamping_pages_through_each_author_by_name(self, storage: HubStorage):
        save(
            storage,
            person(1, name="Citra", author="budi"),
            person(2, name="Ani", kelurahan=K71B, author="budi"),
            person(3, name="Bima", author="ani"),
            person(4, name="Dodi", author=None),
            person(5, name="Eka", kelurahan=K72, author="ani"),
        )
        since = at("2026-01-01T00:00:00+07:00")
        office = storage.office
        first = office.unvisited(None, "KLJ", since, 2, by="author")
        assert [(u.author, u.name) for u in first] == [(None, "Dodi"), ("ani", "Bima")]
        rest = office.unvisited(None, "KLJ", since, 5, first[-1].key, by="author")
        assert [(u.author, u.name) for u in rest] == [
            ("ani", "Eka"),
            ("budi", "Ani"),
            ("budi", "Citra"),
        ]
        # a key made of a group alone starts the list at that group
        assert [
            u.name for u in office.unvisited(None, "KLJ", since, 9, ("budi", "", ""), by="author")
        ] == ["Ani", "Citra"]
        assert [u.name for u in office.unvisited(["31.71"], "KLJ", since, 9, by="author")] == [
            "Dodi",
            "Bima",
            "Ani",
            "Citra",
        ]
        with pytest.raises(ValueError):
            office.unvisited(None, "KLJ", since, 9, by="name")

    def test_coverage_counts_enrolled_and_visited_per_programme(self, storage: HubStorage):
        save(
            storage,
            person(1, programs=["KLJ"]),
            person(2, programs=["KLJ", "PKH"]),
            person(3, programs=["KPDJ"]),
            visit(4, 1, visited_at="2026-01-20T08:00:00+07:00"),
            visit(5, 1, visited_at="2026-01-21T08:00:00+07:00"),  # counted once
            visit(6, 3, visited_at="2025-12-20T08:00:00+07:00"),  # last month
        )
        january = (at("2026-01-01T00:00:00+07:00"), at("2026-02-01T00:00:00+07:00"))
        found = {
            c.program: (c.enrolled, c.visited) for c in storage.office.coverage(None, *january)
        }
        assert found == {"KLJ": (2, 1), "KPDJ": (1, 0), "PKH": (1, 0)}

    def test_programmes_follow_every_write_of_the_beneficiary(self, storage: HubStorage):
        save(storage, person(1, programs=["KLJ", "KAJ"]))
        save(storage, person(1, programs=["KPDJ"]))  # programmes changed
        since = at("2027-01-01T00:00:00Z")
        office = storage.office
        assert office.unvisited_counts(None, "KLJ", since).total == 0
        assert office.unvisited_counts(None, "KPDJ", since).total == 1
        save(storage, person(1, kelurahan=K71B, programs=["KPDJ"]))  # moved kelurahan
        assert office.unvisited_counts(None, "KPDJ", since).by_kelurahan == {K71B: 1}
        gone = person(1, kelurahan=K71B, programs=["KPDJ"])
        gone.deleted = True
        save(storage, gone)
        assert office.unvisited_counts(None, "KPDJ", since).total == 0
        assert office.coverage(None, at(T), since) == []

    # -- exports ------------------------------------------------------------------------------

    def test_export_rows_carry_the_data_and_the_beneficiary_and_follow_the_filter(
        self, storage: HubStorage
    ):
        save(
            storage,
            person(1, name="Siti", nik="3171014508450001"),
            visit(2, 1, visited_at="2026-01-15T09:00:00+07:00", author="ani"),
            visit(3, 1, visited_at="2026-01-14T09:00:00+07:00", author="budi"),
            visit(4, 1, visited_at="2026-02-14T09:00:00+07:00", author="ani"),
        )
        january = RecordFilter(
            start=at("2026-01-01T00:00:00+07:00"), end=at("2026-02-01T00:00:00+07:00")
        )
        rows = list(storage.office.export_rows("visit", None, january))
        assert [r.id for r in rows] == [rid(3), rid(2)]  # oldest first
        assert (rows[0].beneficiary_name, rows[0].beneficiary_nik) == ("Siti", "3171014508450001")
        assert rows[0].data["visited_at"] == "2026-01-14T09:00:00+07:00"
        assert rows[0].author == "budi"
        ani = RecordFilter(author="ani")
        assert [r.id for r in storage.office.export_rows("visit", None, ani)] == [rid(2), rid(4)]
        people = list(storage.office.export_rows("beneficiary", None, RecordFilter()))
        assert [(p.id, p.beneficiary_nik) for p in people] == [(rid(1), "3171014508450001")]

    def test_an_export_left_half_read_does_not_hold_up_writes(self, storage: HubStorage):
        save(storage, person(1), *(visit(n, 1) for n in range(2, 2100)))
        rows = storage.office.export_rows("visit", None, RecordFilter())
        assert next(rows).entity == "visit"
        save(storage, visit(5000, 1))  # the export's snapshot does not block the writer
        rows.close()
        save(storage, visit(5001, 1))
        assert storage.office.count_visits(None, RecordFilter()) == 2100

    def test_an_export_reads_one_snapshot(self, storage: HubStorage):
        save(storage, person(1), *(visit(n, 1) for n in range(2, 1600)))
        rows = storage.office.export_rows("visit", None, RecordFilter())
        first = next(rows)
        save(storage, visit(9000, 1, visited_at="2030-01-01T00:00:00Z"))  # after it began
        later = [row.id for row in rows]
        assert first.id not in later
        assert rid(9000) not in later
        assert len(later) == 1597

    def test_unknown_export_entities_are_refused(self, storage: HubStorage):
        with pytest.raises(ValueError):
            list(storage.office.export_rows("user", None, RecordFilter()))
