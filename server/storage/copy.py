"""Copy a district hub whole from its SQLite file into an empty PostgreSQL database.

`pendamping-hub migrate-storage` (server/cli/migrate.py) is the front; this module holds the
rule. It needs no knowledge of what a table means: the PostgreSQL schema has the SQLite
head's table and column names (issue 14), so each table the SQLite file holds is one
``COPY table (columns) FROM STDIN`` of the rows SQLite reads, in the order SQLite wrote them
(rowid, or the key of a WITHOUT ROWID table), so an ordering column PostgreSQL keeps of its
own (a serial beside ``changes``) numbers them as SQLite's rowid did. A new table in a later
SQLite migration is copied with no change here; one PostgreSQL lacks refuses the copy.

Everything lands in ONE PostgreSQL transaction holding the hub's write lock (no hub process
on the target can write in between), streamed ``chunk_rows`` rows at a time so memory stays
flat however large the district. Before COMMIT the target is checked inside that very
transaction: the row count of every table equals the source's, and the audit chain read
back is the source's entry for entry and whole (:class:`ChainWalk`: the rule of
:func:`server.audit.verify`, walked one entry at a time so a chain of millions of entries
needs no list of them). A failed check rolls everything back: the target is left as empty
as it was found.

Not copied: ``schema_migrations`` (each backend records its own), SQLite's internal tables,
and the hub-wide limits (rate tokens, lockouts, the write queue, leases: ephemeral, in a file
of their own beside the SQLite database). Photos are files under ``DATA_DIR/attachments``
and stay there; whoever moves the hub moves (or shares) that folder.

Exceptions::

    CopyRefused        the copy did not start or was rolled back; `str()` is one
                       Indonesian sentence saying why (nothing written on the target)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from server.audit import GENESIS, AuditEntry, Problem, verify
from server.storage.copy_source import (
    CopyRefused,
    SourceTable,
    check_source,
    open_source,
    quoted_name,
    source_rows,
    source_tables,
)
from server.storage.sqlite import read_audit
from server.storage.urls import one_line

__all__ = [
    "ChainWalk",
    "CopyRefused",
    "CopyReport",
    "analyze",
    "check_source",
    "check_target_is_a_hub_or_empty",
    "copy_hub",
    "open_source",
    "source_tables",
    "walk_chain",
]

#: rows read from SQLite and written to the COPY stream at a time
CHUNK_ROWS = 2_000


@dataclass
class CopyReport:
    """What :func:`copy_hub` copied and checked."""

    #: table -> rows, equal on both sides (checked before COMMIT), in copy order
    tables: dict[str, int] = field(default_factory=dict)
    audit_entries: int = 0
    audit_head: str | None = None
    #: the source's own audit problems, copied as they were (empty: the chain is whole)
    audit_problems: list[Problem] = field(default_factory=list)
    #: the sequences set past the copied rows, as ``table.column``
    identities: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def _target_columns(pg: psycopg.Connection) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for table, column in pg.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema()"
    ):
        found.setdefault(table, set()).add(column)
    return found


def check_target_is_a_hub_or_empty(pg: psycopg.Connection, where: str) -> None:
    """Refuse a database that holds another program's tables (before the hub's migrations
    would add its own beside them); a hub's database (even one in use) passes here.

    :raises CopyRefused: tables, and no record of the hub's migrations.
    """
    if pg.execute("SELECT to_regclass('schema_migrations')").fetchone() != (None,):
        return
    others = [
        row[0]
        for row in pg.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() ORDER BY table_name LIMIT 5"
        )
    ]
    if others:
        raise CopyRefused(
            f"basis data tujuan {where} berisi tabel lain ({', '.join(others)}), bukan milik "
            "hub; pakai basis data PostgreSQL yang kosong. Tidak ada yang disalin."
        )


def _check_target(pg: psycopg.Connection, tables: list[SourceTable], where: str) -> None:
    """Every table and column is there, and every table to fill is empty."""
    columns = _target_columns(pg)
    for table in tables:
        missing = set(table.columns) - columns.get(table.name, set())
        if table.name not in columns or missing:
            what = ", ".join(sorted(missing)) if table.name in columns else "tabelnya"
            raise CopyRefused(
                f"skema PostgreSQL di {where} tidak cocok dengan hub ini: {table.name} "
                f"tidak punya {what}."
            )
    filled = [
        t.name
        for t in tables
        if pg.execute(
            sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(t.name))
        ).fetchone()
        == (True,)
    ]
    if filled:
        raise CopyRefused(
            f"basis data tujuan {where} sudah berisi data ({', '.join(filled)}); hub hanya "
            "dipindahkan ke basis data PostgreSQL yang kosong. Tidak ada yang disalin."
        )


def _copy_table(
    pg: psycopg.Connection, source: sqlite3.Connection, table: SourceTable, chunk_rows: int
) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, table.columns))
    )
    with pg.cursor() as cursor, cursor.copy(statement) as copy:
        for row in source_rows(source, table, chunk_rows):
            copy.write_row(row)


def _reset_identities(pg: psycopg.Connection, tables: list[SourceTable]) -> list[str]:
    """Move every serial or identity sequence of the copied tables past the copied rows,
    so the next conflict or close the hub adds on PostgreSQL gets a fresh number."""
    reset = []
    for table in tables:
        for column in table.columns:
            row = pg.execute(
                "SELECT pg_get_serial_sequence(%s, %s)",
                (sql.Identifier(table.name).as_string(pg), column),
            ).fetchone()
            if row is None or row[0] is None:
                continue
            pg.execute(
                sql.SQL(
                    "SELECT setval(%s, COALESCE((SELECT MAX({}) FROM {}), 0) + 1, false)"
                ).format(sql.Identifier(column), sql.Identifier(table.name)),
                (row[0],),
            )
            reset.append(f"{table.name}.{column}")
    return reset


@dataclass
class ChainWalk:
    """An audit chain read once, oldest first, holding one entry at a time: its length,
    its head, and whether it is whole (what :func:`server.audit.verify` finds no problem
    in: positions 1, 2, 3 ... each hashing to its hash and linking to the one before)."""

    entries: int = 0
    head: str | None = None
    intact: bool = True

    def feed(self, entry: AuditEntry) -> None:
        expected_prev = self.head if self.entries else GENESIS
        self.entries += 1
        if (
            entry.unreadable
            or entry.position != self.entries
            or entry.prev_hash != expected_prev
            or entry.computed_hash() != entry.hash
        ):
            self.intact = False
        self.head = entry.hash


def walk_chain(entries: Iterable[AuditEntry]) -> ChainWalk:
    """Walk `entries` (a generator stays a generator: memory stays flat)."""
    walk = ChainWalk()
    for entry in entries:
        walk.feed(entry)
    return walk


def _target_audit(pg: psycopg.Connection, chunk_rows: int) -> Iterator[AuditEntry]:
    """The target's chain as copied, through a server-side cursor of the copy's transaction."""
    with pg.cursor(name="pendamping_copy_audit") as cursor:
        cursor.itersize = chunk_rows
        cursor.execute(
            "SELECT position, at, actor, device_id, action, detail, prev_hash, hash"
            " FROM audit ORDER BY position"
        )
        for row in cursor:
            yield AuditEntry(*row)


def _check_chain(
    pg: psycopg.Connection, source: sqlite3.Connection, report: CopyReport, chunk_rows: int
) -> None:
    """The target's chain is the source's, entry for entry, and verifies as it did."""
    walk = ChainWalk()
    ours = read_audit(source)
    for theirs in _target_audit(pg, chunk_rows):
        if next(ours, None) != theirs:
            walk.intact = False
            break
        walk.feed(theirs)
    else:
        if next(ours, None) is None and walk.intact == (not report.audit_problems):
            report.audit_head = walk.head
            return
    raise CopyRefused(
        "rantai audit di tujuan tidak sama dengan di sumber setelah disalin; semua "
        "dibatalkan, tujuan tetap kosong."
    )


def _compare(
    pg: psycopg.Connection, source: sqlite3.Connection, tables: list[SourceTable]
) -> dict[str, int]:
    counts = {}
    for table in tables:
        quoted = sql.Identifier(table.name)
        (theirs,) = pg.execute(sql.SQL("SELECT count(*) FROM {}").format(quoted)).fetchone() or (0,)
        (ours,) = source.execute(f"SELECT count(*) FROM {quoted_name(table.name)}").fetchone()
        if theirs != ours:
            raise CopyRefused(
                f"jumlah baris {table.name} berbeda setelah disalin ({ours} di sumber, {theirs} "
                "di tujuan); semua dibatalkan, tujuan tetap kosong."
            )
        counts[table.name] = ours
    return counts


def _fill(
    pg: psycopg.Connection,
    source: sqlite3.Connection,
    tables: list[SourceTable],
    report: CopyReport,
    where: str,
    chunk_rows: int,
    progress: Callable[[str, int], None] | None,
) -> None:
    """Copy, then check, inside the target's one transaction (`report` is filled in)."""
    _check_target(pg, tables, where)
    for table in tables:
        _copy_table(pg, source, table, chunk_rows)
        if progress is not None:
            (count,) = source.execute(f"SELECT count(*) FROM {quoted_name(table.name)}").fetchone()
            progress(table.name, count)
    report.identities = _reset_identities(pg, tables)
    report.tables = _compare(pg, source, tables)
    _check_chain(pg, source, report, chunk_rows)


