"""Failed logins: after `max_failures` within `lock_s` for one user name or one client IP,
that name or IP is locked for `lock_s` seconds, the right password included.

In memory, per hub process, like server/throttle.py: a restart forgets it. Names the hub
does not know are counted and locked exactly like real ones, so a lock tells nothing.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["LoginLockout"]

_MAX_KEYS = 10_000


class LoginLockout:
    """:param clock: monotonic seconds, injected for tests."""

    def __init__(
        self, max_failures: int, lock_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_failures = max_failures
        self.lock_s = lock_s
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._locked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def locked_for(self, *keys: str) -> float:
        """Seconds until the last of `keys` is unlocked; 0 when none is locked."""
        if self.max_failures <= 0:
            return 0.0
        now = self._clock()
        with self._lock:
            return max([0.0, *(self._locked_until.get(k, now) - now for k in keys)])

    def failed(self, *keys: str) -> None:
        """Count one failed login against each of `keys`; lock those that reach the limit."""
        if self.max_failures <= 0:
            return
        now = self._clock()
        with self._lock:
            for key in keys:
                times = self._failures.setdefault(key, deque())
                while times and now - times[0] >= self.lock_s:
                    times.popleft()
                times.append(now)
                if len(times) >= self.max_failures:
                    self._locked_until[key] = now + self.lock_s
                    del self._failures[key]
            if len(self._failures) + len(self._locked_until) > _MAX_KEYS:
                self._forget(now)

    def succeeded(self, key: str) -> None:
        """Forget the failures of `key` (a user name after its right password)."""
        with self._lock:
            self._failures.pop(key, None)

    def _forget(self, now: float) -> None:
        self._locked_until = {k: t for k, t in self._locked_until.items() if t > now}
        self._failures = {
            k: t for k, t in self._failures.items() if t and now - t[-1] < self.lock_s
        }
