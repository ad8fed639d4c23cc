"""`SyncDaemon`: sync rounds in the background, a thin shell over APScheduler 3.

One job, ``id="sync"``, on a `BackgroundScheduler` in this process only, with
``max_instances=1`` (a slow round is never overlapped by the next) and ``coalesce=True``
(a laptop waking from sleep runs one round, not one per missed slot). After each round the
job moves its own next run time as :mod:`client_sync.schedule` decides; its interval trigger
(``every_s``) is only the fallback.

The store is opened per round and closed after, so the `pendamping` command keeps working
while the daemon runs (SQLite WAL). Writes made by the command happen in other processes,
so the main thread looks at the outbox every ``watch_s`` seconds and, after a good round,
brings the next round forward to ``settle_s`` from now. It waits in short slices: a long
lock wait cannot be interrupted by Ctrl-C on Windows. Ctrl-C stops the running round at its
next batch or page (nothing is lost: the engine commits as it goes) and :meth:`run` returns.

Each round logs one line, in Bahasa Indonesia: when, what was sent and received or why it
failed, and when the next round is. Nothing here ever prints a stack trace.
"""

from __future__ import annotations

import contextlib
import random
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from client_sync.daemon_lines import clock_time, describe, duration, stamp
from client_sync.device import FieldDevice
from client_sync.engine import SyncResult
from client_sync.schedule import (
    BASE_S,
    DEFAULT_EVERY_S,
    DEFAULT_SETTLE_S,
    Outcome,
    Rng,
    SyncState,
    after_round,
    classify,
    delay_after,
    retry_after_of,
    seen_write,
    settle_delay,
    write_due,
)
from client_sync.store import FieldStore

__all__ = ["JOB_ID", "DeviceOpener", "RoundReport", "SyncDaemon", "outbox_marker"]

JOB_ID = "sync"
DeviceOpener = Callable[[], FieldDevice]


def outbox_marker(store: FieldStore) -> tuple[int, int]:
    """``(highest outbox position, pending changes)``: see :meth:`FieldStore.outbox_marker`."""
    return store.outbox_marker()


def _now() -> datetime:
    return datetime.now(UTC)


def _to_stderr(line: str) -> None:
    stream = sys.stderr
    if stream is None:  # pythonw: no console at all
        return
    try:
        stream.write(line + "\n")
        stream.flush()
    except (OSError, ValueError):
        pass


class _Cancelled(Exception):
    """Raised from the progress hook to end a round early when the daemon stops."""


@dataclass(frozen=True, slots=True)
class RoundReport:
    """One round as the daemon saw it.

    :ivar delay_s: the policy's wait before the next round (``None``: no more rounds).
    :ivar next_at: when the next round was planned; ``None`` when none was (a round run
        with no scheduler, as `pendamping daemon --once` does, or a stop).
    """

    outcome: Outcome
    started_at: datetime
    result: SyncResult | None
    pending: int | None
    message: str
    delay_s: float | None
    next_at: datetime | None


