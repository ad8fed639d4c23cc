"""The PostgreSQL facets (limits, jobs) beyond their contracts, on a real PostgreSQL server.

The contracts of limits, people and jobs run in tests/server/test_storage_pg.py (the whole
:class:`StorageContract` on :class:`~server.storage.pg.PostgresStorage`). Here: races
between two limit stores on two pools, as two hub processes on two machines hold them
(every token, lease, ticket, failure and pace sample must come out exact, not merely
"about right"), and the nightly backup job on PostgreSQL, which says how that database is
backed up instead of failing.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from server.jobs import Job, JobRunner
from server.jobs.backup import BACKUP_ELSEWHERE, BackupElsewhere, make_backup
from server.jobs.schedule import hub_timezone, parse_schedule
from server.jobs.tasks import nightly_backup
from server.storage.pg import PostgresStorage
from server.storage.pg_db import PgDatabase
from server.storage.pg_limits import PgLimitStore
from server.storage.pg_migrations import apply_migrations
from tests.support.hub_cli import hub_runner

#: wall-clock seconds, as the hub passes them (not limits_testing's: importing that module
#: here would keep test_storage_pg.py from registering it for assertion rewriting)
NOW = 1_800_000_000.0
#: threads per store in the races (two stores: twice as many contenders)
THREADS = 4


@pytest.fixture
def pg_db(pg_url: str) -> Iterator[PgDatabase]:
    db = PgDatabase(pg_url, max_size=THREADS + 1)
    apply_migrations(db)
    yield db
    db.close()


@pytest.fixture
def pg_storage(pg_url: str) -> Iterator[PostgresStorage]:
    storage = PostgresStorage(pg_url, max_size=2)
    storage.migrate()
    yield storage
    storage.close()


# -- two processes racing -----------------------------------------------------------------


@pytest.fixture
def two_stores(pg_db: PgDatabase, pg_url: str) -> Iterator[tuple[PgLimitStore, PgLimitStore]]:
    """Two stores on two pools of their own: two hub processes (on two machines)."""
    first = PgLimitStore.open(pg_url, max_size=THREADS)
    second = PgLimitStore.open(pg_url, max_size=THREADS)
    yield first, second
    first.close()
    second.close()


def _race(
    stores: tuple[PgLimitStore, PgLimitStore], work: Callable[[PgLimitStore, int], Any]
) -> list[Any]:
    """Run `work(store, n)` in :data:`THREADS` threads per store, all let go at once.

    :returns: every thread's result (a failure in a thread fails the test)."""
    contenders = [(store, n) for n in range(THREADS) for store in stores]
    start = threading.Barrier(len(contenders))
    results: list[Any] = [None] * len(contenders)
    errors: list[BaseException] = []

    def run(i: int, store: PgLimitStore, n: int) -> None:
        start.wait()
        try:
            results[i] = work(store, i)
        except BaseException as exc:  # reported below, on the test's thread
            errors.append(exc)

    threads = [
        threading.Thread(target=run, args=(i, store, n)) for i, (store, n) in enumerate(contenders)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    if errors:
        raise errors[0]
    return results


def test_two_processes_never_both_take_the_last_tokens(two_stores):
    granted = _race(
        two_stores,
        lambda store, _: sum(store.take_token("dev", 0.0001, 50, NOW) == 0.0 for _ in range(20)),
    )
    assert sum(granted) == 50  # 160 tries at a burst of 50, no refill in between
    for store in two_stores:
        assert store.take_token("dev", 0.0001, 50, NOW) > 0


def _take_lease(store: PgLimitStore, i: int, *, name: str, prefix: str, now: float) -> bool:
    return store.take_lease(name, f"{prefix}{i}", now, 30.0)


def test_of_two_processes_racing_for_a_lease_exactly_one_holds_it(two_stores):
    later = NOW + 30  # when the first holder's time has run out
    for round_ in range(10):
        name = f"lease-{round_}"
        won = _race(two_stores, functools.partial(_take_lease, name=name, prefix="o", now=NOW))
        assert won.count(True) == 1
        holder = two_stores[0].lease_holder(name, NOW)
        assert holder == (f"o{won.index(True)}", NOW + 30)
        # once it lapsed, again exactly one of the others takes it over
        again = _race(two_stores, functools.partial(_take_lease, name=name, prefix="p", now=later))
        assert again.count(True) == 1
        assert two_stores[1].lease_holder(name, later) == (f"p{again.index(True)}", later + 30)


def test_queue_tickets_of_two_processes_are_unique_and_each_sees_all_before_it(two_stores):
    places = [
        place
        for batch in _race(
            two_stores, lambda store, _: [store.enqueue(2, NOW, NOW + 60) for _ in range(10)]
        )
        for place in batch
    ]
    tickets = [place.ticket for place in places]
    assert len(set(tickets)) == len(places) == 2 * THREADS * 10
    # Tickets commit in their order: each push sees exactly the pushes of smaller tickets
    # ahead of it, none missing (an earlier ticket committed later would be missing).
    in_order = sorted(places, key=lambda place: place.ticket)
    assert [place.ahead_pushes for place in in_order] == list(range(len(places)))
    assert [place.ahead_changes for place in in_order] == list(range(0, 2 * len(places), 2))


def test_failures_counted_by_two_processes_at_once_are_each_counted_once(two_stores):
    counts = _race(
        two_stores,
        lambda store, _: [store.add_failure("ip:10.0.0.1", NOW, 900) for _ in range(5)],
    )
    assert sorted(c for batch in counts for c in batch) == list(range(1, 2 * THREADS * 5 + 1))


def test_pace_samples_left_by_two_processes_at_once_are_all_kept(two_stores):
    first, _ = two_stores
    first.leave(first.enqueue(1, NOW, NOW + 60).ticket, 1.0)  # the pace starts at 1.0

    def leave_with_sample(store: PgLimitStore, _: int) -> None:
        for _ in range(5):
            store.leave(store.enqueue(1, NOW, NOW + 60).ticket, 0.0, weight=0.5)

    _race(two_stores, leave_with_sample)
    # 40 samples of 0 at weight 0.5 halve it 40 times, whatever their order
    assert first.queue_ahead(10**9, NOW).pace == pytest.approx(0.5**40)


# -- the nightly backup on PostgreSQL ---------------------------------------------------------


def test_the_nightly_backup_on_postgresql_records_how_to_back_up_instead_of_failing(
    pg_storage: PostgresStorage, tmp_path: Path
):
    wib = hub_timezone(7)
    job = Job(
        "backup",
        "Cadangan malam",
        "JOB_BACKUP_AT",
        nightly_backup,
        parse_schedule("X", "0 2 * * *", wib),
    )
    config = {"BACKUP_KEEP": 3, "BACKUP_DIR": str(tmp_path / "backups")}
    runner = JobRunner(
        pg_storage, [job], config, tmp_path, wib, owner="p1", catch_up_s=0, wall=lambda: NOW
    )
    assert runner.heartbeat()
    run = runner.run(job, datetime(2026, 12, 7, 2, 0, tzinfo=wib))
    assert run is not None
    assert (run.outcome, run.message) == ("ok", BACKUP_ELSEWHERE)
    assert "pg_dump" in run.message and "docs/operations.md" in run.message
    assert not (tmp_path / "backups").exists()  # nothing pretended to be a backup
    [entry] = list(pg_storage.iter_audit())
    assert (entry.action, json.loads(entry.detail)["outcome"]) == ("job_run", "ok")


def test_a_backup_by_hand_on_postgresql_is_refused_with_that_sentence(
    pg_storage: PostgresStorage, tmp_path: Path
):
    with pytest.raises(BackupElsewhere, match="pg_dump"):
        make_backup(pg_storage, tmp_path / "hub-x.sqlite3", tmp_path / "attachments")
    assert list(tmp_path.iterdir()) == []


def test_pendamping_hub_backup_on_postgresql_says_pg_dump_and_writes_nothing(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setenv("PENDAMPING_HUB_STORAGE_URL", pg_url)
    run = hub_runner(tmp_path / "hub", capsys)
    result = run("backup", "--out", str(tmp_path / "out"))
    assert result.code == 1, result
    assert "pg_dump" in result.err and "Traceback" not in result.err + result.out
    assert not (tmp_path / "out").exists() and not (tmp_path / "hub" / "backups").exists()
