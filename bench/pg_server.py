"""A PostgreSQL server for the benchmarks: the tests' throw-away cluster, made durable.

The tests' cluster (tests/support/postgres.py) runs with fsync, synchronous_commit and
full_page_writes off, because test data is worth nothing. A benchmark that compares the hub
on PostgreSQL with the hub on SQLite (which commits with ``synchronous = FULL``) must pay
the same price for a receipt, so here they are turned back on, and the buffers are sized as
a small data-centre server would have them, before any figure is taken.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from bench.common import hub_counts
from tests.support.postgres import PgCluster, start_cluster

__all__ = ["counts", "durable_cluster", "server_pid"]

#: Settings a benchmark runs with (ALTER SYSTEM, then a restart).
DURABLE: dict[str, str] = {
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
    "shared_buffers": "256MB",
    "max_connections": "300",
}


@contextmanager
def durable_cluster() -> Iterator[PgCluster]:
    """A throw-away cluster with durable commits, stopped and removed after."""
    cluster = start_cluster()
    try:
        with cluster.connect() as conn:
            for name, value in DURABLE.items():
                conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        cluster.pg_ctl("restart", "-w", "-t", "60", "-m", "fast", "-l", str(cluster.log))
        with cluster.connect() as conn:
            got = {n: conn.execute(f"SHOW {n}").fetchone()[0] for n in DURABLE}  # type: ignore[index]
        if got["fsync"] != "on" or got["synchronous_commit"] != "on":
            raise RuntimeError(f"the benchmark's cluster is not durable: {got}")
        yield cluster
    finally:
        cluster.stop()


def server_pid(cluster: PgCluster) -> int:
    """The postmaster's process id (the first line of postmaster.pid)."""
    return int((cluster.datadir / "postmaster.pid").read_text().split()[0])


def counts(url: str) -> tuple[dict[str, list[str]], dict[tuple[str, str], int]]:
    """Each device's change ids in the change log, and records per (kelurahan, entity)."""
    with psycopg.connect(url, autocommit=True) as conn:
        return hub_counts(conn)
