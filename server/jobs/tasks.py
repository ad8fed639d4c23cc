"""The hub's jobs themselves: what each does when its time comes (not when: see
:mod:`server.jobs.schedule`, nor who: see :mod:`server.jobs.runner`).

Each takes a :class:`JobContext` and returns one Indonesian line for `pendamping-hub jobs`;
a failure raises, and the runner records and audits it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from server.audit import AuditEvent
from server.jobs.backup import BackupElsewhere, backup_name, make_backup, prune_backups
from server.jobs.monthly import MonthlyExporter, export_month, previous_month
from server.office.summary import is_silent
from server.storage import Device, HubStorage
from server.timeutil import utc_iso

__all__ = [
    "JobContext",
    "backup_folder",
    "export_folder",
    "monthly_export",
    "nightly_backup",
    "silent_device_ids",
    "silent_laptops",
]


@dataclass(frozen=True)
class JobContext:
    """What a job may use: the hub's storage and settings, and the occurrence it runs for."""

    storage: HubStorage
    config: Mapping[str, Any]
    data_dir: Path
    #: the occurrence's nominal time, in the jobs' time zone
    occurrence: datetime
    tz: tzinfo


def _parse(iso: str | None) -> datetime | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None


def silent_device_ids(devices: Sequence[Device], now: datetime, days: int) -> list[str]:
    """The laptops the office should chase, by the one rule of the pages
    (:func:`server.office.summary.is_silent`)."""
    return [device.device_id for device in devices if is_silent(device, now, days)]


def silent_laptops(ctx: JobContext) -> str:
    """Flag the silent laptops where the office's Ringkasan page reads them, audited."""
    days = int(ctx.config["WEB_SILENT_DAYS"])
    now = utc_iso()
    ids = silent_device_ids(ctx.storage.list_devices(), _parse(now) or datetime.now(), days)
    new, cleared = ctx.storage.jobs.set_silent_devices(
        ids, now, AuditEvent(now, "hub", "silent_laptops", {"days": days})
    )
    return f"{len(ids)} laptop diam lebih dari {days} hari ({new} baru, {cleared} aktif lagi)."


def backup_folder(config: Mapping[str, Any], data_dir: Path) -> Path:
    """`BACKUP_DIR`, or ``DATA_DIR/backups``."""
    return Path(config.get("BACKUP_DIR") or Path(data_dir) / "backups")


def export_folder(config: Mapping[str, Any], data_dir: Path) -> Path:
    """`EXPORT_DIR`, or ``DATA_DIR/exports``."""
    return Path(config.get("EXPORT_DIR") or Path(data_dir) / "exports")


def nightly_backup(ctx: JobContext) -> str:
    """An online backup into the backup folder, then the oldest beyond `BACKUP_KEEP` go.
    On PostgreSQL nothing is copied: the outcome says how that database is backed up."""
    folder = backup_folder(ctx.config, ctx.data_dir)
    photos = ctx.data_dir / "attachments" if ctx.config.get("BACKUP_PHOTOS", True) else None
    try:
        result = make_backup(
            ctx.storage, folder / backup_name(datetime.now(ctx.tz), ctx.tz), photos
        )
    except BackupElsewhere as elsewhere:
        return str(elsewhere)
    deleted = prune_backups(folder, int(ctx.config["BACKUP_KEEP"]))
    return (
        f"{result.path.name}: {result.check.record_count} data, "
        f"{result.check.audit_entries} entri audit utuh; {result.photos_copied} foto baru; "
        f"{len(deleted)} cadangan lama dihapus."
    )


def monthly_export(exporter: MonthlyExporter) -> Callable[[JobContext], str]:
    """The monthly job over `exporter`: the month before the occurrence's, into the folder."""

    def run(ctx: JobContext) -> str:
        month = previous_month(ctx.occurrence.date())
        fmt = str(ctx.config.get("EXPORT_FORMAT", "xlsx"))
        written = export_month(exporter, export_folder(ctx.config, ctx.data_dir), month, fmt)
        rows = ", ".join(f"{path.name} ({count} baris)" for path, count in written)
        return f"ekspor {month}: {rows}."

    return run
