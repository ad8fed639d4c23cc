"""The laptops table of /web/, and times as the office reads them.

A laptop is *diam* (silent) when the hub has not heard from it for more than
``WEB_SILENT_DAYS``, or when it has never synced since its enrolment: a laptop handed out
and never used is exactly one the office must chase.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from flask import current_app

from server.office.summary import is_silent
from server.storage import Device
from server.web.i18n import gettext

__all__ = ["laptop_row", "local_time"]

_ZONES = {7: "WIB", 8: "WITA", 9: "WIT"}


def _parse(iso: str | None) -> datetime | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None


def local_time(iso: str | None) -> str:
    """An ISO UTC time as the office reads it, e.g. ``23-11-2026 16:30 WIB``."""
    moment = _parse(iso)
    if moment is None:
        return gettext("belum pernah")
    hours = int(current_app.config["WEB_UTC_OFFSET_HOURS"])
    local = moment.astimezone(timezone(timedelta(hours=hours)))
    zone = _ZONES.get(hours, f"UTC{hours:+d}")
    return f"{local:%d-%m-%Y %H:%M} {zone}"


def laptop_row(device: Device, now: datetime, silent_days: int) -> dict[str, Any]:
    """One row of the laptops table. A laptop is silent when the hub has not heard from it
    for more than `silent_days`, or when it never synced at all since its enrolment."""
    heard = [t for t in (_parse(device.last_seen_at), _parse(device.last_sync_at)) if t]
    quiet = now - max(heard or [_parse(device.enrolled_at) or now])
    never = device.last_sync_at is None
    live = device.revoked_at is None
    return {
        "device_id": device.device_id,
        "name": device.name,
        "user": device.user.name,
        "wilayah": ", ".join(device.user.wilayah),
        "last_sync": local_time(device.last_sync_at),
        "queue_size": "—" if device.queue_size is None else str(device.queue_size),
        "client_version": device.client_version or "—",
        "revoked": not live,
        "silent": is_silent(device, now, silent_days),
        "never_synced": never,
        "quiet_days": quiet.days,
    }
