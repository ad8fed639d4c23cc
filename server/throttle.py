"""Back-pressure: 429 for a laptop that calls too often, a queue for pushes, 503 when the
queue would take longer than a push may wait.

Every refusal carries how long to wait (:class:`~server.exceptions.TryLater`), which the
HTTP layer sends as `Retry-After` and the laptop honours, so a hub under load slows its
laptops down instead of piling requests on its one SQLite writer. The hub may run as
several processes, so the state is hub-wide, in storage (:class:`~server.storage.LimitStore`),
never in one process's memory; times are wall-clock seconds from an injected clock, since
monotonic clocks differ between processes.

The write queue (:class:`WriteGate`) keeps the one writer busy rather than idle: a push
takes a ticket, waits its turn for at most `wait_max_s`, and is refused at once only when
the measured pace says the pushes ahead of it would take longer than that; the 503 then
says how long they will take.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from server.exceptions import Busy, TooManyRequests
from server.storage import HubStorage, LimitStore, QueuePlace, WriterBusy

__all__ = [
    "BUSY_MESSAGE",
    "DEFAULT_PACE_S",
    "ENROLL_LIMIT_MESSAGE",
    "FailureLimiter",
    "RateLimiter",
    "WriteGate",
]

#: The 429 of too many failed enrolments from one address.
ENROLL_LIMIT_MESSAGE = (
    "Terlalu banyak percobaan pendaftaran yang gagal dari alamat ini; coba lagi dalam "
    "{minutes} menit, atau minta kode baru ke kantor dinas."
)
#: The 503 of a write queue longer than a push may wait.
BUSY_MESSAGE = (
    "Hub sedang sibuk menyimpan kiriman lain; data Anda aman, coba lagi dalam {seconds} detik."
)
#: Seconds per change assumed until the hub has measured a push: one laptop's push over
#: loopback on a 2-core machine ran at 1,600-2,500 changes a second (issue 11).
DEFAULT_PACE_S = 0.0005
#: How far the measured pace moves towards each push's own (an EWMA's weight).
PACE_WEIGHT = 0.3
#: A ticket lapses this long after its wait would have ended: a push writes for far less,
#: so only a crashed worker's tickets are ever dropped this way.
TICKET_GRACE_S = 120.0


class RateLimiter:
    """A token bucket per device, hub-wide: `burst` calls at once, then `rate` a second.

    :param clock: wall-clock seconds, injected for tests.
    """

    def __init__(
        self,
        store: LimitStore,
        rate: float,
        burst: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.rate = rate
        self.burst = burst
        self._clock = clock

    def take(self, device_id: str) -> None:
        """Spend one call of `device_id`. :raises TooManyRequests: with the wait."""
        if self.rate <= 0:
            return
        wait_s = self.store.take_token(f"rate:{device_id}", self.rate, self.burst, self._clock())
        if wait_s > 0:
            wait = max(1, math.ceil(min(wait_s, 86_400.0)))
            raise TooManyRequests(
                f"Perangkat ini memanggil hub terlalu sering; coba lagi dalam {wait} detik.",
                retry_after_s=wait,
            )


class FailureLimiter:
    """At most `limit` failures per key (a client's IP) in a sliding `window_s`, hub-wide;
    beyond that, :meth:`check` answers 429 until enough failures leave the window.

    For enrolment: codes are 60 random bits, one-time and expiring, so guessing is hopeless
    already; this bounds how fast anyone may try, and makes a script that tries visible.
    A success does not clear the count. :param clock: wall-clock seconds, for tests.
    """

    def __init__(
        self,
        store: LimitStore,
        limit: int,
        window_s: float,
        message: str,
        clock: Callable[[], float] = time.time,
        prefix: str = "enrol",
    ) -> None:
        self.store = store
        self.limit = limit
        self.window_s = window_s
        self.message = message
        self._clock = clock
        self._prefix = prefix

    def check(self, key: str) -> None:
        """:raises TooManyRequests: with the wait, when `key` used up its failures."""
        if self.limit <= 0:
            return
        now = self._clock()
        times = self.store.failures(f"{self._prefix}:{key}", now, self.window_s)
        if len(times) < self.limit:
            return
        # below the limit again once all but limit - 1 of them have left the window
        wait = max(1, math.ceil(times[len(times) - self.limit] + self.window_s - now))
        minutes = max(1, math.ceil(wait / 60))
        raise TooManyRequests(self.message.format(minutes=minutes), retry_after_s=wait)

    def failed(self, key: str) -> None:
        """Count one failure of `key`."""
        if self.limit > 0:
            self.store.add_failure(f"{self._prefix}:{key}", self._clock(), self.window_s)


class _FifoLock:
    """A lock handed to its waiters in arrival order, with a timeout: the pushes of one
    process wait here, so only one of them at a time polls the storage's write lock."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiters: deque[threading.Event] = deque()

    def acquire(self, timeout: float) -> bool:
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            turn = threading.Event()
            self._waiters.append(turn)
        if turn.wait(max(0.0, timeout)):
            return True
        with self._mutex:
            if turn.is_set():  # handed over just as the wait ran out
                return True
            self._waiters.remove(turn)
            return False

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().set()  # still held: now by the next in line
            else:
                self._held = False


class WriteGate:
    """The hub-wide write queue: a push waits its turn for at most `wait_max_s` seconds.

    :param storage: whose writer the pushes queue for, and whose :attr:`limits` keep the
        queue and its measured pace.
    :param wait_max_s: the longest a push waits; a queue estimated longer is refused at
        once with 503 and `Retry-After` its estimated length (0: a push that finds another
        ahead is refused).
    :param retry_after_s: what a write the disk refused asks laptops to wait (see
        server/error_map.py).
    :param clock: wall-clock seconds, for the tickets' lapse times.
    """

    def __init__(
        self,
        storage: HubStorage,
        wait_max_s: float,
        retry_after_s: int = 5,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.storage = storage
        self.limits = storage.limits
        self.wait_max_s = wait_max_s
        self.retry_after_s = retry_after_s
        self._clock = clock
        self._local = _FifoLock()

    def estimate(self, place: QueuePlace) -> float:
        """Seconds the queue ahead of `place` should take, at the measured pace."""
        pace = place.pace if place.pace is not None else DEFAULT_PACE_S
        return place.ahead_changes * pace

    def _busy(self, ticket: int) -> Busy:
        wait = self.estimate(self.limits.queue_ahead(ticket, self._clock()))
        return _busy(wait)

    @contextmanager
    def turn(self, cost: int) -> Iterator[None]:
        """Wait for the writer, as one push of `cost` changes; write inside the block.

        :raises Busy: the queue ahead is estimated longer than `wait_max_s`, or the writer
            was not free within it (nothing was written either way).
        """
        cost = max(1, cost)
        now = self._clock()
        place = self.limits.enqueue(cost, now, now + self.wait_max_s + TICKET_GRACE_S)
        ahead = self.estimate(place)
        if ahead > self.wait_max_s:
            self.limits.leave(place.ticket)
            raise _busy(ahead)
        deadline = time.monotonic() + self.wait_max_s
        sample: float | None = None
        try:
            if not self._local.acquire(deadline - time.monotonic()):
                raise self._busy(place.ticket)
            try:
                with self.storage.waiting_for_writer(deadline - time.monotonic()) as wait:
                    yield
                if wait.acquired_at is not None:  # measured: the push held the writer
                    sample = (time.monotonic() - wait.acquired_at) / cost
            except WriterBusy:
                raise self._busy(place.ticket) from None
            finally:
                self._local.release()
        finally:
            self.limits.leave(place.ticket, sample, PACE_WEIGHT)


def _busy(wait_s: float) -> Busy:
    seconds = max(1, math.ceil(wait_s))
    return Busy(BUSY_MESSAGE.format(seconds=seconds), retry_after_s=seconds)
