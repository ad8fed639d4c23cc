"""The :class:`~server.storage.people.PeopleStore` part of the storage contract, inherited
by :class:`server.storage.testing.StorageContract` so every backend runs it."""

from __future__ import annotations

import pytest

from server.audit import AuditEvent, verify
from server.storage.base import HubStorage, NotFound, User
from server.storage.people import LastPush

__all__ = ["PeopleStoreContract"]

_T0 = "2026-11-23T02:30:00.000Z"
_T1 = "2026-11-23T02:31:00.000Z"
_T2 = "2026-11-23T02:32:00.000Z"


def _push(storage: HubStorage, device_id: str, at: str, action: str, **statuses: int) -> None:
    detail = {"changes": sum(statuses.values()), "statuses": statuses, "duplicates": 0}
    with storage.write() as session:
        session.audit(AuditEvent(at, "ani", action, detail, device_id))


class PeopleStoreContract:
    """Every behaviour of ``storage.people`` the office's pages rely on."""

    def test_a_wilayah_change_is_kept_and_audited_together(self, storage: HubStorage):
        storage.add_user(User("siti", "pendamping", ("31.71.01",)), _T0)
        event = AuditEvent(_T1, "bu-kasi", "set_wilayah", {"user": "siti"})
        storage.people.set_wilayah("siti", ("31.71.02", "31.71.03"), event)
        assert storage.get_user("siti").wilayah == ("31.71.02", "31.71.03")
        [entry] = list(storage.iter_audit())
        assert (entry.actor, entry.action) == ("bu-kasi", "set_wilayah")
        assert verify(storage.iter_audit()) == []

    def test_a_wilayah_change_of_an_unknown_user_writes_nothing(self, storage: HubStorage):
        with pytest.raises(NotFound):
            storage.people.set_wilayah("nobody", ("31.71",), AuditEvent(_T1, "x", "set_wilayah"))
        assert list(storage.iter_audit()) == []

    def test_the_last_push_of_each_laptop_is_its_newest_push_or_bundle(self, storage: HubStorage):
        _push(storage, "dev-1", _T0, "push", applied=3)
        _push(storage, "dev-2", _T0, "push", applied=1)
        with storage.write() as session:  # not a push: never taken for one
            session.audit(AuditEvent(_T2, "ani", "device_report", {}, "dev-1"))
        _push(storage, "dev-1", _T1, "bundle_import", applied=1, conflict=2, rejected=1)
        found = storage.people.last_pushes(["dev-1", "dev-2", "dev-3", "dev-1"])
        assert found == {
            "dev-1": LastPush(
                _T1, "bundle_import", 4, {"applied": 1, "conflict": 2, "rejected": 1}
            ),
            "dev-2": LastPush(_T0, "push", 1, {"applied": 1}),
        }
        assert storage.people.last_pushes([]) == {}
