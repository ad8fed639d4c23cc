"""The contract of :class:`~server.storage.verification.VerificationStore`, run by every
backend through :class:`server.storage.testing.StorageContract`.

Records go in through ``storage.write()`` and ``session.save`` only, as the writer saves
them, so a backend passes only if its own save keeps the outcome column it reads.
"""

from __future__ import annotations

import datetime as dt

import pytest

from server.audit import AuditEvent, verify
from server.storage.base import HubStorage
from server.storage.office_testing import K71, K71B, K72, WIB, person, rid, save, visit
from server.storage.verification import MonthClose, MonthClosed

__all__ = ["VerificationStoreContract"]

JAN = (dt.datetime(2026, 1, 1, tzinfo=WIB), dt.datetime(2026, 2, 1, tzinfo=WIB))
_AT = "2026-02-01T01:00:00.000Z"


def _audit(close: MonthClose) -> AuditEvent:
    return AuditEvent(close.closed_at, close.closed_by, "verification_close", {"n": 1})


def _close(storage: HubStorage, wilayah: tuple[str, ...] | None, who: str = "bu-kasi"):
    return storage.verification.close_month("KLJ", "2026-01", wilayah, *JAN, who, _AT, _audit)


def _states(storage: HubStorage, scopes=None) -> dict[str, tuple[str, str | None]]:
    return {
        s.beneficiary_id: (s.state, s.visit_id)
        for s in storage.verification.month_states(scopes, "KLJ", *JAN)
    }


