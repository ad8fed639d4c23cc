"""A hub database as a file: check a backup before it is trusted, and put one in place.

Used by `pendamping-hub backup` (to check what it wrote) and `pendamping-hub restore` (to
check what it is given before anything is replaced); the orchestration, the names and the
words are in :mod:`server.jobs.backup`. Only the SQLite backend has files to restore; a
PostgreSQL hub (issue 14) restores with PostgreSQL's own tools.

A file passes :func:`check_file` when SQLite's ``PRAGMA integrity_check`` says ``ok``, its
recorded migrations are all this hub's own (same number, same name: a file of a newer hub
or of another program is refused), and its audit chain verifies (:func:`server.audit.verify`).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
from dataclasses import dataclass, field
from pathlib import Path

from schemas.migrations import available_migrations
from server.audit import verify
from server.storage.sqlite import read_audit

__all__ = ["FileCheck", "check_file", "fsync_file", "install", "wal_companions"]

_HUB_MIGRATIONS = "server.storage.migrations"
#: SQLite's files beside a database in WAL mode
_COMPANIONS = ("-wal", "-shm", "-journal")


@dataclass
class FileCheck:
    """What :func:`check_file` found. `problems` are Indonesian sentences; none: a good file."""

    problems: list[str] = field(default_factory=list)
    #: the migrations the file records, and this hub's latest
    migrations: list[int] = field(default_factory=list)
    head: int = 0
    #: live records per entity
    records: dict[str, int] = field(default_factory=dict)
    audit_entries: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def record_count(self) -> int:
        return sum(self.records.values())

    @property
    def behind(self) -> bool:
        """The file is of an older hub: its missing migrations run when the hub starts."""
        return bool(self.migrations) and max(self.migrations) < self.head


def wal_companions(path: Path) -> list[Path]:
    """The `-wal`, `-shm` and `-journal` files beside `path` that exist."""
    return [p for p in (Path(f"{path}{s}") for s in _COMPANIONS) if p.exists()]


def check_file(path: Path) -> FileCheck:
    """Check the database file `path` as a hub database, leaving it one self-contained file.

    The file is opened read-write once: a WAL left beside it is folded in and the journal
    mode set to DELETE, so what is checked is exactly the one file that will be used.
    """
    check = FileCheck(head=max((n for n, _, _ in available_migrations(_HUB_MIGRATIONS)), default=0))
    try:
        conn = sqlite3.connect(path, isolation_level=None)
    except sqlite3.Error as exc:
        check.problems.append(f"berkas tidak dapat dibuka sebagai SQLite: {exc}")
        return check
    try:
        _check(conn, check)
    except sqlite3.DatabaseError as exc:  # "file is not a database", a damaged page, ...
        check.problems.append(f"berkas bukan basis data SQLite yang utuh: {exc}")
    finally:
        conn.close()
    return check


def _check(conn: sqlite3.Connection, check: FileCheck) -> None:
    conn.execute("PRAGMA journal_mode = DELETE")
    found = [row[0] for row in conn.execute("PRAGMA integrity_check").fetchall()]
    if found != ["ok"]:
        shown = "; ".join(str(line) for line in found[:3])
        check.problems.append(f"pemeriksaan integritas SQLite gagal: {shown}")
        return
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "schema_migrations" not in tables or "records" not in tables:
        check.problems.append("bukan basis data hub pendamping-sync (tabel hub tidak ada).")
        return
    known = {number: name for number, name, _ in available_migrations(_HUB_MIGRATIONS)}
    recorded = conn.execute("SELECT number, name FROM schema_migrations ORDER BY number").fetchall()
    check.migrations = [number for number, _ in recorded]
    strange = [f"{n:04d} {name}" for n, name in recorded if known.get(n) != name]
    if strange:
        check.problems.append(
            "dibuat oleh versi hub lain atau program lain: migrasi tidak dikenal "
            + ", ".join(strange[:3])
            + "."
        )
        return
    check.records = dict(
        conn.execute(
            "SELECT entity, COUNT(*) FROM records WHERE deleted = 0 GROUP BY entity"
        ).fetchall()
    )
    if "audit" in tables:
        entries = list(read_audit(conn))
        check.audit_entries = len(entries)
        problems = verify(entries)
        if problems:
            first = "; ".join(p.message for p in problems[:3])
            check.problems.append(f"rantai audit rusak ({len(problems)} masalah): {first}")


def fsync_file(path: Path) -> None:
    """Flush `path` (and on POSIX its folder's entry) to the disk."""
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())
    if sys.platform != "win32":  # Windows cannot open a folder to flush it
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def install(candidate: Path, target: Path, aside: Path) -> bool:
    """Make the checked, self-contained `candidate` the database at `target`, keeping the
    database it replaces at `aside` (with its `-wal`/`-shm` when they are still there).

    No process may have `target` open (the caller made sure the hub is not serving). The
    old file is first checkpointed (its WAL folded in) where SQLite can; it is kept by a
    hard link (no copy; a copy where the disk cannot link), so that `target` itself is
    replaced in one :func:`os.replace`: at every instant it is the old or the new file.

    :returns: whether there was an old database to keep.
    """
    had_old = target.exists()
    if had_old:
        try:
            conn = sqlite3.connect(target, isolation_level=None)
            try:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                conn.close()  # the last connection: SQLite removes an emptied -wal
        except sqlite3.Error:
            pass  # a damaged old file is kept as it is, its -wal beside it
        try:
            os.link(target, aside)
        except OSError:
            shutil.copy2(target, aside)
        fsync_file(aside)
    for companion in wal_companions(target):  # never let an old WAL meet the new file
        suffix = str(companion)[len(str(target)) :]
        os.replace(companion, f"{aside}{suffix}")
    fsync_file(candidate)
    os.replace(candidate, target)
    fsync_file(target)
    return had_old
