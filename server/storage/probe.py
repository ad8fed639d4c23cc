"""What a hub's storage is, without opening it as the hub would: `pendamping-hub check`.

The hub itself migrates its database when it starts (``HubStorage.migrate``); a check must
not, so that it can say "behind" (the next start migrates) or "of a newer hub" (this code
must not touch it). One function per backend reads the backend's version and its
``schema_migrations`` table, read-only; :func:`configured_url` is the URL the hub uses.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schemas.migrations import available_migrations
from server.storage.urls import PG_SCHEMES, hide_secrets, one_line, shown_url, sqlite_path

__all__ = ["PG_SCHEMES", "StorageProbe", "configured_url", "probe"]

_PACKAGES = {"sqlite": "server.storage.migrations", "postgresql": "server.storage.pg_migrations"}


@dataclass
class StorageProbe:
    """What :func:`probe` found. `problem` (Indonesian) is None when the storage is usable."""

    backend: str
    where: str
    version: str | None = None
    #: (number, name) recorded in the database, and what this hub's code holds
    applied: list[tuple[int, str]] = field(default_factory=list)
    available: list[tuple[int, str]] = field(default_factory=list)
    problem: str | None = None

    @property
    def pending(self) -> list[tuple[int, str]]:
        done = {number for number, _name in self.applied}
        return [m for m in self.available if m[0] not in done]

    @property
    def unknown(self) -> list[tuple[int, str]]:
        """Migrations the database records that this code does not have (a newer hub's)."""
        known = set(self.available)
        return [m for m in self.applied if m not in known]

    @property
    def at_head(self) -> bool:
        return self.problem is None and not self.pending and not self.unknown


def configured_url(config: Mapping[str, Any]) -> str:
    """The hub's storage URL: `STORAGE_URL`, or the SQLite file ``DATA_DIR/hub.sqlite3``."""
    url = config.get("STORAGE_URL")
    if url:
        return str(url)
    return f"sqlite:///{Path(config['DATA_DIR']).resolve() / 'hub.sqlite3'}"


def _available(backend: str) -> list[tuple[int, str]]:
    try:
        return [(number, name) for number, name, _sql in available_migrations(_PACKAGES[backend])]
    except ModuleNotFoundError:  # a hub without that backend's migrations
        return []


def probe(url: str) -> StorageProbe:
    """Read the backend, its version and its migrations behind `url`; never writes.

    :raises ValueError: `url` names no backend this hub has.
    """
    if url.startswith(PG_SCHEMES):
        return _probe_postgresql(url)
    return _probe_sqlite(sqlite_path(url))


def _probe_sqlite(path: Path) -> StorageProbe:
    found = StorageProbe("sqlite", str(path), sqlite3.sqlite_version, [], _available("sqlite"))
    if not path.is_file():
        found.problem = f"berkas {path} belum ada; jalankan `pendamping-hub init`."
        return found
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            table = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
            ).fetchone()
            if table is not None:
                found.applied = [
                    (row[0], row[1])
                    for row in conn.execute(
                        "SELECT number, name FROM schema_migrations ORDER BY number"
                    )
                ]
    except sqlite3.Error as exc:
        found.problem = f"berkas {path} tidak dapat dibaca sebagai basis data hub: {exc}"
    return found


def _probe_postgresql(url: str) -> StorageProbe:
    import psycopg  # only when the hub is on PostgreSQL

    found = StorageProbe("postgresql", shown_url(url), None, [], _available("postgresql"))
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            found.version = str(row[0]) if row else None
            exists = conn.execute("SELECT to_regclass('schema_migrations')").fetchone()
            if exists and exists[0] is not None:
                found.applied = [
                    (int(number), str(name))
                    for number, name in conn.execute(
                        "SELECT number, name FROM schema_migrations ORDER BY number"
                    )
                ]
    except psycopg.Error as exc:
        found.problem = (
            f"PostgreSQL di {found.where} tidak dapat dipakai: {hide_secrets(one_line(exc), url)}"
        )
    return found
