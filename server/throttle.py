"""Back-pressure: 429 for a laptop that calls too often, 503 when the write queue is full.

Both refusals carry how long to wait (:class:`~server.exceptions.TryLater`), which the HTTP
layer sends as `Retry-After` and the laptop's urllib3 `Retry` honours, so a hub under
load slows its laptops down instead of piling requests on its one SQLite writer. The state
is in memory, per hub process: a restart forgets it, which costs nothing.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from server.exceptions import Busy, TooManyRequests

__all__ = ["ENROLL_LIMIT_MESSAGE", "FailureLimiter", "RateLimiter", "WriteGate"]

#: The 429 of too many failed enrolments from one address.
ENROLL_LIMIT_MESSAGE = (
    "Terlalu banyak percobaan pendaftaran yang gagal dari alamat ini; coba lagi dalam "
    "{minutes} menit, atau minta kode baru ke kantor dinas."
)


class RateLimiter:
    """A token bucket per device: `burst` calls at once, then `rate` calls a second.

    :param clock: monotonic seconds, injected for tests.
    """

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # device -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, device_id: str) -> None:
        """Spend one call of `device_id`. :raises TooManyRequests: with the wait."""
        if self.rate <= 0:
            return
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(device_id, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.rate)
            if tokens < 1.0:
                self._buckets[device_id] = (tokens, now)
                wait = max(1, math.ceil((1.0 - tokens) / self.rate))
                raise TooManyRequests(
                    f"Perangkat ini memanggil hub terlalu sering; coba lagi dalam {wait} detik.",
                    retry_after_s=wait,
                )
            self._buckets[device_id] = (tokens - 1.0, now)
            if len(self._buckets) > 10_000:  # forget idle laptops rather than grow forever
                self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < 3600}


class FailureLimiter:
    """At most `limit` failures per key (a client's IP) in a sliding `window_s`; beyond
    that, :meth:`check` answers 429 until the oldest failure leaves the window.

    For enrolment: codes are 60 random bits, one-time and expiring, so guessing is hopeless
    already; this bounds how fast anyone may try, and makes a script that tries visible.
    A success does not clear the count. :param clock: monotonic seconds, for tests.
    """

    def __init__(
        self,
        limit: int,
        window_s: float,
        message: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.message = message
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and now - times[0] >= self.window_s:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def check(self, key: str) -> None:
        """:raises TooManyRequests: with the wait, when `key` used up its failures."""
        if self.limit <= 0:
            return
        now = self._clock()
        with self._lock:
            times = self._recent(key, now)
            if len(times) < self.limit:
                return
            wait = max(1, math.ceil(times[0] + self.window_s - now))
        minutes = max(1, math.ceil(wait / 60))
        raise TooManyRequests(self.message.format(minutes=minutes), retry_after_s=wait)

    def failed(self, key: str) -> None:
        """Count one failure of `key`."""
        if self.limit <= 0:
            return
        now = self._clock()
        with self._lock:
            self._recent(key, now)
            self._failures.setdefault(key, deque()).append(now)
            if len(self._failures) > 10_000:  # forget quiet clients rather than grow forever
                for other in list(self._failures):
                    self._recent(other, now)


class WriteGate:
    """At most `limit` writes in progress (waiting for the writer or writing); one more is
    turned away with 503 at once, so the hub keeps threads free to answer pulls."""

    def __init__(self, limit: int, retry_after_s: int = 5) -> None:
        self.limit = limit
        self.retry_after_s = retry_after_s
        self._in_progress = 0
        self._lock = threading.Lock()

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one place in the write queue. :raises Busy: it is full."""
        with self._lock:
            if self.limit > 0 and self._in_progress >= self.limit:
                raise Busy(
                    "Hub sedang sibuk menyimpan kiriman lain; data Anda aman, coba lagi sebentar.",
                    retry_after_s=self.retry_after_s,
                )
            self._in_progress += 1
        try:
            yield
        finally:
            with self._lock:
                self._in_progress -= 1
