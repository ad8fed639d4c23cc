"""The district's laptops: list them as the office reads them, and revoke one, with audit.

`pendamping-hub device` (server/cli/devices.py) and the district office's pages call this;
enrolment codes are :mod:`server.enrolment`'s. A refusal is a :mod:`server.exceptions`.
The pages revoke as a user (:meth:`DeviceService.revoke_as`): a supervisor only the laptops
of pendamping inside their wilayah (:func:`server.users.acts_on`), an admin any.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from server.audit import AuditEvent
from server.exceptions import Missing
from server.storage import Device, HubStorage, NotFound, User
from server.timeutil import utc_iso
from server.users import acts_on

__all__ = ["DeviceService", "Revocation", "describe"]

#: how much of a revocation's reason the audit entry keeps
_REASON_MAX = 200


def describe(device: Device) -> dict[str, Any]:
    """What the office sees of a laptop (never its token): owner, role, wilayah, when it
    was last heard of, and the queue and version it reported."""
    return {
        "device_id": device.device_id,
        "name": device.name,
        "user": device.user.name,
        "role": device.user.role,
        "wilayah": list(device.user.wilayah),
        "enrolled_at": device.enrolled_at,
        "last_seen_at": device.last_seen_at,
        "last_sync_at": device.last_sync_at,
        "revoked_at": device.revoked_at,
        "client_version": device.client_version,
        "queue_size": device.queue_size,
        "reported_at": device.reported_at,
    }


@dataclass(frozen=True, slots=True)
class Revocation:
    """What :meth:`DeviceService.revoke` did: the device as it is now, and whether it was
    revoked by this call (False: it was revoked already, at ``device.revoked_at``)."""

    device: Device
    revoked_now: bool


class DeviceService:
    """Lists and revokes devices over any :class:`HubStorage`.

    :param now: the hub's wall clock as an ISO string.
    """

    def __init__(self, storage: HubStorage, now: Callable[[], str] = utc_iso) -> None:
        self.storage = storage
        self._now = now

    def list(self) -> list[Device]:
        """Every device, newest enrolment first."""
        return self.storage.list_devices()

    def get(self, device_id: str) -> Device:
        """:raises Missing: no such device."""
        try:
            return self.storage.get_device(device_id)
        except NotFound:
            raise Missing(f"Tidak ada laptop dengan ID {device_id}.") from None

    def revoke_as(self, actor: User, device_id: str, reason: str | None = None) -> Revocation:
        """Revoke `device_id` for an office user, audited with their name.

        :raises Missing: no such laptop, or one whose owner lies outside `actor`'s wilayah
            (the two are not told apart).
        """
        try:
            found = self.storage.get_device(device_id)
        except NotFound:
            found = None
        if found is None or not acts_on(actor, found.user):
            raise Missing(f"Tidak ada laptop dengan ID {device_id} di wilayah Anda.")
        return self.revoke(device_id, reason, actor=actor.name)

    def revoke(self, device_id: str, reason: str | None = None, *, actor: str) -> Revocation:
        """Revoke `device_id`: every later call with its token is refused (401
        ``device_revoked``); the data it sent stays. Revoking twice changes nothing.

        :param reason: why (a lost laptop), kept in the audit entry (its first 200 characters).
        :param actor: who revoked it, for the audit entry.
        :raises Missing: no such device.
        """
        found = self.get(device_id)
        at = self._now()
        detail: dict[str, Any] = {"device": device_id, "user": found.user.name}
        if reason:
            detail["reason"] = reason[:_REASON_MAX]
        event = AuditEvent(at, actor, "revoke_device", detail, device_id)
        try:
            revoked_now = self.storage.revoke_device(device_id, at, audit=event)
        except NotFound:
            raise Missing(f"Tidak ada laptop dengan ID {device_id}.") from None
        return Revocation(self.get(device_id), revoked_now)
