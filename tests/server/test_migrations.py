"""Numbered migrations, of the hub and of the laptop store: each lands whole or not at all.

The failure tests hand `schemas.migrations.apply_migrations` a throwaway package of SQL files
made under tmp_path, so a migration can break halfway on purpose.
"""

from __future__ import annotations

import itertools
import sqlite3
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from client_sync.migrations import apply_migrations as apply_client_migrations
from client_sync.store import FieldStore, Identity
from schemas.migrations import apply_migrations, available_migrations
from server.storage.sqlite import SQLiteStorage
from tests.conftest import beneficiary

HUB_PACKAGE = "server.storage.migrations"
CLIENT_PACKAGE = "client_sync.migrations"

_package_numbers = itertools.count(1)

MakePackage = Callable[[dict[str, str]], str]


@pytest.fixture
def migration_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MakePackage]:
    """Makes an importable package holding the given `{file name: sql}` migrations."""
    root = tmp_path / "packages"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    made: list[str] = []

    def make(files: dict[str, str]) -> str:
        name = f"throwaway_migrations_{next(_package_numbers)}"
        folder = root / name
        folder.mkdir()
        (folder / "__init__.py").write_text("")
        for file_name, sql in files.items():
            (folder / file_name).write_text(sql, encoding="utf-8")
        made.append(name)
        return name

    yield make
    for name in made:
        sys.modules.pop(name, None)


@pytest.fixture
def connect(tmp_path: Path) -> Iterator[Callable[[Path], sqlite3.Connection]]:
    """Opens autocommit connections, as the migration runner requires, and closes them."""
    opened: list[sqlite3.Connection] = []

    def open_(path: Path) -> sqlite3.Connection:
        conn = sqlite3.connect(path, isolation_level=None)
        opened.append(conn)
        return conn

    yield open_
    for conn in opened:
        conn.close()


def recorded(conn: sqlite3.Connection) -> list[tuple[int, str]]:
    return conn.execute("SELECT number, name FROM schema_migrations ORDER BY number").fetchall()