class SyncDaemon:
    """Runs sync rounds now and then, and soon after local writes.

    :param device_opener: opens the laptop's home, e.g. ``lambda: FieldDevice.open(home)``;
        called per round and per look at the outbox, and closed after each.
    :param every_s: seconds between rounds while all is well; the cap of the backoff.
    :param settle_s: seconds after a local write before the round it brings forward.
    :param base_s: the first backoff's cap (doubles per failure in a row).
    :param watch_s: seconds between looks at the outbox for local writes.
    :param tick_s: the main thread's wait slice (how fast Ctrl-C is noticed).
    :param clock: the wall clock, timezone-aware. APScheduler keeps real time, so this
        must too; it is injected for the log lines.
    :param rng: the jitter's random source.
    :param log: takes each finished line (default: stderr).
    """

    def __init__(
        self,
        device_opener: DeviceOpener,
        every_s: float = DEFAULT_EVERY_S,
        settle_s: float = DEFAULT_SETTLE_S,
        *,
        base_s: float = BASE_S,
        watch_s: float = 10.0,
        tick_s: float = 0.5,
        clock: Callable[[], datetime] = _now,
        rng: Rng | None = None,
        log: Callable[[str], None] = _to_stderr,
    ) -> None:
        if every_s <= 0 or settle_s < 0 or base_s <= 0 or watch_s <= 0 or tick_s <= 0:
            raise ValueError("every_s, base_s, watch_s and tick_s must be > 0, settle_s >= 0")
        self.every_s = every_s
        self.settle_s = settle_s
        self.base_s = base_s
        self.watch_s = watch_s
        self.tick_s = tick_s
        self._open = device_opener
        self._clock = clock
        self._rng = rng if rng is not None else random.Random()
        self._log = log
        #: the last rounds, newest last
        self.reports: deque[RoundReport] = deque(maxlen=100)
        self._lock = threading.Lock()  # guards the fields below
        self._state = SyncState()
        self._running = False
        self._regular_at: datetime | None = None  # the round the last outcome planned
        self._hurried = False  # a write brought that round forward already
        self._scheduler: BackgroundScheduler | None = None
        self._stopping = threading.Event()
        self._done = threading.Event()
        self._final: Outcome | None = None

    @property
    def state(self) -> SyncState:
        with self._lock:
            return self._state

    # -- one round --------------------------------------------------------------------------

    def run_round(self) -> RoundReport:
        """Run one round now, record it, log its line, and (under :meth:`run`) plan the
        next. Never raises for a failed round: the report says how it ended."""
        with self._lock:
            self._running = True
        try:
            started = self._clock()
            outcome, marker, result, pending, exc = self._attempt()
            with self._lock:
                self._state = after_round(self._state, outcome, marker)
                delay = delay_after(
                    outcome,
                    self._state.failures,
                    self.every_s,
                    self._rng,
                    retry_after=retry_after_of(exc),
                    base_s=self.base_s,
                )
                next_at = self._plan(delay)
            message = describe(outcome, result, pending, exc)
            report = RoundReport(outcome, started, result, pending, message, delay, next_at)
            self.reports.append(report)
            self._log(self._line(report))
            if outcome.stops:
                self._finish(outcome)
            return report
        finally:
            with self._lock:
                self._running = False

    def _attempt(
        self,
    ) -> tuple[Outcome, int | None, SyncResult | None, int | None, Exception | None]:
        """Open the home, sync, close. :returns: outcome, outbox marker at the start,
        result, changes still pending, and the error if any."""
        try:
            dev = self._open()
        except Exception as exc:
            return classify(exc), None, None, None, exc
        marker: int | None = None
        try:
            marker, _ = outbox_marker(dev.store)
            result = dev.sync(progress=self._checkpoint)
        except Exception as exc:
            outcome = Outcome.CANCELLED if isinstance(exc, _Cancelled) else classify(exc)
            return outcome, marker, None, _pending(dev), exc
        else:
            return Outcome.OK, marker, result, _pending(dev), None
        finally:
            with contextlib.suppress(Exception):  # a broken store must not end the daemon
                dev.close()

    def _checkpoint(self, phase: str, done: int, total: int) -> None:
        """The round's progress hook: the place a stopping daemon cuts a round short."""
        if self._stopping.is_set():
            raise _Cancelled

    def _plan(self, delay: float | None) -> datetime | None:
        """Move the job to `delay` seconds from now (lock held). :returns: when."""
        if self._scheduler is None or delay is None or self._stopping.is_set():
            return None
        at = self._clock() + timedelta(seconds=delay)
        if not self._move(at):
            return None
        self._regular_at = at
        self._hurried = False
        return at

    def _move(self, at: datetime) -> bool:
        if self._scheduler is None:
            return False
        try:
            self._scheduler.modify_job(JOB_ID, next_run_time=at)
        except JobLookupError:  # removed: the daemon is stopping
            return False
        return True

    # -- local writes -----------------------------------------------------------------------

    def check_writes(self) -> bool:
        """Bring the next round forward to `settle_s` from now if the last round went well
        and a local write is waiting. Called by :meth:`run` every `watch_s` seconds.

        :returns: whether the round was moved.
        """
        with self._lock:
            if self._running or self._state.last_ok is not True or self._regular_at is None:
                return False
        try:
            dev = self._open()
            try:
                marker, pending = outbox_marker(dev.store)
            finally:
                dev.close()
        except Exception:  # the next round will say what is wrong
            return False
        with self._lock:
            if self._running or self._regular_at is None:
                return False
            if not write_due(self._state, marker, pending):
                return False
            now = self._clock()
            delay = settle_delay((self._regular_at - now).total_seconds(), self.settle_s)
            at = now + timedelta(seconds=delay)
            if not self._move(at):
                return False
            self._state = seen_write(self._state, marker)
            first = not self._hurried
            self._hurried = True
        if first:
            self._log(
                f"[{stamp(now)}] {pending} perubahan baru menunggu; sinkron pukul "
                f"{clock_time(at)} ({duration(delay)})."
            )
        return True

    # -- the loop ---------------------------------------------------------------------------

    def run(self) -> Outcome | None:
        """Run rounds until Ctrl-C or :meth:`stop` (returns ``None``) or until a round ends
        in a way no retry can fix (returns its outcome: a 401, a home not enrolled)."""
        scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            timezone=UTC,
        )
        scheduler.add_job(
            self._job,
            IntervalTrigger(seconds=self.every_s, timezone=UTC),
            id=JOB_ID,
            name="pendamping sync",
            max_instances=1,
            coalesce=True,
            # A laptop that slept through its slot syncs as soon as it wakes, however late.
            misfire_grace_time=None,
            next_run_time=self._clock(),
        )
        with self._lock:
            self._scheduler = scheduler
        try:
            scheduler.start()
            next_look = time.monotonic() + self.watch_s
            while not self._done.wait(self.tick_s):
                if time.monotonic() >= next_look:
                    self.check_writes()
                    next_look = time.monotonic() + self.watch_s
        except KeyboardInterrupt:
            self._stopping.set()
            if self._running:
                self._log(f"[{stamp(self._clock())}] Menghentikan putaran yang sedang berjalan…")
        finally:
            self._stopping.set()
            if scheduler.running:
                scheduler.shutdown(wait=True)
            with self._lock:
                self._scheduler = None
        return self._final

    def stop(self) -> None:
        """Ask :meth:`run` to return; a running round stops at its next batch or page (a push
        batch already on the wire is answered first; the next round gets its receipts)."""
        self._stopping.set()
        self._done.set()

    def _job(self) -> None:
        if self._stopping.is_set():
            return
        try:
            self.run_round()
        except Exception as exc:  # a bug in this module: one line, and the trigger goes on
            self._log(f"[{stamp(self._clock())}] Galat tak terduga ({type(exc).__name__}): {exc}")

    def _finish(self, outcome: Outcome) -> None:
        if outcome is not Outcome.CANCELLED:
            self._final = outcome
        self._stopping.set()
        self._done.set()

    # -- lines ------------------------------------------------------------------------------

    def _line(self, report: RoundReport) -> str:
        line = f"[{stamp(report.started_at)}] {report.message}"
        if report.next_at is not None and report.delay_s is not None:
            then = "Berikutnya" if report.outcome is Outcome.OK else "Coba lagi"
            line += f" {then} pukul {clock_time(report.next_at)} ({duration(report.delay_s)})."
        elif report.outcome in (Outcome.UNAUTHORIZED, Outcome.NOT_ENROLLED) and self._scheduler:
            line += " Sinkron latar belakang berhenti."
        return line


def _pending(dev: FieldDevice) -> int | None:
    try:
        return dev.store.pending_count()
    except Exception:
        return None
