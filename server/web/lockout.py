"""Failed logins: after `max_failures` within `lock_s` for one user name or one client IP,
that name or IP is locked for `lock_s` seconds, the right password included.

Hub-wide, in storage (:class:`~server.storage.LimitStore`), like server/throttle.py: a lock
set by one hub process holds in every other. Names the hub does not know are counted and
locked exactly like real ones, so a lock tells nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from server.storage import LimitStore

__all__ = ["LoginLockout", "user_key"]

_PREFIX = "login:"


def user_key(name: str) -> str:
    """The lockout key of the user name typed at login (case does not matter)."""
    return f"user:{name.casefold()}"


class LoginLockout:
    """:param clock: wall-clock seconds, injected for tests (processes share no other)."""

    def __init__(
        self,
        store: LimitStore,
        max_failures: int,
        lock_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.max_failures = max_failures
        self.lock_s = lock_s
        self._clock = clock

    def locked_for(self, *keys: str) -> float:
        """Seconds until the last of `keys` is unlocked; 0 when none is locked."""
        if self.max_failures <= 0:
            return 0.0
        now = self._clock()
        until = self.store.held_until([_PREFIX + k for k in keys], now)
        return max(0.0, until - now)

    def failed(self, *keys: str) -> None:
        """Count one failed login against each of `keys`; lock those that reach the limit."""
        if self.max_failures <= 0:
            return
        now = self._clock()
        for key in keys:
            if self.store.add_failure(_PREFIX + key, now, self.lock_s) >= self.max_failures:
                self.store.hold(_PREFIX + key, now + self.lock_s, now)
                self.store.clear_failures(_PREFIX + key)

    def succeeded(self, key: str) -> None:
        """Forget the failures of `key` (a user name after its right password)."""
        self.store.clear_failures(_PREFIX + key)
