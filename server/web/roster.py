"""What the Pendamping & perangkat page lists: each pendamping of the wilayah with their
laptops, each laptop's last sync, the outcome of its last push, what it last reported of
itself (its queue of unsent changes and its version) and whether it is silent.

Read once per page through the storage (users, devices, the laptops' last pushes: one
index seek each), never a record. A user is listed when they are a pendamping or own a
laptop, and their wilayah touches the viewer's (as the laptops table always did); what the
viewer may do to them is :func:`server.users.acts_on`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from server.scope import Scope
from server.storage import Device, HubStorage, LastPush, User
from server.users import acts_on
from server.web.i18n import gettext
from server.web.laptops import laptop_row, local_time

__all__ = ["Person", "outcome_text", "read_roster"]


@dataclass(slots=True)
class Person:
    """One pendamping (or other laptop owner) and their laptops, as rows of the table."""

    user: User
    may_act: bool
    laptops: list[dict[str, Any]] = field(default_factory=list)

    @property
    def enrolled(self) -> bool:
        """Has a laptop that is not revoked."""
        return any(not laptop["revoked"] for laptop in self.laptops)


def outcome_text(push: LastPush | None) -> str:
    """``12 diterapkan, 1 konflik`` for a laptop's last push; what says nothing was sent."""
    if push is None:
        return gettext("belum pernah mengirim perubahan")
    words = {
        "applied": gettext("diterapkan"),
        "merged": gettext("digabung"),
        "conflict": gettext("konflik"),
        "rejected": gettext("ditolak"),
    }
    parts = [f"{push.statuses[k]} {w}" for k, w in words.items() if push.statuses.get(k)]
    if push.duplicates:
        parts.append(gettext("%(n)d sudah pernah diterima", n=push.duplicates))
    if not parts:
        parts.append(gettext("tidak ada perubahan"))
    how = (
        gettext("lewat bundle USB") if push.action == "bundle_import" else gettext("lewat jaringan")
    )
    return gettext(
        "%(outcome)s (%(how)s, %(when)s)",
        outcome=", ".join(parts),
        how=how,
        when=local_time(push.at),
    )


def read_roster(storage: HubStorage, viewer: User, now: datetime, silent_days: int) -> list[Person]:
    """Everyone of the viewer's wilayah with a laptop or the role of pendamping, by name."""
    scope = Scope.of(viewer)
    devices: dict[str, list[Device]] = {}
    for device in storage.list_devices():
        if scope.covers_any(device.user.wilayah):
            devices.setdefault(device.user.name, []).append(device)
    pushes = storage.people.last_pushes([d.device_id for ds in devices.values() for d in ds])
    people = []
    for user in storage.list_users():
        if user.name not in devices and user.role != "pendamping":
            continue
        if not scope.covers_any(user.wilayah):
            continue
        person = Person(user, user.role == "pendamping" and acts_on(viewer, user))
        for device in devices.get(user.name, []):
            row = laptop_row(device, now, silent_days)
            row["outcome"] = outcome_text(pushes.get(device.device_id))
            row["reported"] = local_time(device.reported_at) if device.reported_at else None
            person.laptops.append(row)
        people.append(person)
    return people
