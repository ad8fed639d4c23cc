"""Backups of the hub, by hand (`pendamping-hub backup | restore`) and every night.

A backup is one SQLite file, ``hub-YYYYMMDD-HHMMSS.sqlite3`` (the jobs' local time), made
with SQLite's online backup API while the hub serves, written under a temporary name and
renamed only once it is checked (integrity, schema, audit chain): a file with the final
name is always a whole, checked backup. Photos are files, not rows: they are copied beside
it into ``attachments/blobs/`` of the backup folder, once each (a photo never changes: its
name is its SHA-256), so fourteen nightly backups share one copy of every photo.

A restore is refused while any hub process serves the folder (:mod:`server.serving`), and
checks the file before anything is replaced; the replaced database stays beside the new one
as ``hub.sqlite3.before-restore-<stamp>``. docs/jobs.md says what a backup covers.

A hub on PostgreSQL makes no such file: its database is backed up with pg_dump or the
data centre's own backups (docs/operations.md); :func:`make_backup` says so by raising
:class:`BackupElsewhere`, and the nightly job records that sentence as its outcome.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path

from server.audit import AuditEvent
from server.storage import HubStorage, StorageError
from server.storage.base import BackupUnsupported
from server.storage.sqlite import SQLiteStorage
from server.storage.sqlite_backup import FileCheck, check_file, fsync_file, install
from server.timeutil import utc_iso

__all__ = [
    "BACKUP_ELSEWHERE",
    "BACKUP_NAME",
    "BackupElsewhere",
    "BackupFailed",
    "BackupResult",
    "RestoreRefused",
    "RestoreResult",
    "backup_name",
    "copy_photos",
    "make_backup",
    "prune_backups",
    "restore",
]

#: the names the nightly job makes and prunes; nothing else in the folder is ever deleted
BACKUP_NAME = re.compile(r"^hub-\d{8}-\d{6}(-\d+)?\.sqlite3$")
_DATABASE = "hub.sqlite3"
_BLOBS = Path("attachments") / "blobs"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class BackupFailed(Exception):
    """The backup could not be made or did not pass its check; no file has its name."""


class BackupElsewhere(BackupFailed):
    """The hub's database is backed up by its server's own tools, not by the hub; nothing
    was written. Its text is the sentence to show."""


#: what a hub on PostgreSQL says instead of making a backup file
BACKUP_ELSEWHERE = (
    "Basis data hub ini (PostgreSQL) dicadangkan dengan pg_dump atau cadangan pusat data,"
    " bukan oleh hub: lihat docs/operations.md."
)


class RestoreRefused(Exception):
    """The file is not a good hub database; nothing was replaced."""


@dataclass
class BackupResult:
    path: Path
    check: FileCheck
    photos_copied: int = 0
    photos_total: int = 0
    photos_folder: Path | None = None


@dataclass
class RestoreResult:
    source: Path
    check: FileCheck
    aside: Path | None
    photos_restored: int = 0
    photos_refused: list[str] = field(default_factory=list)


def backup_name(moment: datetime, tz: tzinfo) -> str:
    """``hub-YYYYMMDD-HHMMSS.sqlite3`` at `moment` in the jobs' local time."""
    return f"hub-{moment.astimezone(tz):%Y%m%d-%H%M%S}.sqlite3"


