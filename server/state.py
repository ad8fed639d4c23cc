"""What one hub process holds beside its configuration: one typed object on the app.

:func:`server.app.create_app` builds a :class:`HubState` and keeps it at
``app.extensions["pendamping"]``; views, pages and CLI commands reach it through
:func:`hub_state`, never by another key, a config entry or an attribute of the app.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Flask, current_app

if TYPE_CHECKING:
    from server.attachments import AttachmentStore
    from server.conflicts import ConflictService
    from server.devices import DeviceService
    from server.office.requests import RequestService
    from server.office.review import ReviewService
    from server.storage import HubStorage
    from server.sync import SyncService
    from server.throttle import FailureLimiter, RateLimiter, WriteGate
    from server.users import UserService
    from server.web.lockout import LoginLockout

__all__ = ["EXTENSION_KEY", "HubState", "hub_state"]

#: where the state lives in ``app.extensions``
EXTENSION_KEY = "pendamping"


@dataclass(frozen=True, slots=True)
class HubState:
    """The hub's services and its back-pressure, made once per app (per process: what
    must hold hub-wide, the limiters keep in ``storage.limits``, not here)."""

    #: the database, through the :class:`HubStorage` interface
    storage: HubStorage
    #: push and pull
    sync: SyncService
    #: the review queue
    conflicts: ConflictService
    #: the office's users: roles, wilayah, web passwords
    users: UserService
    #: the district's laptops: list, revoke
    devices: DeviceService
    #: the office's review of visits (accept, return with a reason)
    reviews: ReviewService
    #: the office's moves of ABF requests (verify, approve, reject, deliver) and their history
    requests: RequestService
    #: photos: tus uploads in progress and finished blobs, under DATA_DIR/attachments
    attachments: AttachmentStore
    #: calls per device, hub-wide (429 beyond)
    rate_limiter: RateLimiter
    #: the hub-wide write queue: a push waits its turn, 503 when the wait would be too long
    write_gate: WriteGate
    #: failed enrolments per client IP, hub-wide (POST /enroll)
    enroll_limiter: FailureLimiter
    #: failed web logins per user name and per client IP, hub-wide
    lockout: LoginLockout


def hub_state(app: Flask | None = None) -> HubState:
    """The state of `app`, by default the app handling the current request or command."""
    return (app or current_app).extensions[EXTENSION_KEY]
