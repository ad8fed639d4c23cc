"""Who this laptop is and how its last sync went: the `meta` table's values.

Enrolment writes the identity once; every sync notes how it ended, for `pendamping status`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from client_sync.errors import NotEnrolled, StoreError
from client_sync.sealed import new_key
from client_sync.store.db import Db
from client_sync.store.records import returned_count
from schemas.hlc import iso_from_ms

__all__ = [
    "Identity",
    "note_sync",
    "photo_key",
    "pull_cursor",
    "read_identity",
    "save_identity",
    "status",
]


@dataclass(frozen=True, slots=True)
class Identity:
    """Who this laptop is to the hub, as enrolment left it."""

    device_id: str
    token: str
    hub_url: str
    user: str
    role: str
    wilayah: tuple[str, ...]


def save_identity(db: Db, identity: Identity) -> None:
    """Record the enrolment. :raises StoreError: this home is enrolled already."""
    with db.atomic():
        if db.meta("device_id") is not None:
            raise StoreError("Laptop ini sudah terdaftar; gunakan folder --home lain.")
        db.set_meta(
            device_id=identity.device_id,
            token=identity.token,
            hub_url=identity.hub_url,
            user=identity.user,
            role=identity.role,
            wilayah=list(identity.wilayah),
        )


def read_identity(db: Db) -> Identity:
    """:raises NotEnrolled: no enrolment in this store."""
    rows = db.all_meta()
    if "device_id" not in rows:
        raise NotEnrolled("Laptop belum terdaftar: jalankan `pendamping enroll` dahulu.")
    return Identity(
        rows["device_id"],
        rows["token"],
        rows["hub_url"],
        rows["user"],
        rows["role"],
        tuple(json.loads(rows["wilayah"])),
    )


def photo_key(db: Db) -> bytes:
    """The key that seals kept photos, made on first use and kept inside the store."""
    found = db.meta("photo_key")
    if found is None:
        with db.atomic():
            found = db.meta("photo_key") or new_key().hex()
            db.set_meta(photo_key=found)
    return bytes.fromhex(found)


def note_sync(db: Db, wall: Callable[[], int], ok: bool, message: str) -> None:
    """Remember when the last sync ran and how it ended."""
    with db.atomic():
        values = {
            "last_sync_at": iso_from_ms(wall()),
            "last_sync_outcome": "ok" if ok else "failed",
            "last_sync_message": message,
        }
        if ok:
            values["last_success_at"] = values["last_sync_at"]
        db.set_meta(**values)


def pull_cursor(db: Db) -> int:
    """The hub seq up to which this laptop has pulled."""
    return int(db.meta("pull_cursor", "0") or 0)


def status(db: Db) -> dict[str, Any]:
    """What `pendamping status` shows."""
    conn = db.conn
    counts = dict(conn.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall())
    return {
        "device_id": db.meta("device_id"),
        "user": db.meta("user"),
        "hub_url": db.meta("hub_url"),
        "pending": counts.get("pending", 0),
        "awaiting_pull": counts.get("acked", 0),
        "rejected": counts.get("rejected", 0),
        "conflicts": conn.execute("SELECT COUNT(*) FROM conflicts WHERE resolved = 0").fetchone()[
            0
        ],
        "returned": returned_count(db),
        "pull_cursor": pull_cursor(db),
        "last_sync_at": db.meta("last_sync_at"),
        "last_sync_outcome": db.meta("last_sync_outcome"),
        "last_sync_message": db.meta("last_sync_message"),
        "last_success_at": db.meta("last_success_at"),
    }
