"""The storage contract: one test suite that every :class:`HubStorage` backend passes.

A backend's test module subclasses :class:`StorageContract` and supplies a ``storage``
fixture that yields an empty, migrated instance (Kinto's ``kinto/core/storage/testing.py``
does the same)::

    class TestSQLiteStorage(StorageContract):
        @pytest.fixture
        def storage(self, tmp_path):
            backend = SQLiteStorage(tmp_path / "hub.sqlite3")
            backend.migrate()
            yield backend
            backend.close()

The suite speaks only the interface of :mod:`server.storage.base`: no SQL, no HTTP, no
merge rule, so a PostgreSQL backend runs it unchanged. It needs pytest, which only the
``[dev]`` extra installs; nothing outside the tests imports this module. The limits'
part of the contract is in :mod:`server.storage.limits_testing`, the jobs' in
:mod:`server.storage.jobs_testing`, the people page's in :mod:`server.storage.people_testing`,
all inherited here.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from server.audit import GENESIS, AuditEvent, link, verify
from server.storage.base import (
    AlreadyExists,
    ChangeRow,
    ConflictRow,
    Device,
    DeviceReport,
    HubStorage,
    NotFound,
    RecordRow,
    ScopeExit,
    StorageError,
    User,
)
from server.storage.jobs_testing import JobStoreContract
from server.storage.limits_testing import LimitStoreContract
from server.storage.office_testing import OfficeReadsContract
from server.storage.people_testing import PeopleStoreContract
from server.storage.verification_testing import VerificationStoreContract

__all__ = ["StorageContract", "change_row", "conflict_row", "record_row"]

T0 = "2026-11-23T02:30:00.000Z"
T1 = "2026-11-23T02:31:00.000Z"
T2 = "2026-11-23T02:32:00.000Z"
T3 = "2026-11-23T02:33:00.000Z"
FAR_FUTURE = "2099-01-01T00:00:00.000Z"

KELURAHAN = "31.71.01.1001"


def hlc(ms: int, counter: int = 0, node: str = "laptop-1") -> str:
    """An encoded HLC timestamp (the format of :mod:`schemas.hlc`)."""
    return f"{ms:016d}:{counter:06d}:{node}"


def record_id(n: int) -> str:
    """A stable UUID-shaped record id, so tests can name records by number."""
    return f"00000000-0000-4000-8000-{n:012d}"


def change_id(n: int) -> str:
    return f"11111111-0000-4000-8000-{n:012d}"


def record_row(
    n: int,
    seq: int,
    kelurahan: str = KELURAHAN,
    *,
    entity: str = "beneficiary",
    data: dict[str, Any] | None = None,
    deleted: bool = False,
    ms: int = 1_732_345_678_901,
    updated_at: str = T0,
) -> RecordRow:
    """A record row as the sync service would hand it to :meth:`WriteSession.save`."""
    fields = data if data is not None else {"name": f"Penerima {n}", "kelurahan": kelurahan}
    return RecordRow(
        record_id(n),
        entity,
        kelurahan,
        seq,
        deleted,
        dict(fields),
        {name: hlc(ms) for name in fields},
        T0,
        updated_at,
    )


def change_row(n: int, record: int, *, received_at: str = T0, ms: int = 1_732_345_678_901):
    receipt = json.dumps({"change_id": change_id(n), "status": "applied", "seq": n})
    return ChangeRow(
        change_id(n),
        "laptop-1",
        "ani",
        "beneficiary",
        record_id(record),
        hlc(ms),
        json.dumps({"name": f"Penerima {record}"}),
        received_at,
        receipt,
    )


def conflict_row(record: int, change: int) -> ConflictRow:
    return ConflictRow(
        record_id(record),
        "beneficiary",
        "name",
        "field",
        "Sri Wahyuni",
        hlc(2),
        "Sri Wahyuningsih",
        hlc(1),
        change_id(change),
        "laptop-2",
        "budi",
        T0,
    )


def _pulled(page) -> list[dict[str, Any]]:
    return [json.loads(text) for text in page.records_json]


def _save(storage: HubStorage, records=(), changes=(), conflicts=()) -> None:
    with storage.write() as session:
        session.save(list(records), list(changes), list(conflicts))


class _Boom(Exception):
    """Raised inside a write block to make it fail."""


class StorageContract(
    LimitStoreContract,
    OfficeReadsContract,
    JobStoreContract,
    PeopleStoreContract,
    VerificationStoreContract,
):
    """Every behaviour of :class:`HubStorage` and :class:`WriteSession` that callers rely on,
    and of its hub-wide limits (:class:`~server.storage.limits_testing.LimitStoreContract`).

    Subclasses provide the ``storage`` fixture: an empty, migrated backend; and
    ``limits_opener``: a picklable callable opening another handle on its limits.
    """

    # -- helpers --------------------------------------------------------------------------

    @staticmethod
    def enrol(
        storage: HubStorage,
        user: str = "ani",
        device_id: str = "dev-1",
        when: str = T0,
        role: str = "pendamping",
    ) -> Device:
        """Add `user` if missing and enrol one device for it with a fresh code."""
        try:
            storage.get_user(user)
        except NotFound:
            storage.add_user(User(user, role, ("31.71.01",)), T0)
        code = f"code-{device_id}"
        storage.add_enroll_code(code, user, T0, FAR_FUTURE)
        return storage.redeem_enroll_code(code, when, device_id, f"laptop {device_id}", device_id)

    # -- schema ---------------------------------------------------------------------------

    def test_migrating_a_migrated_store_applies_nothing(self, storage: HubStorage):
        assert storage.migrate() == []

    def test_a_closed_storage_can_be_closed_again_and_used_again(self, storage: HubStorage):
        storage.add_user(User("ani", "admin", ()), T0)
        storage.close()
        storage.close()
        assert storage.get_user("ani").role == "admin"

    # -- users ----------------------------------------------------------------------------

    def test_added_user_is_returned_by_name(self, storage: HubStorage):
        user = User("ani", "supervisor", ("31.71", "31.72"), "hash-of-password")
        storage.add_user(user, T0)
        assert storage.get_user("ani") == user

    def test_adding_a_taken_name_raises_already_exists_and_keeps_the_first(
        self, storage: HubStorage
    ):
        storage.add_user(User("ani", "pendamping", ("31.71.01",)), T0)
        with pytest.raises(AlreadyExists):
            storage.add_user(User("ani", "admin", ()), T1)
        assert storage.get_user("ani") == User("ani", "pendamping", ("31.71.01",))

    def test_users_are_listed_by_name_with_their_role_wilayah_and_password(
        self, storage: HubStorage
    ):
        assert storage.list_users() == []
        budi = User("budi", "pendamping", ("31.71.01",))
        ani = User("ani", "supervisor", ("31.71", "31.72"), "hash-of-password")
        storage.add_user(budi, T0)
        storage.add_user(ani, T1)
        assert storage.list_users() == [ani, budi]

    def test_unknown_user_raises_not_found(self, storage: HubStorage):
        with pytest.raises(NotFound):
            storage.get_user("nobody")

    def test_ending_web_sessions_keeps_the_latest_time_and_ignores_unknown_users(
        self, storage: HubStorage
    ):
        storage.add_user(User("sari", "supervisor", ("31.71",)), T0)
        assert storage.web_sessions_after("sari") == 0
        storage.end_web_sessions("sari", 200)
        storage.end_web_sessions("sari", 100)  # an older logout does not bring sessions back
        storage.end_web_sessions("nobody", 300)
        assert storage.web_sessions_after("sari") == 200
        assert storage.web_sessions_after("nobody") == 0

    def test_a_password_hash_is_set_replaced_and_cleared(self, storage: HubStorage):
        storage.add_user(User("ani", "supervisor", ("31.71",)), T0)
        storage.set_password_hash("ani", "hash-1")
        storage.set_password_hash("ani", "hash-2")
        assert storage.get_user("ani") == User("ani", "supervisor", ("31.71",), "hash-2")
        storage.set_password_hash("ani", None)
        assert storage.get_user("ani").password_hash is None

    def test_setting_a_password_appends_its_entry_and_an_unknown_user_appends_none(
        self, storage: HubStorage
    ):
        storage.add_user(User("ani", "supervisor", ("31.71",)), T0)
        event = AuditEvent(T1, "cli:kantor", "set_password", {"user": "ani"})
        storage.set_password_hash("ani", "hash-1", audit=event)
        with pytest.raises(NotFound):
            storage.set_password_hash("nobody", "hash-1", audit=event)
        [entry] = list(storage.iter_audit())
        assert (entry.actor, entry.action) == ("cli:kantor", "set_password")

    def test_storage_errors_share_one_base(self):
        assert issubclass(NotFound, StorageError)
        assert issubclass(AlreadyExists, StorageError)

    # -- enrolment codes ------------------------------------------------------------------

    def test_enroll_code_for_an_unknown_user_raises_not_found(self, storage: HubStorage):
        with pytest.raises(NotFound):
            storage.add_enroll_code("code", "nobody", T0, FAR_FUTURE)

    def test_redeemed_code_registers_a_device_for_its_user(self, storage: HubStorage):
        storage.add_user(User("ani", "pendamping", ("31.71.01",)), T0)
        storage.add_enroll_code("code-hash", "ani", T0, FAR_FUTURE)
        device = storage.redeem_enroll_code("code-hash", T1, "dev-1", "Laptop Ani", "token-hash")
        assert device == Device(
            "dev-1", User("ani", "pendamping", ("31.71.01",)), "Laptop Ani", T1, None, None, None
        )

    def test_a_code_works_only_once(self, storage: HubStorage):
        storage.add_user(User("ani", "pendamping", ("31.71.01",)), T0)
        storage.add_enroll_code("code-hash", "ani", T0, FAR_FUTURE)
        storage.redeem_enroll_code("code-hash", T1, "dev-1", "Laptop Ani", "token-1")
        with pytest.raises(NotFound):
            storage.redeem_enroll_code("code-hash", T2, "dev-2", "Laptop lain", "token-2")
        assert [d.device_id for d in storage.list_devices()] == ["dev-1"]

    def test_an_expired_code_raises_not_found_and_enrols_nothing(self, storage: HubStorage):
        storage.add_user(User("ani", "pendamping", ("31.71.01",)), T0)
        storage.add_enroll_code("code-hash", "ani", T0, T1)
        with pytest.raises(NotFound):
            storage.redeem_enroll_code("code-hash", T2, "dev-1", "Laptop Ani", "token-1")
        assert storage.list_devices() == []

    def test_a_code_is_dead_at_its_expiry_instant(self, storage: HubStorage):
        storage.add_user(User("ani", "pendamping", ("31.71.01",)), T0)
        storage.add_enroll_code("code-hash", "ani", T0, T1)
        with pytest.raises(NotFound):
            storage.redeem_enroll_code("code-hash", T1, "dev-1", "Laptop Ani", "token-1")

    def test_a_redeem_that_fails_leaves_the_code_unused(self, storage: HubStorage):
        storage.add_user(User("ani", "pendamping", ("31.71.01",)), T0)
        storage.add_enroll_code("first", "ani", T0, FAR_FUTURE)
        storage.add_enroll_code("second", "ani", T0, FAR_FUTURE)
        storage.redeem_enroll_code("first", T1, "dev-1", "Laptop 1", "same-token")
        with pytest.raises(StorageError):
            storage.redeem_enroll_code("second", T1, "dev-2", "Laptop 2", "same-token")
        device = storage.redeem_enroll_code("second", T2, "dev-2", "Laptop 2", "other-token")
        assert device.device_id == "dev-2"

    def test_an_unknown_code_raises_not_found(self, storage: HubStorage):
        with pytest.raises(NotFound):
            storage.redeem_enroll_code("never-issued", T1, "dev-1", "Laptop", "token-1")

    # -- devices --------------------------------------------------------------------------

    def test_a_device_is_found_by_its_token_hash(self, storage: HubStorage):
        enrolled = self.enrol(storage, device_id="dev-1")
        self.enrol(storage, user="budi", device_id="dev-2")
        assert storage.device_by_token("dev-1") == enrolled

    def test_an_unknown_token_raises_not_found(self, storage: HubStorage):
        self.enrol(storage)
        with pytest.raises(NotFound):
            storage.device_by_token("not-a-token-hash")

    def test_devices_are_listed_newest_enrolment_first(self, storage: HubStorage):
        self.enrol(storage, device_id="dev-middle", when=T1)
        self.enrol(storage, device_id="dev-newest", when=T2)
        self.enrol(storage, user="budi", device_id="dev-oldest", when=T0)
        listed = storage.list_devices()
        assert [d.device_id for d in listed] == ["dev-newest", "dev-middle", "dev-oldest"]
        assert [d.user.name for d in listed] == ["ani", "ani", "budi"]

    def test_a_hub_without_devices_lists_none(self, storage: HubStorage):
        assert storage.list_devices() == []

    def test_a_call_without_a_push_sets_only_last_seen(self, storage: HubStorage):
        self.enrol(storage)
        with storage.write() as session:
            session.touch_device("dev-1", T2, synced=False)
        device = storage.device_by_token("dev-1")
        assert (device.last_seen_at, device.last_sync_at) == (T2, None)

    def test_a_push_sets_last_seen_and_last_sync(self, storage: HubStorage):
        self.enrol(storage)
        with storage.write() as session:
            session.touch_device("dev-1", T2, synced=True)
        with storage.write() as session:
            session.touch_device("dev-1", T3, synced=False)
        device = storage.device_by_token("dev-1")
        assert (device.last_seen_at, device.last_sync_at) == (T3, T2)

    def test_a_device_is_found_by_its_id_with_its_token_hash(self, storage: HubStorage):
        enrolled = self.enrol(storage, device_id="dev-1")
        assert storage.get_device("dev-1") == enrolled
        assert storage.device_token_hash("dev-1") == "dev-1"  # enrol() uses the id as hash
        with pytest.raises(NotFound):
            storage.get_device("dev-9")
        with pytest.raises(NotFound):
            storage.device_token_hash("dev-9")

    def test_a_revoked_device_is_still_found_and_says_when_it_was_revoked(
        self, storage: HubStorage
    ):
        self.enrol(storage, device_id="dev-1")
        self.enrol(storage, device_id="dev-2")
        event = AuditEvent(T2, "cli:kantor", "revoke_device", {"device": "dev-1"}, "dev-1")
        assert storage.revoke_device("dev-1", T2, audit=event) is True
        assert storage.device_by_token("dev-1").revoked_at == T2  # the token still names it
        assert storage.get_device("dev-2").revoked_at is None
        assert [(e.action, e.device_id) for e in storage.iter_audit()] == [
            ("revoke_device", "dev-1")
        ]

    def test_revoking_twice_keeps_the_first_time_and_appends_nothing(self, storage: HubStorage):
        self.enrol(storage, device_id="dev-1")
        event = AuditEvent(T2, "cli:kantor", "revoke_device", {}, "dev-1")
        storage.revoke_device("dev-1", T2, audit=event)
        again = AuditEvent(T3, "cli:kantor", "revoke_device", {}, "dev-1")
        assert storage.revoke_device("dev-1", T3, audit=again) is False
        assert storage.get_device("dev-1").revoked_at == T2
        assert len(list(storage.iter_audit())) == 1

    def test_revoking_an_unknown_device_raises_not_found_and_appends_nothing(
        self, storage: HubStorage
    ):
        with pytest.raises(NotFound):
            storage.revoke_device("dev-9", T2, audit=AuditEvent(T2, "cli:kantor", "revoke_device"))
        assert list(storage.iter_audit()) == []

    def test_a_report_keeps_the_laptops_version_and_queue(self, storage: HubStorage):
        self.enrol(storage)
        with storage.write() as session:
            session.touch_device("dev-1", T2, False, DeviceReport("0.2.0", 41))
        with storage.write() as session:
            session.touch_device("dev-1", T3, True)  # a call without a report keeps the last
        device = storage.get_device("dev-1")
        assert (device.client_version, device.queue_size, device.reported_at) == ("0.2.0", 41, T2)
        assert (device.last_seen_at, device.last_sync_at) == (T3, T3)

    def test_receipts_of_a_device_leave_out_another_devices_changes(self, storage: HubStorage):
        mine, theirs = change_row(1, record=1), change_row(2, record=1)
        theirs = theirs._replace(device_id="laptop-2")
        _save(storage, changes=[mine, theirs])
        found = storage.receipts_of_device("laptop-1", [change_id(1), change_id(2), change_id(3)])
        assert found == {change_id(1): mine.receipt_json}
        many = [change_row(n, record=n) for n in range(10, 1210)]
        _save(storage, changes=many)
        assert len(storage.receipts_of_device("laptop-1", [c.change_id for c in many])) == 1200

    # -- write sessions -------------------------------------------------------------------

    def test_an_empty_hub_has_last_seq_zero(self, storage: HubStorage):
        with storage.write() as session:
            assert session.last_seq() == 0

    def test_a_write_commits_on_a_clean_exit(self, storage: HubStorage):
        self.enrol(storage)
        with storage.write() as session:
            session.save([record_row(1, seq=1)], [change_row(1, record=1)], [conflict_row(1, 1)])
            session.touch_device("dev-1", T2, synced=True)
        assert storage.get_record(record_id(1)).seq == 1
        assert [c.change_id for c in storage.iter_changes(record_id(1))] == [change_id(1)]
        assert storage.stats()["open_conflicts"] == 1
        assert storage.device_by_token("dev-1").last_sync_at == T2

    def test_a_write_sees_its_own_saves_before_it_commits(self, storage: HubStorage):
        with storage.write() as session:
            session.save([record_row(1, seq=7)], [change_row(1, record=1)], [])
            assert session.last_seq() == 7
            assert set(session.records_for([record_id(1)])) == {record_id(1)}
            assert set(session.receipts_for([change_id(1)])) == {change_id(1)}

    def test_a_write_that_raises_leaves_no_trace(self, storage: HubStorage):
        self.enrol(storage)
        _save(storage, [record_row(1, seq=1)], [change_row(1, record=1)])
        before = storage.stats()
        with pytest.raises(_Boom), storage.write() as session:
            session.save(
                [record_row(1, seq=2, data={"name": "Diubah", "kelurahan": KELURAHAN})],
                [change_row(2, record=1)],
                [conflict_row(1, 2)],
            )
            session.save([record_row(2, seq=3)], [change_row(3, record=2)], [])
            session.touch_device("dev-1", T2, synced=True)
            raise _Boom
        assert storage.stats() == before
        assert storage.get_record(record_id(1)).data["name"] == "Penerima 1"
        with pytest.raises(NotFound):
            storage.get_record(record_id(2))
        assert [c.change_id for c in storage.iter_changes(record_id(1))] == [change_id(1)]
        assert storage.device_by_token("dev-1").last_sync_at is None
        with storage.write() as session:
            assert session.last_seq() == 1
            assert session.receipts_for([change_id(2), change_id(3)]) == {}

    def test_a_write_that_breaks_a_constraint_leaves_no_trace(self, storage: HubStorage):
        _save(storage, changes=[change_row(1, record=1)])
        raised = None
        try:
            with storage.write() as session:
                session.save([record_row(1, seq=1)], [change_row(2, record=1)], [])
                session.save([], [change_row(1, record=1)], [])  # change_id seen already
        except Exception as exc:  # the backend's own error type, whatever it is
            raised = exc
        assert raised is not None
        assert not isinstance(raised, AssertionError)
        with pytest.raises(NotFound):
            storage.get_record(record_id(1))
        assert [c.change_id for c in storage.iter_changes(record_id(1))] == [change_id(1)]

    def test_a_driver_error_in_a_write_surfaces_as_a_storage_error(self, storage: HubStorage):
        _save(storage, changes=[change_row(1, record=1)])
        with pytest.raises(StorageError) as raised, storage.write() as session:
            session.save([], [change_row(1, record=1)], [])
        assert raised.value.__cause__ is not None

    def test_the_hub_is_usable_after_a_failed_write(self, storage: HubStorage):
        with pytest.raises(_Boom), storage.write() as session:
            session.save([record_row(1, seq=1)], [], [])
            raise _Boom
        _save(storage, [record_row(1, seq=1)])
        assert storage.get_record(record_id(1)).seq == 1

    def test_receipts_for_returns_the_stored_receipt_of_seen_changes_only(
        self, storage: HubStorage
    ):
        stored = change_row(1, record=1)
        _save(storage, changes=[stored, change_row(2, record=1)])
        with storage.write() as session:
            found = session.receipts_for([change_id(1), change_id(9)])
        assert found == {change_id(1): stored.receipt_json}

    def test_receipts_for_finds_every_one_of_a_large_batch(self, storage: HubStorage):
        many = [change_row(n, record=n) for n in range(1, 1201)]
        _save(storage, changes=many)
        with storage.write() as session:
            found = session.receipts_for([c.change_id for c in many] + [change_id(5000)])
        assert found == {c.change_id: c.receipt_json for c in many}

    def test_receipts_for_nothing_is_empty(self, storage: HubStorage):
        with storage.write() as session:
            assert session.receipts_for([]) == {}
            assert session.records_for([]) == {}

    def test_records_for_returns_rows_with_decoded_data_and_clocks(self, storage: HubStorage):
        saved = record_row(
            1,
            seq=1,
            entity="visit",
            data={
                "kelurahan": KELURAHAN,
                "findings": 'Butuh "kursi roda"\\ segera',
                "assessment": {"mobilitas": 2, "catatan": ["a", None]},
                "lat": -6.2,
            },
        )
        _save(storage, [saved, record_row(2, seq=2)])
        with storage.write() as session:
            found = session.records_for([record_id(1), record_id(404)])
        assert found == {record_id(1): saved}

    def test_records_for_finds_every_one_of_many_ids(self, storage: HubStorage):
        _save(storage, [record_row(n, seq=n) for n in range(1, 1201)])
        with storage.write() as session:
            found = session.records_for([record_id(n) for n in range(1, 1201)])
        assert len(found) == 1200

    def test_last_seq_is_the_highest_seq_saved(self, storage: HubStorage):
        _save(storage, [record_row(1, seq=3), record_row(2, seq=8), record_row(3, seq=5)])
        with storage.write() as session:
            assert session.last_seq() == 8

    def test_saving_a_record_again_replaces_its_state_and_seq(self, storage: HubStorage):
        _save(storage, [record_row(1, seq=1), record_row(2, seq=2)])
        changed = record_row(
            1,
            seq=3,
            kelurahan="31.71.01.1002",
            data={"name": "Diubah", "kelurahan": "31.71.01.1002"},
            ms=1_732_345_999_999,
            updated_at=T1,
        )
        _save(storage, [changed])
        assert storage.get_record(record_id(1)) == changed
        with storage.write() as session:
            assert session.last_seq() == 3

    # -- reading records ------------------------------------------------------------------

    def test_get_record_returns_the_saved_row(self, storage: HubStorage):
        saved = record_row(1, seq=1, entity="device_request", data={"status": "diajukan"})
        _save(storage, [saved])
        assert storage.get_record(record_id(1)) == saved

    def test_each_field_keeps_its_own_clock(self, storage: HubStorage):
        saved = record_row(1, seq=1, data={"name": "Sri", "kelurahan": KELURAHAN, "sex": "P"})
        saved.clocks = {"name": hlc(7, 2, "laptop-2"), "kelurahan": hlc(5), "sex": hlc(5)}
        bare = record_row(2, seq=2, data={})
        _save(storage, [saved, bare])
        assert storage.get_record(record_id(1)).clocks == saved.clocks
        assert storage.get_record(record_id(2)).clocks == {}

    def test_get_record_of_an_unknown_id_raises_not_found(self, storage: HubStorage):
        with pytest.raises(NotFound):
            storage.get_record(record_id(404))

    def test_changes_of_a_record_come_back_in_the_order_they_arrived(self, storage: HubStorage):
        _save(storage, changes=[change_row(1, record=1, received_at=T0, ms=3)])
        _save(storage, changes=[change_row(2, record=2, received_at=T1, ms=2)])
        _save(storage, changes=[change_row(3, record=1, received_at=T2, ms=1)])
        changes = list(storage.iter_changes(record_id(1)))
        assert [c.change_id for c in changes] == [change_id(1), change_id(3)]
        assert changes[0] == change_row(1, record=1, received_at=T0, ms=3)

    def test_changes_of_one_write_come_back_in_the_order_given(self, storage: HubStorage):
        # One push stores all its changes with one received_at; their clocks need not agree
        # with the order the hub took them in (two laptops, one slow clock).
        _save(
            storage,
            changes=[
                change_row(1, record=1, ms=900),
                change_row(2, record=1, ms=100),
                change_row(3, record=1, ms=500),
            ],
        )
        changes = [c.change_id for c in storage.iter_changes(record_id(1))]
        assert changes == [change_id(1), change_id(2), change_id(3)]

    def test_an_unknown_record_has_no_changes(self, storage: HubStorage):
        assert list(storage.iter_changes(record_id(404))) == []

    # -- pull -----------------------------------------------------------------------------

    def test_pull_from_an_empty_hub_returns_nothing(self, storage: HubStorage):
        page = storage.pull(None, 0, 10)
        assert (page.records_json, page.next, page.more) == ([], 0, False)

    def test_pull_above_the_last_seq_keeps_the_cursor(self, storage: HubStorage):
        _save(storage, [record_row(1, seq=1)])
        page = storage.pull(None, 5, 10)
        assert (page.records_json, page.next, page.more) == ([], 5, False)

    def test_pull_returns_each_record_as_the_hub_holds_it(self, storage: HubStorage):
        saved = record_row(1, seq=1, data={"name": "Ibu Ñoman “Sri” \\ 😊", "kelurahan": KELURAHAN})
        _save(storage, [saved])
        (pulled,) = _pulled(storage.pull(None, 0, 10))
        assert pulled == {
            "entity": "beneficiary",
            "id": record_id(1),
            "seq": 1,
            "deleted": False,
            "hlc": saved.hlc,
            "data": saved.data,
        }

    def test_pull_carries_the_greatest_field_clock_as_the_record_hlc(self, storage: HubStorage):
        saved = record_row(1, seq=1)
        saved.clocks = {"name": hlc(5, 1), "kelurahan": hlc(9, 0)}
        _save(storage, [saved])
        (pulled,) = _pulled(storage.pull(None, 0, 10))
        assert pulled["hlc"] == hlc(9, 0)

    def test_pull_returns_records_oldest_first_above_since(self, storage: HubStorage):
        _save(storage, [record_row(1, seq=1), record_row(2, seq=2), record_row(3, seq=3)])
        _save(storage, [record_row(1, seq=4, data={"name": "Baru", "kelurahan": KELURAHAN})])
        page = storage.pull(None, 1, 10)
        assert [(r["id"], r["seq"]) for r in _pulled(page)] == [
            (record_id(2), 2),
            (record_id(3), 3),
            (record_id(1), 4),
        ]
        assert (page.next, page.more) == (4, False)

    def test_a_pull_leaves_out_the_callers_quiet_records_but_moves_past_them(
        self, storage: HubStorage
    ):
        quiet = record_row(2, seq=2)
        quiet.quiet_device = "dev-1"
        _save(storage, [record_row(1, seq=1), quiet, record_row(3, seq=3)])
        assert storage.get_record(record_id(2)).quiet_device == "dev-1"
        page = storage.pull(None, 0, 2, "dev-1")
        assert ([r["seq"] for r in _pulled(page)], page.next, page.more) == ([1], 2, True)
        rest = storage.pull(None, page.next, 2, "dev-1")
        assert ([r["seq"] for r in _pulled(rest)], rest.next, rest.more) == ([3], 3, False)
        everyone_else = storage.pull(None, 0, 10, "dev-2")
        assert [r["seq"] for r in _pulled(everyone_else)] == [1, 2, 3]

    def test_pull_includes_tombstones(self, storage: HubStorage):
        _save(storage, [record_row(1, seq=1, deleted=True), record_row(2, seq=2)])
        assert [r["deleted"] for r in _pulled(storage.pull(None, 0, 10))] == [True, False]

    def test_pull_pages_through_every_record_once(self, storage: HubStorage):
        _save(storage, [record_row(n, seq=n * 2) for n in range(1, 12)])
        seen, since, pages = [], 0, 0
        while True:
            page = storage.pull(None, since, 4)
            pages += 1
            rows = _pulled(page)
            assert len(rows) <= 4
            seen += [r["seq"] for r in rows]
            assert page.next == (rows[-1]["seq"] if rows else since)
            since = page.next
            if not page.more:
                break
        assert seen == [n * 2 for n in range(1, 12)]
        assert pages == 3

    def test_a_page_that_ends_on_the_last_record_says_no_more(self, storage: HubStorage):
        _save(storage, [record_row(n, seq=n) for n in range(1, 5)])
        first = storage.pull(None, 0, 2)
        last = storage.pull(None, first.next, 2)
        assert (first.next, first.more) == (2, True)
        assert (last.next, last.more) == (4, False)

    @pytest.mark.parametrize(
        ("scope", "kelurahan", "covered"),
        [
            ("31.71.01", "31.71.01.1001", True),
            ("31.71.01", "31.71.02.1001", False),
            ("31.71", "31.71.01.1001", True),
            ("31.71", "31.72.01.1001", False),
            ("31.7", "31.71.01.1001", False),
            ("31", "31.71.01.1001", True),
            ("3", "31.71.01.1001", False),
            ("32", "31.71.01.1001", False),
            ("31.71.01.1001", "31.71.01.1001", True),
            ("31.71.01.1001", "31.71.01.1002", False),
            ("31.71.01.100", "31.71.01.1001", False),
        ],
        ids=[
            "a kecamatan covers its kelurahan",
            "a kecamatan does not cover its neighbour's kelurahan",
            "a kota covers its kelurahan",
            "a kota does not cover another kota",
            "a partial segment covers nothing",
            "a province covers its kelurahan",
            "one digit of a province covers nothing",
            "another province covers nothing",
            "a kelurahan covers itself",
            "a kelurahan does not cover its neighbour",
            "a truncated kelurahan code covers nothing",
        ],
    )
    def test_pull_scopes_by_wilayah_on_segment_boundaries(
        self, storage: HubStorage, scope: str, kelurahan: str, covered: bool
    ):
        _save(storage, [record_row(1, seq=1, kelurahan=kelurahan)])
        assert len(storage.pull((scope,), 0, 10).records_json) == (1 if covered else 0)

    def test_pull_with_several_scopes_returns_their_union_in_seq_order(self, storage: HubStorage):
        _save(
            storage,
            [
                record_row(1, seq=1, kelurahan="31.71.01.1001"),
                record_row(2, seq=2, kelurahan="31.71.02.1001"),
                record_row(3, seq=3, kelurahan="31.71.03.1001"),
                record_row(4, seq=4, kelurahan="32.01.01.2001"),
                record_row(5, seq=5, kelurahan="31.71.01.1002"),
            ],
        )
        page = storage.pull(("31.71.01", "32"), 0, 10)
        assert [r["seq"] for r in _pulled(page)] == [1, 4, 5]

    def test_pull_with_scopes_none_returns_everything(self, storage: HubStorage):
        _save(
            storage,
            [
                record_row(1, seq=1, kelurahan="31.71.01.1001"),
                record_row(2, seq=2, kelurahan="91.01.01.2001"),
            ],
        )
        assert [r["seq"] for r in _pulled(storage.pull(None, 0, 10))] == [1, 2]

    def test_pull_with_an_empty_list_of_scopes_returns_nothing(self, storage: HubStorage):
        _save(storage, [record_row(1, seq=1, kelurahan="31.71.01.1001")])
        page = storage.pull((), 0, 10)
        assert (_pulled(page), page.more) == ([], False)

    def test_pull_paging_counts_only_records_in_scope(self, storage: HubStorage):
        _save(
            storage,
            [
                record_row(n, seq=n, kelurahan="31.71.01.1001" if n % 2 else "31.71.02.1001")
                for n in range(1, 10)
            ],
        )
        page = storage.pull(("31.71.01",), 0, 2)
        assert [r["seq"] for r in _pulled(page)] == [1, 3]
        assert (page.next, page.more) == (3, True)
        page = storage.pull(("31.71.01",), page.next, 10)
        assert [r["seq"] for r in _pulled(page)] == [5, 7, 9]
        assert page.more is False

    def test_pull_of_several_whole_kelurahan_pages_their_union_in_seq_order(
        self, storage: HubStorage
    ):
        """A pendamping's wilayah of whole kelurahan codes, interleaved with others' records."""
        places = ("31.71.01.1001", "31.71.01.1002", "31.71.02.1001")
        _save(storage, [record_row(n, seq=n, kelurahan=places[n % 3]) for n in range(1, 13)])
        mine = ("31.71.02.1001", "31.71.01.1002")  # places[0] and [2] are not in order
        seen: list[int] = []
        since, more = 0, True
        while more:
            page = storage.pull(mine, since, 3)
            seen += [r["seq"] for r in _pulled(page)]
            since, more = page.next, page.more
        assert seen == [1, 2, 4, 5, 7, 8, 10, 11]
        assert storage.pull(mine, 11, 3).records_json == []

    # -- scope exits ----------------------------------------------------------------------

    @staticmethod
    def move(storage: HubStorage, n: int, seq: int, old: str, new: str) -> None:
        """Record `n` moves from kelurahan `old` to `new` by the write at `seq`."""
        with storage.write() as session:
            session.save([record_row(n, seq=seq, kelurahan=new)], [], [])
            session.add_scope_exits([ScopeExit(seq, record_id(n), "beneficiary", old, new)])

    def test_a_pull_names_a_record_that_left_the_scope(self, storage: HubStorage):
        _save(storage, [record_row(1, seq=1), record_row(2, seq=2)])
        self.move(storage, 1, 3, KELURAHAN, "31.71.02.1003")
        left = storage.pull(("31.71.01",), 2, 10)
        assert (_pulled(left), left.exits) == (
            [],
            [{"id": record_id(1), "entity": "beneficiary", "seq": 3}],
        )
        assert (left.next, left.more) == (3, False)  # the cursor moves past the exit
        assert storage.pull(("31.71.01",), 3, 10).exits == []
        arrived = storage.pull(("31.71.02",), 0, 10)
        assert ([r["id"] for r in _pulled(arrived)], arrived.exits) == ([record_id(1)], [])

    def test_no_exit_for_a_scope_that_covers_both_or_never_covered_the_old_place(
        self, storage: HubStorage
    ):
        _save(storage, [record_row(1, seq=1)])
        self.move(storage, 1, 2, KELURAHAN, "31.71.02.1003")
        assert storage.pull(("31.71",), 0, 10).exits == []  # the kota covers both
        assert storage.pull(("31.71.01", "31.71.02"), 0, 10).exits == []
        assert storage.pull(("31.71.03",), 0, 10).exits == []  # never held it
        assert storage.pull(None, 0, 10).exits == []  # an admin sees everything

    def test_a_page_with_more_to_come_names_only_the_exits_of_its_span(self, storage: HubStorage):
        _save(storage, [record_row(n, seq=n) for n in range(1, 6)])
        self.move(storage, 1, 6, KELURAHAN, "31.71.02.1003")
        _save(storage, [record_row(7, seq=7), record_row(8, seq=8)])
        self.move(storage, 2, 9, KELURAHAN, "31.71.02.1003")
        first = storage.pull(("31.71.01",), 0, 4)  # records 3, 4, 5 and 7
        assert (first.next, first.more) == (7, True)
        assert [e["seq"] for e in first.exits] == [6]
        rest = storage.pull(("31.71.01",), first.next, 4)
        assert ([e["seq"] for e in rest.exits], rest.next, rest.more) == ([9], 9, False)

    # -- stats ----------------------------------------------------------------------------

    def test_stats_of_an_empty_hub_are_zero(self, storage: HubStorage):
        stats = storage.stats()
        assert stats["records"] == {"beneficiary": 0, "visit": 0, "device_request": 0}
        assert (stats["devices"], stats["open_conflicts"]) == (0, 0)

    def test_stats_count_live_records_per_entity_devices_and_open_conflicts(
        self, storage: HubStorage
    ):
        self.enrol(storage, device_id="dev-1")
        self.enrol(storage, user="budi", device_id="dev-2")
        _save(
            storage,
            [
                record_row(1, seq=1),
                record_row(2, seq=2),
                record_row(3, seq=3, deleted=True),
                record_row(4, seq=4, entity="visit"),
                record_row(5, seq=5, entity="device_request"),
            ],
            [change_row(1, record=1), change_row(2, record=2)],
            [conflict_row(1, 1), conflict_row(2, 2)],
        )
        stats = storage.stats()
        assert stats["records"] == {"beneficiary": 2, "visit": 1, "device_request": 1}
        assert (stats["devices"], stats["open_conflicts"]) == (2, 2)

    # -- the audit chain ------------------------------------------------------------------

    @staticmethod
    def audit_event(n: int, actor: str = "ani", device_id: str | None = "dev-1") -> AuditEvent:
        return AuditEvent(T0, actor, "push", {"changes": n, "seq": [n, n]}, device_id)

    def test_an_empty_hub_has_an_empty_audit_log(self, storage: HubStorage):
        assert list(storage.iter_audit()) == []
        with storage.write() as session:
            assert session.last_audit() is None

    def test_audit_entries_come_back_in_order_exactly_as_appended(self, storage: HubStorage):
        with storage.write() as session:
            first = session.audit(self.audit_event(1))
        with storage.write() as session:
            second = session.audit(self.audit_event(2, actor="cli:kantor", device_id=None))
            assert session.last_audit() == (2, second.hash)
        assert (first.position, first.prev_hash) == (1, GENESIS)
        assert (second.position, second.prev_hash) == (2, first.hash)
        assert list(storage.iter_audit()) == [first, second]
        assert verify(storage.iter_audit()) == []

    def test_audit_entries_are_read_after_a_position_and_newest_last(self, storage: HubStorage):
        with storage.write() as session:
            for n in range(1, 1206):  # more than one page of a paged reader
                session.audit(self.audit_event(n))
        assert [e.position for e in storage.iter_audit()] == list(range(1, 1206))
        assert [e.position for e in storage.iter_audit(after=1202)] == [1203, 1204, 1205]
        assert [e.position for e in storage.iter_audit(newest=3)] == [1203, 1204, 1205]
        assert len(list(storage.iter_audit(newest=5000))) == 1205
        assert list(storage.iter_audit(newest=0)) == []

    def test_a_write_that_raises_appends_no_audit_entry(self, storage: HubStorage):
        with storage.write() as session:
            session.audit(self.audit_event(1))
        with pytest.raises(_Boom), storage.write() as session:
            session.save([record_row(1, seq=1)], [], [])
            session.audit(self.audit_event(2))
            raise _Boom
        assert [e.position for e in storage.iter_audit()] == [1]

    def test_an_entry_at_a_taken_position_is_refused_with_its_write(self, storage: HubStorage):
        with storage.write() as session:
            first = session.audit(self.audit_event(1))
        with pytest.raises(StorageError), storage.write() as session:
            session.save([record_row(1, seq=1)], [], [])
            session.append_audit(link(self.audit_event(2), None))  # position 1 again
        assert list(storage.iter_audit()) == [first]
        with pytest.raises(NotFound):
            storage.get_record(record_id(1))

    def test_adding_a_user_appends_its_entry_and_a_refused_one_appends_none(
        self, storage: HubStorage
    ):
        event = AuditEvent(T0, "cli:kantor", "add_user", {"user": "ani"})
        storage.add_user(User("ani", "pendamping", ("31.71.01",)), T0, audit=event)
        with pytest.raises(AlreadyExists):
            storage.add_user(User("ani", "admin", ()), T1, audit=event)
        (entry,) = storage.iter_audit()
        assert (entry.actor, entry.action, entry.device_id) == ("cli:kantor", "add_user", None)

    def test_issuing_and_redeeming_a_code_append_one_entry_each(self, storage: HubStorage):
        storage.add_user(User("ani", "pendamping", ("31.71.01",)), T0)
        issued = AuditEvent(T0, "cli:kantor", "issue_enroll_code", {"user": "ani"})
        storage.add_enroll_code("code-hash", "ani", T0, FAR_FUTURE, audit=issued)
        enrolled = AuditEvent(T1, "", "enrol_device")
        storage.redeem_enroll_code("code-hash", T1, "dev-1", "Laptop", "token-1", audit=enrolled)
        with pytest.raises(NotFound):  # used already: nothing written, nothing audited
            storage.redeem_enroll_code("code-hash", T2, "dev-2", "Lain", "token-2", audit=enrolled)
        entries = [(e.actor, e.action, e.device_id) for e in storage.iter_audit()]
        assert entries == [
            ("cli:kantor", "issue_enroll_code", None),
            ("ani", "enrol_device", "dev-1"),  # the code's user, from the new device
        ]
        assert verify(storage.iter_audit()) == []
