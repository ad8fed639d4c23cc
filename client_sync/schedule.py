"""When the next background sync round runs: the pure policy, with no scheduler and no clock.

:mod:`client_sync.daemon` asks these functions and does what they say; everything here is
plain values in, plain values out, so every rule is tested without waiting.

- A round that ended well is followed by the next one ``every_s`` later.
- A round waits on a busy hub inside the transport for at most ``DAEMON_WAIT_S`` (shorter
  than `pendamping sync`'s: nobody watches it, and the next round comes anyway); past that
  it ends as :attr:`Outcome.BUSY`.
- A round that failed (no link, a busy hub, a refusal, a local error) is retried after a
  backoff that grows with the number of failures in a row, with "equal jitter" (see
  :func:`backoff_s`), never longer than ``every_s``; a ``Retry-After`` from the hub is a
  floor.
- A revoked or unknown token (401), or a home that is not enrolled, stops the rounds: no
  retry can fix them, only the district office or `pendamping enroll`.
- A local write seen after a good round brings the next round forward to ``settle_s`` from
  now (a trailing debounce, so five visits typed in a row make one round, not five), but
  never later than the round already planned.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import Protocol

from client_sync.errors import HubBusy, HubUnreachable, NotEnrolled, SyncError, Unauthorized

__all__ = [
    "BASE_S",
    "DAEMON_WAIT_S",
    "DEFAULT_EVERY_S",
    "DEFAULT_SETTLE_S",
    "Outcome",
    "Rng",
    "SyncState",
    "after_round",
    "backoff_s",
    "classify",
    "delay_after",
    "retry_after_of",
    "seen_write",
    "settle_delay",
    "write_due",
]

DEFAULT_EVERY_S = 15 * 60.0
DEFAULT_SETTLE_S = 20.0
BASE_S = 30.0  #: the first backoff's cap: 30 s, doubling with each failure in a row
#: The longest stretch of busy answers a daemon round waits through (`pendamping daemon --wait`).
DAEMON_WAIT_S = 5 * 60.0
_MAX_DOUBLINGS = 60  # 2**60 * 30 s outgrows any every_s; keeps the float finite


class Rng(Protocol):
    """What the policy needs of `random.Random`: a float in [0, 1)."""

    def random(self) -> float: ...


class Outcome(enum.Enum):
    """How a round ended, as far as scheduling cares."""

    OK = "ok"
    OFFLINE = "offline"  # HubUnreachable: no link, a timeout, a broken hub (5xx)
    BUSY = "busy"  # HubBusy: the hub stayed busy past the round's wait
    REFUSED = "refused"  # another SyncError: a 4xx other than 401, a broken answer
    LOCAL = "local"  # the store is busy or broken, or an unexpected error (a bug)
    UNAUTHORIZED = "unauthorized"  # 401: the token is unknown or revoked
    NOT_ENROLLED = "not_enrolled"  # no `pendamping enroll` in this home
    CANCELLED = "cancelled"  # the daemon was told to stop during the round

    @property
    def stops(self) -> bool:
        """No later round can end differently: stop scheduling."""
        return self in _STOPPING


_STOPPING = frozenset({Outcome.UNAUTHORIZED, Outcome.NOT_ENROLLED, Outcome.CANCELLED})


def classify(exc: BaseException | None) -> Outcome:
    """The outcome of a round that raised `exc` (``None``: it finished)."""
    if exc is None:
        return Outcome.OK
    if isinstance(exc, Unauthorized):
        return Outcome.UNAUTHORIZED
    if isinstance(exc, HubBusy):
        return Outcome.BUSY
    if isinstance(exc, HubUnreachable):
        return Outcome.OFFLINE
    if isinstance(exc, SyncError):
        return Outcome.REFUSED
    if isinstance(exc, NotEnrolled):
        return Outcome.NOT_ENROLLED
    return Outcome.LOCAL


def retry_after_of(exc: BaseException | None) -> float | None:
    """Seconds the hub asked to wait (``Retry-After``), if the error carries them as a
    ``retry_after`` attribute; ``None`` otherwise."""
    value = getattr(exc, "retry_after", None)
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return None
    return max(float(value), 0.0)


def backoff_s(failures: int, every_s: float, rng: Rng, base_s: float = BASE_S) -> float:
    """The wait after the `failures`-th failed round in a row (``failures >= 1``).

    "Equal jitter": with the cap ``c = min(every_s, base_s * 2**(failures - 1))``, the wait
    is ``c/2 + U * c/2`` for ``U`` uniform in [0, 1). So it lies in ``[c/2, c)``: at least
    half the cap, so a laptop in a dead zone does not retry at once (full jitter can pick
    ~0 s), and spread over the other half, so the laptops of a district that all lost the
    hub together do not all come back in the same second. Its mean, ``3c/4``, grows with
    the failures until the cap reaches ``every_s``.
    """
    doublings = min(max(failures, 1) - 1, _MAX_DOUBLINGS)
    cap = max(min(every_s, base_s * 2.0**doublings), 0.0)
    return cap / 2 + rng.random() * cap / 2


def delay_after(
    outcome: Outcome,
    failures: int,
    every_s: float,
    rng: Rng,
    *,
    retry_after: float | None = None,
    base_s: float = BASE_S,
) -> float | None:
    """Seconds until the next round after one that ended with `outcome`; ``None``: no more.

    :param failures: failed rounds in a row, this one included (ignored after success).
    :param retry_after: the hub's ``Retry-After`` in seconds: never wait less than that.
    """
    if outcome.stops:
        return None
    delay = every_s if outcome is Outcome.OK else backoff_s(failures, every_s, rng, base_s)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return max(delay, 0.0)


@dataclass(frozen=True, slots=True)
class SyncState:
    """What the daemon remembers between rounds.

    :ivar last_ok: how the last round ended (``None``: no round yet).
    :ivar failures: failed rounds in a row.
    :ivar seen_marker: the outbox's highest position already accounted for: read at the
        start of the last round, or when a write last brought a round forward.
    """

    last_ok: bool | None = None
    failures: int = 0
    seen_marker: int = 0


def after_round(state: SyncState, outcome: Outcome, marker: int | None) -> SyncState:
    """The state after a round; `marker` is the outbox position read as the round began
    (``None`` when the store could not be read)."""
    seen = max(state.seen_marker, marker or 0)
    if outcome is Outcome.OK:
        return SyncState(last_ok=True, failures=0, seen_marker=seen)
    if outcome is Outcome.CANCELLED:
        return replace(state, seen_marker=seen)
    return SyncState(last_ok=False, failures=state.failures + 1, seen_marker=seen)


def write_due(state: SyncState, marker: int, pending: int) -> bool:
    """Should a local write bring the next round forward? Only after a good round (while
    offline, the backoff decides), and only for changes written since the last look that
    are still waiting to be sent."""
    return state.last_ok is True and pending > 0 and marker > state.seen_marker


def seen_write(state: SyncState, marker: int) -> SyncState:
    """The state once a write up to `marker` has brought the next round forward."""
    return replace(state, seen_marker=max(state.seen_marker, marker))


def settle_delay(until_regular_s: float, settle_s: float) -> float:
    """Seconds until the round a write brings forward: `settle_s`, or sooner if the round
    the last outcome planned (``until_regular_s`` away) comes first. Each new write starts
    the settle time again (trailing debounce), so a burst of edits makes one round once
    the pendamping pauses, and never a round later than the regular one."""
    return max(min(until_regular_s, settle_s), 0.0)
