"""The test suite's own PostgreSQL (tests/support/postgres.py): a real server, a fresh empty
database per test, and nothing left behind."""

from __future__ import annotations

import psycopg
import pytest

from tests.support import postgres
from tests.support.postgres import PgCluster


def test_pg_url_is_a_working_empty_database(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
        assert tables == (0,)
        conn.execute("CREATE TABLE t (id TEXT PRIMARY KEY)")
        conn.execute("INSERT INTO t VALUES ('a')")
        assert conn.execute("SELECT id FROM t").fetchall() == [("a",)]
        assert conn.execute("SHOW server_encoding").fetchone() == ("UTF8",)
        assert conn.execute("SHOW fsync").fetchone() == ("off",)


def test_the_server_listens_on_loopback_only(pg_cluster: PgCluster, pg_url: str) -> None:
    assert pg_url.startswith(f"postgresql://postgres@127.0.0.1:{pg_cluster.port}/")
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
        assert int(conn.execute("SHOW max_connections").fetchone()[0]) >= 200  # type: ignore[index]


def test_two_pg_urls_are_independent_databases(pg_cluster: PgCluster, pg_url: str) -> None:
    other = pg_cluster.create_database()
    try:
        assert other != pg_url
        with psycopg.connect(pg_url, autocommit=True) as first:
            first.execute("CREATE TABLE only_here (x INT)")
        with psycopg.connect(other, autocommit=True) as second:
            found = second.execute("SELECT to_regclass('public.only_here')").fetchone()
            assert found == (None,)
    finally:
        pg_cluster.drop_database(other.rsplit("/", 1)[1])


def test_a_dropped_database_is_gone_even_with_a_connection_left_open(
    pg_cluster: PgCluster,
) -> None:
    url = pg_cluster.create_database()
    name = url.rsplit("/", 1)[1]
    left_open = psycopg.connect(url, autocommit=True)
    try:
        assert name in pg_cluster.databases()
        pg_cluster.drop_database(name)
        assert name not in pg_cluster.databases()
        with pytest.raises(psycopg.OperationalError):
            left_open.execute("SELECT 1")
    finally:
        left_open.close()


def test_test_databases_do_not_collate_bytewise_by_default(pg_url: str) -> None:
    """A column without COLLATE "C" sorts unlike SQLite here, as on a cluster made with
    en_US.UTF-8; with COLLATE "C" it sorts byte-wise, as SQLite does."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute('CREATE TABLE k (plain TEXT, bytewise TEXT COLLATE "C")')
        for word in ("b", "B", "a", "A"):
            conn.execute("INSERT INTO k VALUES (%s, %s)", (word, word))
        bytewise = [r[0] for r in conn.execute("SELECT bytewise FROM k ORDER BY bytewise")]
        plain = [r[0] for r in conn.execute("SELECT plain FROM k ORDER BY plain")]
    assert bytewise == ["A", "B", "a", "b"]
    assert plain != bytewise


def test_missing_binaries_without_root_fail_in_one_line_saying_how_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(postgres, "find_binaries", lambda: None)
    monkeypatch.setattr(postgres, "_as_root", lambda: False)
    with pytest.raises(postgres.PgUnavailable) as raised:
        postgres.ensure_binaries()
    message = str(raised.value)
    assert "\n" not in message
    assert "apt-get install postgresql" in message


def test_the_installed_server_is_found_with_initdb_and_pg_ctl() -> None:
    found = postgres.find_binaries()
    assert found is not None
    assert (found / "initdb").exists() and (found / "pg_ctl").exists()
