"""Enrolment of laptops with one-time codes issued by the district office.

A code is 12 characters of Crockford base32 (60 random bits) shown as `ABCD-EFGH-JKMN`, so
it can be read over a phone call: case, dashes and spaces do not matter, and O/I/L read as
0/1/1. The hub stores only its hash; it works once and expires.
"""

from __future__ import annotations

import datetime as dt
import secrets

from schemas.ids import new_id
from server.audit import AuditEvent
from server.auth import hash_secret, new_token
from server.exceptions import EnrollCodeInvalid, Missing
from server.storage import Device, HubStorage, NotFound
from server.timeutil import utc_iso

__all__ = ["issue_code", "normalise_code", "redeem_code"]

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def normalise_code(code: str) -> str:
    """The canonical form of a typed code: upper case, no separators, confusables mapped."""
    return "".join(ch for ch in code.upper() if ch.isalnum()).translate(_READ_AS)


def issue_code(
    storage: HubStorage,
    user_name: str,
    ttl_hours: float,
    now: dt.datetime | None = None,
    actor: str = "hub",
) -> str:
    """Make a one-time enrolment code for `user_name`. :returns: the code, shown once.

    :param actor: who asked for it, for the audit entry (which never holds the code).
    :raises Missing: no user `user_name`.
    """
    now = now or dt.datetime.now(dt.UTC)
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(12))
    created, expires = utc_iso(now), utc_iso(now + dt.timedelta(hours=ttl_hours))
    try:
        storage.add_enroll_code(
            hash_secret(raw),
            user_name,
            created,
            expires,
            audit=AuditEvent(
                created, actor, "issue_enroll_code", {"user": user_name, "expires_at": expires}
            ),
        )
    except NotFound:
        raise Missing(f"Pengguna {user_name} tidak ada.") from None
    return f"{raw[0:4]}-{raw[4:8]}-{raw[8:12]}"


def redeem_code(
    storage: HubStorage, code: str, device_name: str, now: dt.datetime | None = None
) -> tuple[Device, str]:
    """Enrol a laptop. :returns: the device and its token (shown once, never stored).

    :raises EnrollCodeInvalid: the code is unknown, used or expired.
    """
    token = new_token()
    at = utc_iso(now)
    try:
        device = storage.redeem_enroll_code(
            hash_secret(normalise_code(code)),
            at,
            new_id(),
            device_name,
            hash_secret(token),
            # the actor (the code's user) and the device are filled in by the storage
            audit=AuditEvent(at, "", "enrol_device"),
        )
    except NotFound:
        raise EnrollCodeInvalid(
            "Kode pendaftaran tidak dikenal, sudah dipakai, atau kedaluwarsa.",
            {"code": ["Kode tidak berlaku."]},
        ) from None
    return device, token