def _free(path: Path) -> Path:
    """`path`, or the same name with -2, -3, ... when a backup of that second exists."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


def make_backup(storage: HubStorage, out: Path, attachments: Path | None = None) -> BackupResult:
    """Back the hub's database up into `out` (a new file), checked, and its photos from
    the folder `attachments` (the hub's ``DATA_DIR/attachments``) beside it.

    :raises BackupElsewhere: the database is backed up by its server's tools (PostgreSQL);
        nothing was written.
    :raises BackupFailed: nothing with `out`'s name was written (photos copied so far stay:
        they are whole files, each under its final name only once complete).
    """
    if not storage.jobs.file_backups:
        raise BackupElsewhere(BACKUP_ELSEWHERE)
    out = _free(Path(out))
    partial = out.with_name(f".{out.name}.{secrets.token_hex(4)}.partial")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        storage.jobs.backup_into(partial)
        check = check_file(partial)
        if not check.ok:
            raise BackupFailed("cadangan tidak lolos pemeriksaan: " + " ".join(check.problems))
        fsync_file(partial)
        os.replace(partial, out)
    except BackupUnsupported as exc:
        raise BackupElsewhere(BACKUP_ELSEWHERE) from exc
    except (StorageError, OSError) as exc:
        raise BackupFailed(f"cadangan gagal dibuat: {exc}") from exc
    finally:
        for leftover in (partial, Path(f"{partial}-journal")):
            with contextlib.suppress(OSError):  # e.g. its folder could not be made
                leftover.unlink(missing_ok=True)
    result = BackupResult(out, check)
    if attachments is not None:
        target = out.parent / _BLOBS
        result.photos_copied, result.photos_total = copy_photos(attachments / "blobs", target)
        result.photos_folder = target
    return result


def copy_photos(source: Path, target: Path, verify: bool = False) -> tuple[int, int]:
    """Copy each finished photo of `source` (``<sha256>`` and its ``.json``) that `target`
    lacks; a photo is written under a temporary name and renamed once whole.

    :param verify: check each photo's bytes against its name first (from a USB stick).
    :returns: (copied now, photos in `source`).
    """
    if not source.is_dir():
        return 0, 0
    copied = total = 0
    for blob in sorted(source.iterdir()):
        if not _SHA256.match(blob.name):
            continue
        total += 1
        there = target / blob.name
        if there.exists() and there.stat().st_size == blob.stat().st_size:
            continue
        if verify and _sha256(blob) != blob.name:
            raise OSError(f"foto {blob.name} rusak (isinya tidak cocok dengan namanya)")
        target.mkdir(parents=True, exist_ok=True)
        for file in (blob, blob.with_name(blob.name + ".json")):
            if not file.exists():
                continue
            partial = target / f".{file.name}.partial"
            shutil.copyfile(file, partial)
            os.replace(partial, target / file.name)
        copied += 1
    return copied, total


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def prune_backups(folder: Path, keep: int) -> list[Path]:
    """Delete the oldest nightly backups in `folder` beyond the newest `keep` (at least one
    is always kept). Only files named as :data:`BACKUP_NAME` are considered.

    :returns: the files deleted.
    """
    if not folder.is_dir():
        return []
    backups = sorted(p for p in folder.iterdir() if BACKUP_NAME.match(p.name))
    doomed = backups[: max(0, len(backups) - max(1, keep))]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def restore(
    data_dir: Path, source: Path, actor: str, now: datetime, tz: tzinfo, photos: bool = True
) -> RestoreResult:
    """Put the backup `source` in place as the hub database of `data_dir`.

    The caller holds :func:`server.serving.restore_guard`. The file is copied into the data
    folder and checked there (what is checked is what is installed); only then is the old
    database kept aside and the new one renamed over it. The restore is appended to the
    restored database's audit chain, by `actor`. Photos in ``attachments/blobs`` beside
    `source` that the hub lacks are copied back, each checked against its name.

    :raises RestoreRefused: `source` is missing or not a good hub database; nothing was
        replaced.
    """
    source = Path(source)
    if not source.is_file():
        raise RestoreRefused(f"berkas {source} tidak ada.")
    stamp = f"{now.astimezone(tz):%Y%m%d-%H%M%S}"
    target = data_dir / _DATABASE
    candidate = data_dir / f"{_DATABASE}.restoring-{stamp}"
    try:
        shutil.copyfile(source, candidate)
        if Path(f"{source}-wal").exists():  # a copied live database: its WAL belongs to it
            shutil.copyfile(f"{source}-wal", f"{candidate}-wal")
        check = check_file(candidate)
        if not check.ok:
            raise RestoreRefused(" ".join(check.problems))
        aside = _free(data_dir / f"{_DATABASE}.before-restore-{stamp}")
        kept = install(candidate, target, aside)
    except OSError as exc:
        raise RestoreRefused(f"berkas tidak dapat disalin atau dipasang: {exc}") from exc
    finally:
        for leftover in (candidate, *(Path(f"{candidate}{s}") for s in ("-wal", "-shm"))):
            leftover.unlink(missing_ok=True)
    result = RestoreResult(source, check, aside if kept else None)
    storage = SQLiteStorage(target)
    try:
        storage.migrate()  # a backup of an older hub is brought to this hub's schema
        with storage.write() as session:
            session.audit(
                AuditEvent(
                    utc_iso(),
                    actor,
                    "restore",
                    {
                        "file": source.name,
                        "records": check.record_count,
                        "audit_entries": check.audit_entries,
                        "kept_aside": aside.name if kept else None,
                    },
                )
            )
    finally:
        storage.close()
    if photos:
        beside = source.parent / _BLOBS
        try:
            result.photos_restored, _ = copy_photos(
                beside, data_dir / "attachments" / "blobs", verify=True
            )
        except OSError as exc:
            result.photos_refused.append(str(exc))
    return result