def analyze(pg: psycopg.Connection, tables: Iterable[str]) -> None:
    """Give the planner the copied tables' statistics now (autocommit), rather than when
    autovacuum comes by: the hub's first pulls and office pages then read their indexes."""
    for table in tables:
        pg.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))


def copy_hub(
    source_path: Path,
    write: Callable[[], AbstractContextManager[psycopg.Connection]],
    where: str,
    *,
    chunk_rows: int = CHUNK_ROWS,
    progress: Callable[[str, int], None] | None = None,
) -> CopyReport:
    """Copy the hub in `source_path` through `write`, the target's write transaction.

    :param write: opens the target's one transaction holding the hub's write lock
        (``PgDatabase.write``) and yields its connection; the target is at its head schema.
    :param where: the target as the messages name it (its URL without a password).
    :param progress: called with each table's name and row count once it is copied.
    :raises CopyRefused: the source or the target refused, or a check failed (rolled back).
    :returns: what was copied and checked.
    """
    with open_source(source_path) as source:
        tables = source_tables(source)
        walk = walk_chain(read_audit(source))
        report = CopyReport(audit_entries=walk.entries)
        if not walk.intact:  # rare: then every problem, as `audit verify` words them
            report.audit_problems = verify(read_audit(source))
        with write() as pg:
            try:
                _fill(pg, source, tables, report, where, chunk_rows, progress)
            except psycopg.Error as exc:
                raise CopyRefused(
                    f"PostgreSQL menolak salinan ({type(exc).__name__}: {one_line(exc)}); semua "
                    "dibatalkan, tujuan tetap kosong."
                ) from exc
    return report
