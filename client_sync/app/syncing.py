"""A sync round started from the app: one at a time, in a background thread.

The round opens its own :class:`~client_sync.device.FieldDevice` (the store's connection
belongs to the app's store thread, see :mod:`client_sync.app.keeper`), reports its
progress through :meth:`FieldDevice.sync`'s progress callable into memory, and ends with the
same lines `pendamping sync` prints: :func:`client_sync.cli.sync.round_lines` when it
finished, :func:`client_sync.cli.failures.sync_failure` for a busy, unreachable, broken or
revoking hub, :func:`client_sync.cli.failures.failure_for` for anything else. Never new words.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from client_sync.cli.failures import failure_for, sync_failure
from client_sync.cli.sync import round_lines
from client_sync.device import FieldDevice
from client_sync.errors import SyncError
from client_sync.progress import describe

__all__ = ["RoundState", "SyncRunner"]

DeviceOpener = Callable[[], FieldDevice]


@dataclass
class RoundState:
    """The app's latest round, as the page and the JSON endpoint show it.

    :ivar phase: ``kirim``, ``terima``, ``foto``, ``sibuk`` (see
        :func:`client_sync.progress.describe`), or ``""`` before the first report.
    :ivar ok: ``None`` while running (or never run), then whether it finished.
    """

    number: int = 0
    running: bool = False
    phase: str = ""
    done: int = 0
    total: int = 0
    text: str = ""
    ok: bool | None = None
    lines: list[str] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0

    @property
    def percent(self) -> int | None:
        """How far the current phase is, or None when its total is not known."""
        if self.total > 0 and self.phase != "sibuk":
            return min(self.done * 100 // self.total, 100)
        return None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "percent": self.percent}


class SyncRunner:
    """Starts rounds and keeps the latest one's state. Thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._state = RoundState()
        self._thread: threading.Thread | None = None

    def snapshot(self) -> RoundState:
        with self._lock:
            return RoundState(**{**asdict(self._state), "lines": list(self._state.lines)})

    def start(self, opener: DeviceOpener) -> bool:
        """Start a round with a device from `opener` (called in the round's thread).
        :returns: False when one is running already (nothing new starts)."""
        with self._lock:
            if self._state.running:
                return False
            self._state = RoundState(
                number=self._state.number + 1, running=True, started=self._clock()
            )
            self._thread = threading.Thread(
                target=self._round, args=(opener,), name="pendamping-app-sync", daemon=True
            )
            self._thread.start()
        return True

    def join(self, timeout: float | None = None) -> None:
        """Wait for the running round (tests, and the app's shutdown)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _progress(self, phase: str, done: int, total: int) -> None:
        with self._lock:
            self._state.phase, self._state.done, self._state.total = phase, done, total
            self._state.text = describe(phase, done, total)

    def _round(self, opener: DeviceOpener) -> None:
        ok, lines = False, []
        try:
            dev = opener()
        except Exception as exc:
            lines = failure_for(exc).lines
        else:
            try:
                result = dev.sync(progress=self._progress)
            except SyncError as exc:
                lines = sync_failure(exc, _pending(dev)).lines
            except Exception as exc:
                lines = failure_for(exc).lines
            else:
                ok, lines = True, _finished(result, dev)
            finally:
                dev.close()
        with self._lock:
            self._state.running, self._state.ok, self._state.lines = False, ok, lines
            self._state.finished = self._clock()


def _pending(dev: FieldDevice) -> int:
    try:
        return dev.store.pending_count()
    except Exception:
        return 0


def _finished(result: Any, dev: FieldDevice) -> list[str]:
    try:
        return round_lines(result, dev.store)
    except Exception as exc:
        return failure_for(exc).lines
