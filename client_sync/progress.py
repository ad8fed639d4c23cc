"""A sync round's progress as one updating line on a terminal.

:class:`TerminalProgress` is the ``progress`` callable that
:meth:`client_sync.FieldDevice.sync` accepts: it is told ``(phase, done, total)`` and
redraws a single line (``Mengirim 4.000/10.000 perubahan (40%)…``, or while the hub is busy
``Hub sibuk; menunggu 12 detik lagi, data Anda aman di laptop.``) at most about five times
a second. On anything but a terminal (a pipe, a log file, Task Scheduler) it writes
nothing, so scripts and logs see only the round's result.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TextIO

from client_sync.spans import span

__all__ = ["TerminalProgress", "describe", "size_words"]

_MB = 1024 * 1024
_LABELS = {"kirim": ("Mengirim", " perubahan"), "terima": ("Menerima", " data")}


def _count(n: int) -> str:
    """Thousands with a dot, as written in Indonesia: 10.000."""
    return f"{n:,}".replace(",", ".")


def size_words(n: int) -> str:
    """A file's size as people read it: ``1,2 MB`` from a megabyte on, else ``340 KB``
    (at least 1 KB), so a small photo is never "0,0 MB"."""
    if n >= _MB:
        return f"{_megabytes(n)} MB"
    return f"{max(1, n // 1024)} KB"


def _megabytes(n: int) -> str:
    """Megabytes to one decimal with a comma: 1,2."""
    return f"{n / _MB:.1f}".replace(".", ",")


def describe(phase: str, done: int, total: int) -> str:
    """The line for one report: `phase` is ``kirim`` (changes sent), ``terima`` (records
    received), ``foto`` (photo bytes sent) or ``sibuk`` (`done`: seconds still to wait on a
    busy hub); `total` 0 means not known."""
    done = max(done, 0)
    if phase == "sibuk":
        if done < 1:
            return "Hub sibuk; mencoba lagi…"
        return f"Hub sibuk; menunggu {span(done)} lagi, data Anda aman di laptop."
    if phase == "foto":
        if total > 0:
            return f"Mengirim foto {_megabytes(done)}/{_megabytes(total)} MB…"
        return f"Mengirim foto {_megabytes(done)} MB…"
    verb, noun = _LABELS.get(phase, (phase, ""))
    if total > 0:
        percent = min(done * 100 // total, 100)
        return f"{verb} {_count(done)}/{_count(total)}{noun} ({percent}%)…"
    return f"{verb} {_count(done)}{noun}…"


def _is_tty(stream: TextIO | None) -> bool:
    try:
        return stream is not None and bool(stream.isatty())
    except (AttributeError, OSError, ValueError):
        return False


class TerminalProgress:
    """Draws a round's progress on one line of `stream`, only if it is a terminal.

    :param stream: usually ``sys.stderr``; ``None`` (pythonw) or a non-terminal: silent.
    :param min_interval_s: the least time between two redraws of the same phase.
    :param clock: monotonic seconds, injected for tests.

    Call :meth:`close` (or use it as a context manager) when the round ends, so the next
    line printed starts on a clean line.
    """

    def __init__(
        self,
        stream: TextIO | None,
        *,
        min_interval_s: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._min_interval_s = min_interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._phase: str | None = None
        self._drawn_at = float("-inf")
        self._width = 0  # characters on the line now
        self.active = _is_tty(stream)

    def __call__(self, phase: str, done: int, total: int) -> None:
        if not self.active:
            return
        with self._lock:
            now = self._clock()
            finished = total > 0 and done >= total
            if (
                phase == self._phase
                and not finished
                and now - self._drawn_at < self._min_interval_s
            ):
                return
            self._phase = phase
            self._drawn_at = now
            line = describe(phase, done, total)
            self._write("\r" + line + " " * max(self._width - len(line), 0))
            self._width = len(line)

    def close(self) -> None:
        """Erase the progress line, leaving the cursor at its start."""
        with self._lock:
            if self.active and self._width:
                self._write("\r" + " " * self._width + "\r")
            self._width = 0
            self._phase = None

    def __enter__(self) -> TerminalProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self, text: str) -> None:
        """Write and flush; a terminal that cannot take it turns the progress off, never
        the round."""
        if self._stream is None:
            return
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):  # UnicodeEncodeError is a ValueError
            self.active = False
