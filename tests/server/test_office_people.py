"""The office's people rules (server/users.py, server/devices.py): a supervisor acts only on
pendamping wholly inside their wilayah, an admin on anyone; refusals write nothing."""

from __future__ import annotations

import pytest

from server.devices import DeviceService
from server.enrolment import issue_code, redeem_code
from server.exceptions import Invalid, Missing, OutsideScope, StateConflict
from server.storage import HubStorage, User
from server.timeutil import utc_iso
from server.users import UserService, acts_on

pytestmark = pytest.mark.both_backends

SUPERVISOR = User("bu-kasi", "supervisor", ("31.71",), "hash")
ADMIN = User("kadis", "admin", (), "hash")


@pytest.mark.parametrize(
    ("wilayah", "expected"),
    [
        (("31.71.01",), True),
        (("31.71",), True),
        (("31.71.01", "31.72.01"), False),  # partly outside: not theirs to change
        (("31.72.01",), False),
        (("31.710",), False),  # a prefix, not a segment
        ((), False),
    ],
)
def test_a_supervisor_acts_only_on_pendamping_wholly_inside(wilayah, expected):
    pendamping = User("siti", "pendamping", wilayah)
    assert acts_on(SUPERVISOR, pendamping) is expected
    assert acts_on(ADMIN, pendamping) is True


def test_adding_and_moving_a_pendamping_keep_to_the_actors_wilayah(hub_storage: HubStorage):
    users = UserService(hub_storage)
    users.add_pendamping_as(SUPERVISOR, "siti", ("31.71.01",))
    with pytest.raises(OutsideScope):
        users.add_pendamping_as(SUPERVISOR, "ani", ("31.72.01",))
    with pytest.raises(Invalid):
        users.add_pendamping_as(SUPERVISOR, "ani", ())
    with pytest.raises(OutsideScope):
        users.set_wilayah_as(SUPERVISOR, "siti", ("31.72.01",), enrolled=False)
    with pytest.raises(StateConflict):
        users.set_wilayah_as(SUPERVISOR, "siti", ("31.71.02",), enrolled=True)
    assert hub_storage.get_user("siti").wilayah == ("31.71.01",)
    users.set_wilayah_as(SUPERVISOR, "siti", ("31.71.02",), enrolled=False)
    assert hub_storage.get_user("siti").wilayah == ("31.71.02",)
    users.add_pendamping_as(ADMIN, "ani", ("31.72.01",))
    with pytest.raises(Missing):
        users.pendamping_of(SUPERVISOR, "ani")
    with pytest.raises(Missing):
        users.pendamping_of(SUPERVISOR, "bu-kasi-tidak-ada")
    actions = [(e.actor, e.action) for e in hub_storage.iter_audit()]
    assert actions == [
        ("bu-kasi", "add_user"),
        ("bu-kasi", "set_wilayah"),
        ("kadis", "add_user"),
    ]


def test_a_laptop_outside_the_wilayah_is_missing_to_a_supervisor(hub_storage: HubStorage):
    hub_storage.add_user(User("ani", "pendamping", ("31.72.01",)), utc_iso())
    device, _ = redeem_code(hub_storage, issue_code(hub_storage, "ani", 24), "laptop-ani")
    devices = DeviceService(hub_storage)
    with pytest.raises(Missing):
        devices.revoke_as(SUPERVISOR, device.device_id, "x")
    assert hub_storage.get_device(device.device_id).revoked_at is None
    done = devices.revoke_as(ADMIN, device.device_id, "hilang")
    assert done.revoked_now and done.device.revoked_at
