"""The contract of :class:`~server.storage.limits.LimitStore`, run by every backend.

:class:`server.storage.testing.StorageContract` inherits it, so a backend's one test class
runs it through ``storage.limits``. The backend also supplies ``limits_opener``: a
picklable callable that opens another handle on the same state (for SQLite, the same file),
with which the suite checks that the state is shared between connections and between
processes, as the hub's workers share it.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from server.storage.base import HubStorage, WriterBusy
from server.storage.limits import LimitStore

__all__ = ["LimitStoreContract"]

NOW = 1_800_000_000.0  # wall-clock seconds, as the hub passes them


def take_tokens(opener: Callable[[], LimitStore], key: str, tries: int) -> int:
    """In a child process: try `tries` tokens of `key`. :returns: how many were granted."""
    store = opener()
    try:
        return sum(store.take_token(key, 0.0001, 60, NOW) == 0.0 for _ in range(tries))
    finally:
        store.close()


def take_tickets(opener: Callable[[], LimitStore], count: int) -> list[int]:
    """In a child process: queue `count` pushes. :returns: their tickets."""
    store = opener()
    try:
        return [store.enqueue(1, NOW, NOW + 60).ticket for _ in range(count)]
    finally:
        store.close()


def take_lease_in_child(opener: Callable[[], LimitStore], owner: str) -> bool:
    """In a child process: try to take the lease "jobs" for `owner`."""
    store = opener()
    try:
        return store.take_lease("jobs", owner, NOW, 30.0)
    finally:
        store.close()


def _in_processes(target: Callable[..., Any], *args: Any, processes: int = 2) -> list[Any]:
    context = multiprocessing.get_context("spawn")  # no fork of a process holding connections
    with context.Pool(processes) as pool:
        return pool.starmap(target, [args] * processes)


class LimitStoreContract:
    """Needs the fixtures ``storage`` (a :class:`HubStorage`) and ``limits_opener``."""

    @pytest.fixture
    def limits(self, storage: HubStorage) -> LimitStore:
        return storage.limits

    @pytest.fixture
    def twin(self, limits_opener: Callable[[], LimitStore]):
        other = limits_opener()
        yield other
        other.close()

    # -- token buckets ------------------------------------------------------------------

    def test_a_bucket_gives_its_burst_then_says_how_long_until_the_next_token(self, limits):
        granted = [limits.take_token("dev-1", 2.0, 3, NOW) for _ in range(3)]
        assert granted == [0.0, 0.0, 0.0]
        assert limits.take_token("dev-1", 2.0, 3, NOW) == pytest.approx(0.5)
        assert limits.take_token("dev-2", 2.0, 3, NOW) == 0.0  # another key, its own bucket

    def test_a_bucket_refills_at_its_rate_up_to_its_burst(self, limits):
        for _ in range(3):
            limits.take_token("dev", 2.0, 3, NOW)
        assert limits.take_token("dev", 2.0, 3, NOW + 0.5) == 0.0  # one token back
        assert limits.take_token("dev", 2.0, 3, NOW + 0.5) > 0
        later = NOW + 3600
        assert [limits.take_token("dev", 2.0, 3, later) for _ in range(4)][-1] > 0

    def test_a_refused_call_spends_nothing(self, limits):
        limits.take_token("dev", 1.0, 1, NOW)
        for _ in range(5):
            assert limits.take_token("dev", 1.0, 1, NOW + 0.5) == pytest.approx(0.5)
        assert limits.take_token("dev", 1.0, 1, NOW + 1.0) == 0.0

    def test_a_bucket_drains_across_connections(self, limits, twin):
        assert limits.take_token("dev", 0.001, 2, NOW) == 0.0
        assert twin.take_token("dev", 0.001, 2, NOW) == 0.0
        assert limits.take_token("dev", 0.001, 2, NOW) > 0
        assert twin.take_token("dev", 0.001, 2, NOW) > 0

    def test_a_bucket_drains_exactly_across_processes(self, limits, limits_opener):
        granted = _in_processes(take_tokens, limits_opener, "shared", 50)
        assert sum(granted) == 60  # the burst, not 60 a process
        assert limits.take_token("shared", 0.0001, 60, NOW) > 0

    # -- failures and holds -------------------------------------------------------------

    def test_failures_are_counted_within_their_window(self, limits, twin):
        assert limits.add_failure("ip:1", NOW, 900) == 1
        assert twin.add_failure("ip:1", NOW + 100, 900) == 2
        assert limits.failures("ip:1", NOW + 100, 900) == [NOW, NOW + 100]
        assert twin.failures("ip:1", NOW + 950, 900) == [NOW + 100]
        assert limits.add_failure("ip:1", NOW + 1001, 900) == 1
        assert limits.failures("ip:2", NOW, 900) == []

    def test_cleared_failures_are_gone_for_every_connection(self, limits, twin):
        limits.add_failure("user:ani", NOW, 900)
        twin.clear_failures("user:ani")
        assert limits.failures("user:ani", NOW, 900) == []

    def test_a_hold_lasts_until_its_time_for_every_connection(self, limits, twin):
        assert limits.held_until(["a", "b"], NOW) == 0.0
        limits.hold("a", NOW + 60, NOW)
        twin.hold("b", NOW + 90, NOW)
        assert twin.held_until(["a"], NOW) == NOW + 60
        assert limits.held_until(["a", "b", "c"], NOW) == NOW + 90
        assert limits.held_until(["a", "b"], NOW + 90) == 0.0
        assert limits.held_until([], NOW) == 0.0

    # -- the write queue ----------------------------------------------------------------

    def test_the_queue_counts_the_changes_ahead_in_arrival_order(self, limits, twin):
        first = limits.enqueue(100, NOW, NOW + 60)
        second = twin.enqueue(30, NOW, NOW + 60)
        third = limits.enqueue(5, NOW, NOW + 60)
        assert (first.ahead_changes, first.ahead_pushes) == (0, 0)
        assert (second.ahead_changes, second.ahead_pushes) == (100, 1)
        assert (third.ahead_changes, third.ahead_pushes) == (130, 2)
        twin.leave(first.ticket)
        assert limits.queue_ahead(third.ticket, NOW).ahead_changes == 30
        limits.leave(first.ticket)  # twice: nothing more
        assert twin.queue_ahead(third.ticket, NOW).ahead_changes == 30

    def test_a_lapsed_ticket_no_longer_holds_anyone_back(self, limits):
        limits.enqueue(10_000, NOW, NOW + 5)  # a worker that crashed while queued
        assert limits.enqueue(1, NOW + 1, NOW + 60).ahead_changes == 10_000
        late = limits.enqueue(1, NOW + 6, NOW + 60)
        assert (late.ahead_changes, late.ahead_pushes) == (1, 1)

    def test_the_pace_is_an_average_moving_towards_each_sample(self, limits, twin):
        assert limits.enqueue(1, NOW, NOW + 60).pace is None
        place = limits.enqueue(1, NOW, NOW + 60)
        limits.leave(place.ticket, 0.002)
        assert twin.enqueue(1, NOW, NOW + 60).pace == pytest.approx(0.002)
        place = twin.enqueue(1, NOW, NOW + 60)
        twin.leave(place.ticket, 0.004, weight=0.5)
        assert limits.queue_ahead(place.ticket, NOW).pace == pytest.approx(0.003)

    def test_a_lapsed_ticket_leaves_no_sample(self, limits):
        place = limits.enqueue(1, NOW, NOW + 1)
        limits.enqueue(1, NOW + 2, NOW + 60)  # drops the lapsed one
        limits.leave(place.ticket, 5.0)
        assert limits.enqueue(1, NOW + 2, NOW + 60).pace is None

    def test_tickets_are_unique_and_ordered_across_processes(self, limits, limits_opener):
        tickets = [t for batch in _in_processes(take_tickets, limits_opener, 40) for t in batch]
        assert len(set(tickets)) == 80
        last = limits.enqueue(1, NOW, NOW + 60)
        assert last.ticket > max(tickets)
        assert (last.ahead_pushes, last.ahead_changes) == (80, 80)

    # -- waiting for the writer (HubStorage.waiting_for_writer) -------------------------

    def test_a_free_lease_is_taken_and_held_for_its_time(self, limits, twin):
        assert limits.lease_holder("jobs", NOW) is None
        assert limits.take_lease("jobs", "a", NOW, 30.0)
        assert twin.lease_holder("jobs", NOW + 29) == ("a", NOW + 30)
        assert not twin.take_lease("jobs", "b", NOW + 29, 30.0)
        assert limits.lease_holder("jobs", NOW + 30) is None  # lapsed at its end

    def test_a_holder_renews_its_lease_and_another_takes_it_only_once_lapsed(self, limits, twin):
        assert limits.take_lease("jobs", "a", NOW, 30.0)
        assert limits.take_lease("jobs", "a", NOW + 20, 30.0)  # renewed until NOW + 50
        assert not twin.take_lease("jobs", "b", NOW + 45, 30.0)
        assert twin.take_lease("jobs", "b", NOW + 50, 30.0)
        assert limits.lease_holder("jobs", NOW + 50) == ("b", NOW + 80)
        assert not limits.take_lease("jobs", "a", NOW + 51, 30.0)

    def test_a_released_lease_is_free_and_only_its_holder_can_release_it(self, limits, twin):
        assert limits.take_lease("jobs", "a", NOW, 30.0)
        twin.release_lease("jobs", "b")
        assert limits.lease_holder("jobs", NOW) == ("a", NOW + 30)
        limits.release_lease("jobs", "a")
        assert twin.take_lease("jobs", "b", NOW + 1, 30.0)

    def test_leases_of_different_names_are_independent(self, limits):
        assert limits.take_lease("jobs", "a", NOW, 30.0)
        assert limits.take_lease("other", "b", NOW, 30.0)

    def test_exactly_one_of_two_processes_gets_a_free_lease(self, limits, limits_opener):
        context = multiprocessing.get_context("spawn")
        with context.Pool(2) as pool:
            granted = pool.starmap(take_lease_in_child, [(limits_opener, o) for o in "ab"])
        assert sorted(granted) == [False, True]
        holder = limits.lease_holder("jobs", NOW)
        assert holder == ("ab"[granted.index(True)], NOW + 30)

    @staticmethod
    def _hold_writer(storage: HubStorage, seconds: float) -> tuple[threading.Thread, float]:
        """Hold the write lock from another thread for `seconds`; :returns: the thread and
        when (monotonic) it lets go."""
        holding = threading.Event()

        def hold() -> None:
            with storage.write() as session:
                session.set_meta("held", "1")
                holding.set()
                time.sleep(seconds)

        thread = threading.Thread(target=hold)
        thread.start()
        assert holding.wait(10)
        return thread, time.monotonic() + seconds

    def test_a_write_waits_for_the_writer_and_takes_it_when_free(self, storage):
        holder, freed_at = self._hold_writer(storage, 0.3)
        with storage.waiting_for_writer(5.0) as wait, storage.write() as session:
            session.set_meta("mine", "1")
        holder.join()
        assert wait.acquired_at is not None
        assert freed_at - 0.05 <= wait.acquired_at <= freed_at + 0.25  # polled, not slept
        with storage.write() as session:
            assert session.get_meta("mine") == "1"

    def test_a_write_that_would_wait_too_long_raises_writer_busy_and_writes_nothing(self, storage):
        holder, _ = self._hold_writer(storage, 1.0)
        start = time.monotonic()
        with (
            pytest.raises(WriterBusy),
            storage.waiting_for_writer(0.2) as wait,
            storage.write() as session,
        ):
            session.set_meta("mine", "1")
        waited = time.monotonic() - start
        holder.join()
        assert 0.2 <= waited < 0.9
        assert wait.acquired_at is None
        with storage.write() as session:
            assert session.get_meta("mine") is None

    def test_outside_the_block_a_write_waits_as_before(self, storage):
        with storage.waiting_for_writer(0.0):
            pass
        holder, _ = self._hold_writer(storage, 0.3)
        with storage.write() as session:  # the backend's own busy timeout
            session.set_meta("mine", "1")
        holder.join()
