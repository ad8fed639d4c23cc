"""The SQLite side of `migrate-storage` (server/storage/copy.py): the hub file opened
read-only in one snapshot, checked to be this hub's at its head, and its tables listed in
an order that satisfies their foreign keys, each with its columns and its rows' order.

Exceptions::

    CopyRefused        the copy did not start or was rolled back; `str()` is one
                       Indonesian sentence saying why (nothing written on the target)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from schemas.migrations import available_migrations

__all__ = [
    "CopyRefused",
    "SourceTable",
    "check_source",
    "open_source",
    "quoted_name",
    "source_rows",
    "source_tables",
]

_SQLITE_MIGRATIONS = "server.storage.migrations"
#: tables never copied: each backend records its own migrations
_NOT_COPIED = frozenset({"schema_migrations"})


class CopyRefused(Exception):
    """The copy was refused or rolled back; nothing was left on the target."""


@dataclass(frozen=True)
class SourceTable:
    """One SQLite table to copy: its columns in order, and the order to read its rows in."""

    name: str
    columns: tuple[str, ...]
    order_by: str


def quoted_name(name: str) -> str:
    """A SQLite identifier read from the source file, quoted (any `"` in it doubled)."""
    return '"' + name.replace('"', '""') + '"'


@contextmanager
def open_source(path: Path) -> Iterator[sqlite3.Connection]:
    """The hub's SQLite file, read-only, inside one read transaction (one snapshot).

    :raises CopyRefused: no such file, not a hub database, or not at this hub's head.
    """
    if not path.is_file():
        raise CopyRefused(f"berkas sumber {path} tidak ada.")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise CopyRefused(f"berkas sumber {path} tidak dapat dibuka: {exc}") from exc
    with closing(conn):
        try:
            conn.execute("BEGIN")  # deferred: the first read fixes the snapshot
            _check_head(conn, path)
            yield conn
        except sqlite3.DatabaseError as exc:
            raise CopyRefused(
                f"berkas sumber {path} tidak terbaca sebagai basis data hub: {exc}"
            ) from exc
        finally:
            if conn.in_transaction:
                conn.rollback()


def check_source(path: Path) -> None:
    """Refuse a source :func:`copy_hub` would refuse, before the target is touched.

    :raises CopyRefused: no such file, not a hub database, or not at this hub's head.
    """
    with open_source(path):
        pass


def _check_head(conn: sqlite3.Connection, path: Path) -> None:
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ).fetchone()
    if found is None:
        raise CopyRefused(f"berkas sumber {path} bukan basis data hub (tidak ada migrasinya).")
    done = {row[0] for row in conn.execute("SELECT number FROM schema_migrations")}
    known = {number for number, _name, _sql in available_migrations(_SQLITE_MIGRATIONS)}
    if done - known:
        raise CopyRefused(
            f"berkas sumber {path} dari hub versi lebih baru (migrasi {max(done):04d}); "
            "pakai pendamping-hub versi itu untuk memindahkannya."
        )
    if known - done:
        raise CopyRefused(
            f"berkas sumber {path} belum pada skema terbaru ({len(done)} dari {len(known)} "
            "migrasi); jalankan `pendamping-hub --data FOLDER init` pada foldernya sekali "
            "(skemanya dimutakhirkan), lalu ulangi."
        )


def source_tables(conn: sqlite3.Connection) -> list[SourceTable]:
    """The tables to copy, each after the tables its foreign keys point at."""
    names = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
            " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
        )
        if row[0] not in _NOT_COPIED
    ]
    parents = {
        name: {row[2] for row in conn.execute("SELECT * FROM pragma_foreign_key_list(?)", (name,))}
        for name in names
    }
    ordered: list[str] = []
    while len(ordered) < len(names):
        ready = [n for n in names if n not in ordered and parents[n] <= {*ordered, n}]
        if not ready:  # a cycle: cannot be in a hub schema, but never loop on one
            ready = [n for n in names if n not in ordered]
        ordered.extend(ready)
    return [_describe(conn, name) for name in ordered]


def _describe(conn: sqlite3.Connection, name: str) -> SourceTable:
    info = conn.execute("SELECT name, pk FROM pragma_table_info(?) ORDER BY cid", (name,))
    rows = info.fetchall()
    columns = tuple(row[0] for row in rows)
    try:
        conn.execute(f"SELECT rowid FROM {quoted_name(name)} LIMIT 0")
        order_by = "rowid"
    except sqlite3.OperationalError:  # WITHOUT ROWID: its key is its order
        keys = sorted((row[1], row[0]) for row in rows if row[1])
        order_by = ", ".join(quoted_name(column) for _pk, column in keys)
    return SourceTable(name, columns, order_by)


def source_rows(
    conn: sqlite3.Connection, table: SourceTable, chunk_rows: int
) -> Iterator[Sequence[object]]:
    quoted = ", ".join(quoted_name(c) for c in table.columns)
    cursor = conn.execute(
        f"SELECT {quoted} FROM {quoted_name(table.name)} ORDER BY {table.order_by}"
    )
    while rows := cursor.fetchmany(chunk_rows):
        yield from rows