def table_names(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def head(package: str) -> list[tuple[int, str]]:
    return [(number, name) for number, name, _sql in available_migrations(package)]


PEOPLE = """
CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO people (id, name) VALUES (1, 'Sri');
"""

HALF_WAYS = {
    "a syntax error": """
        CREATE TABLE pets (id INTEGER PRIMARY KEY, owner INTEGER);
        UPDATE people SET name = 'Diubah';
        INSERT INTO people (id, name) VALUES (2, 'Budi');
        CREATE TABLE broken (;
    """,
    "a constraint violation": """
        CREATE TABLE pets (id INTEGER PRIMARY KEY, owner INTEGER);
        ALTER TABLE people ADD COLUMN phone TEXT;
        INSERT INTO people (id, name) VALUES (2, 'Budi');
        INSERT INTO people (id, name) VALUES (1, 'Kembar');
    """,
    "a missing table": """
        CREATE TABLE pets (id INTEGER PRIMARY KEY, owner INTEGER);
        DELETE FROM people;
        CREATE INDEX pets_owner ON pets (owner);
        SELECT * FROM no_such_table;
    """,
}


# -- the hub --------------------------------------------------------------------------------


def test_migrating_an_empty_hub_database_records_every_migration(tmp_path: Path, connect):
    storage = SQLiteStorage(tmp_path / "hub.sqlite3")
    applied = storage.migrate()
    storage.close()
    assert applied == [name for _number, name in head(HUB_PACKAGE)]
    assert recorded(connect(tmp_path / "hub.sqlite3")) == head(HUB_PACKAGE)


def test_migrating_the_hub_twice_applies_nothing_the_second_time(tmp_path: Path, connect):
    storage = SQLiteStorage(tmp_path / "hub.sqlite3")
    storage.migrate()
    conn = connect(tmp_path / "hub.sqlite3")
    before = list(conn.iterdump())
    assert storage.migrate() == []
    storage.close()
    assert list(conn.iterdump()) == before


def test_the_hub_has_at_least_one_migration_numbered_from_one():
    numbers = [number for number, _name in head(HUB_PACKAGE)]
    assert numbers[:1] == [1]
    assert numbers == list(range(1, len(numbers) + 1))


@pytest.mark.parametrize("failure", list(HALF_WAYS), ids=lambda f: f"{f} halfway")
def test_a_migration_that_fails_halfway_leaves_the_database_as_it_was(
    tmp_path: Path, migration_package: MakePackage, connect, failure: str
):
    conn = connect(tmp_path / "db.sqlite3")
    assert apply_migrations(conn, migration_package({"0001_people.sql": PEOPLE})) == ["0001_people"]
    before = list(conn.iterdump())
    broken = migration_package({"0001_people.sql": PEOPLE, "0002_pets.sql": HALF_WAYS[failure]})

    with pytest.raises(sqlite3.Error):
        apply_migrations(conn, broken)

    assert not conn.in_transaction
    assert list(conn.iterdump()) == before
    assert "pets" not in table_names(conn)
    assert recorded(conn) == [(1, "0001_people")]


def test_a_first_migration_that_fails_leaves_no_table_and_no_record(
    tmp_path: Path, migration_package: MakePackage, connect
):
    conn = connect(tmp_path / "db.sqlite3")
    broken = migration_package({"0001_people.sql": PEOPLE + "CREATE TABLE broken (;"})
    with pytest.raises(sqlite3.Error):
        apply_migrations(conn, broken)
    assert table_names(conn) == {"schema_migrations"}
    assert recorded(conn) == []


def test_a_repaired_migration_applies_after_a_failed_attempt(
    tmp_path: Path, migration_package: MakePackage, connect
):
    conn = connect(tmp_path / "db.sqlite3")
    with pytest.raises(sqlite3.Error):
        apply_migrations(conn, migration_package({"0001_people.sql": PEOPLE + "BROKEN;"}))
    assert apply_migrations(conn, migration_package({"0001_people.sql": PEOPLE})) == ["0001_people"]
    assert conn.execute("SELECT name FROM people").fetchall() == [("Sri",)]


def test_migrations_apply_in_number_order_whatever_the_file_order(
    tmp_path: Path, migration_package: MakePackage, connect
):
    conn = connect(tmp_path / "db.sqlite3")
    package = migration_package(
        {
            "0010_later.sql": "INSERT INTO people (id, name) VALUES (2, 'Budi');",
            "0002_people.sql": PEOPLE,
            "README.txt": "not a migration",
        }
    )
    assert apply_migrations(conn, package) == ["0002_people", "0010_later"]
    assert recorded(conn) == [(2, "0002_people"), (10, "0010_later")]


# -- the laptop store -----------------------------------------------------------------------


def test_migrating_an_empty_laptop_store_records_every_migration(tmp_path: Path, connect):
    conn = connect(tmp_path / "laptop.sqlite3")
    applied = apply_client_migrations(conn)
    assert applied == [name for _number, name in head(CLIENT_PACKAGE)]
    assert recorded(conn) == head(CLIENT_PACKAGE)


def test_migrating_the_laptop_store_twice_applies_nothing_the_second_time(tmp_path: Path, connect):
    FieldStore(tmp_path / "laptop.sqlite3").close()
    conn = connect(tmp_path / "laptop.sqlite3")
    before = list(conn.iterdump())
    assert apply_client_migrations(conn) == []
    assert list(conn.iterdump()) == before


def test_a_failed_upgrade_of_a_laptop_store_keeps_its_outbox_and_schema(
    tmp_path: Path, migration_package: MakePackage, connect
):
    path = tmp_path / "laptop.sqlite3"
    with FieldStore(path) as store:
        store.set_identity(
            Identity("dev-1", "token", "http://hub.test", "ani", "pendamping", ("31.71.01",))
        )
        store.add("beneficiary", beneficiary())
    conn = connect(path)
    before = list(conn.iterdump())
    current = available_migrations(CLIENT_PACKAGE)
    files = {f"{name}.sql": sql for _number, name, sql in current}
    next_number = current[-1][0] + 1
    files[f"{next_number:04d}_voice_notes.sql"] = """
        ALTER TABLE outbox ADD COLUMN priority INTEGER;
        DELETE FROM outbox;
        CREATE TABLE voice_notes (sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL);
        SELECT * FROM no_such_table;
    """

    with pytest.raises(sqlite3.Error):
        apply_migrations(conn, migration_package(files))

    assert list(conn.iterdump()) == before
    assert "voice_notes" not in table_names(conn)
    assert recorded(conn) == head(CLIENT_PACKAGE)
    with FieldStore(path) as reopened:
        assert reopened.pending_count() == 1