class VerificationStoreContract:
    """Mixed into the storage contract; needs its ``storage`` fixture."""

    def test_each_outcome_decides_the_state_and_no_visit_is_belum(self, storage: HubStorage):
        save(
            storage,
            *(person(n) for n in range(1, 8)),
            visit(11, 1, purpose="verifikasi"),  # no outcome: verified
            visit(12, 2, verification_outcome="layak"),  # a monitoring visit that verified
            visit(13, 3, verification_outcome="tidak_layak"),
            visit(14, 4, verification_outcome="meninggal"),
            visit(15, 5, purpose="verifikasi", verification_outcome="pindah"),
            visit(16, 6),  # monitoring, no outcome: verifies nothing
        )
        assert _states(storage) == {
            rid(1): ("terverifikasi", rid(11)),
            rid(2): ("terverifikasi", rid(12)),
            rid(3): ("tidak_layak", rid(13)),
            rid(4): ("meninggal", rid(14)),
            rid(5): ("pindah", rid(15)),
            rid(6): ("belum", None),
            rid(7): ("belum", None),
        }

    def test_only_visits_inside_the_month_count_in_the_offices_time_zone(self, storage: HubStorage):
        save(
            storage,
            person(1),
            person(2),
            person(3),
            visit(11, 1, purpose="verifikasi", visited_at="2026-02-01T00:30:00+07:00"),
            visit(12, 2, purpose="verifikasi", visited_at="2025-12-31T23:59:00+07:00"),
            # 16:45 UTC on 31 January is 23:45 WIB: still January
            visit(13, 3, purpose="verifikasi", visited_at="2026-01-31T16:45:00Z"),
        )
        assert _states(storage) == {
            rid(1): ("belum", None),
            rid(2): ("belum", None),
            rid(3): ("terverifikasi", rid(13)),
        }

    def test_the_latest_verification_visit_of_the_month_decides(self, storage: HubStorage):
        save(
            storage,
            person(1),
            person(2),
            visit(11, 1, verification_outcome="meninggal", visited_at="2026-01-05T09:00:00+07:00"),
            visit(12, 1, purpose="verifikasi", visited_at="2026-01-20T09:00:00+07:00"),
            visit(13, 1, visited_at="2026-01-25T09:00:00+07:00"),  # monitoring: ignored
            visit(14, 2, purpose="verifikasi", visited_at="2026-01-05T09:00:00+07:00"),
            visit(15, 2, verification_outcome="pindah", visited_at="2026-01-06T09:00:00+07:00"),
        )
        assert _states(storage) == {
            rid(1): ("terverifikasi", rid(12)),
            rid(2): ("pindah", rid(15)),
        }
        [first] = [s for s in storage.verification.month_states(None, "KLJ", *JAN)][:1]
        assert (first.visited_utc, first.pendamping) == ("2026-01-20T02:00:00Z", "ani")

    def test_a_deleted_visit_or_another_programme_does_not_count(self, storage: HubStorage):
        gone = visit(11, 1, purpose="verifikasi")
        gone.deleted = True
        save(storage, person(1), person(2, programs=["KPDJ"]), gone)
        assert _states(storage) == {rid(1): ("belum", None)}

    def test_the_list_keeps_to_the_scope_and_to_the_beneficiarys_pendamping(
        self, storage: HubStorage
    ):
        save(storage, person(1, K71), person(2, K71B, author="budi"), person(3, K72))
        assert set(_states(storage, ("31.71",))) == {rid(1), rid(2)}
        assert set(_states(storage, ("31.72",))) == {rid(3)}
        assert _states(storage, ()) == {}
        rows = storage.verification.month_states(("31.71.02",), "KLJ", *JAN)
        assert [(r.beneficiary_id, r.pendamping) for r in rows] == [(rid(2), "budi")]

    def test_people_reads_names_and_niks(self, storage: HubStorage):
        save(storage, person(1, nik="3171014508450001"), person(2))
        found = storage.verification.people([rid(1), rid(2), rid(99)])
        assert found == {rid(1): ("Penerima 1", "3171014508450001"), rid(2): ("Penerima 2", None)}

    def test_a_close_freezes_the_list_and_a_later_visit_leaves_it_as_it_was(
        self, storage: HubStorage
    ):
        save(
            storage,
            person(1, nik="3171014508450001"),
            person(2),
            visit(11, 1, purpose="verifikasi", author="siti"),
        )
        close = _close(storage, ("31.71",))
        assert close.counts == {"terverifikasi": 1, "belum": 1}
        assert (close.program, close.month, close.wilayah) == ("KLJ", "2026-01", ("31.71",))
        assert storage.verification.closes("KLJ", "2026-01") == [close]
        frozen = storage.verification.frozen([close.close_id], None)
        assert [(f.beneficiary_id, f.state, f.name, f.nik, f.pendamping) for f in frozen] == [
            (rid(1), "terverifikasi", "Penerima 1", "3171014508450001", "siti"),
            (rid(2), "belum", "Penerima 2", None, "ani"),
        ]
        # later in January a visit finds the second beneficiary deceased
        save(storage, visit(12, 2, verification_outcome="meninggal"))
        assert _states(storage)[rid(2)] == ("meninggal", rid(12))
        assert storage.verification.frozen([close.close_id], None) == frozen
        [entry] = [e for e in storage.iter_audit() if e.action == "verification_close"]
        assert entry.actor == "bu-kasi"
        assert verify(storage.iter_audit()) == []

    def test_an_overlapping_close_is_refused_and_writes_nothing(self, storage: HubStorage):
        save(storage, person(1, K71), person(2, K72))
        first = _close(storage, ("31.71",))
        entries = len(list(storage.iter_audit()))
        for wilayah in (("31.71",), ("31.71.01",), ("31",), None):
            with pytest.raises(MonthClosed) as refused:
                _close(storage, wilayah, who="admin")
            assert refused.value.existing == first
        assert len(list(storage.iter_audit())) == entries
        assert storage.verification.closes("KLJ", "2026-01") == [first]
        other = _close(storage, ("31.72",))  # the other kota is its own close
        assert other.counts == {"belum": 1}
        # another month or programme is another list
        feb = storage.verification.close_month(
            "KLJ", "2026-02", ("31.71",), *JAN, "bu-kasi", _AT, _audit
        )
        assert feb.close_id not in (first.close_id, other.close_id)

    def test_frozen_rows_keep_to_the_scope_they_are_read_in(self, storage: HubStorage):
        save(storage, person(1, K71), person(2, K72))
        close = _close(storage, None, who="admin")
        assert close.wilayah is None
        seen = storage.verification.frozen([close.close_id], ("31.72",))
        assert [f.beneficiary_id for f in seen] == [rid(2)]
        assert storage.verification.frozen([close.close_id], ()) == []
        assert storage.verification.frozen([], None) == []
