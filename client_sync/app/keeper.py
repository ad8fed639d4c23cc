"""The unlocked store, held in memory by the one thread that may use it.

SQLite (and SQLCipher) connections belong to the thread that opened them. waitress serves
requests on several threads, so :class:`StoreThread` runs every request that may touch the
store on one thread of its own (a WSGI wrapper, :meth:`StoreThread.wsgi`): page code is then
ordinary Flask code that calls :func:`client_sync.app.shell.device`, requests are served one
at a time (one person uses the app), and the connection is never shared between threads. A
sync round does not use this connection: it opens a second :class:`FieldDevice` in its own
thread, as `pendamping daemon` does per round, and SQLite's WAL and busy timeout keep the two
apart (docs/field-app.md, "Concurrency").

:class:`Keeper` holds the open device and its passphrase while the app is unlocked, and
drops both (the store closed) after `idle_s` without a request, or on "Kunci".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from client_sync.database import is_encrypted
from client_sync.device import STORE_FILE, FieldDevice, TransportFactory
from client_sync.transport import HttpTransport

__all__ = ["Keeper", "StoreThread"]

T = TypeVar("T")


class StoreThread:
    """One worker thread; everything that touches the unlocked store runs on it."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pendamping-store")
        self._ident: int | None = None

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` on the store thread (here and now when already on it)."""
        if threading.get_ident() == self._ident:
            return fn(*args)
        return self._pool.submit(self._mark_and_run, fn, *args).result()

    def _mark_and_run(self, fn: Callable[..., T], *args: Any) -> T:
        self._ident = threading.get_ident()
        return fn(*args)

    def on_it(self) -> bool:
        return threading.get_ident() == self._ident

    def wsgi(self, app: Callable[..., Iterable[bytes]], bypass: Callable[[str], bool]) -> Any:
        """`app` run on the store thread, except for paths where `bypass(path)` holds
        (static files, the sync progress) which touch no store and must not wait."""

        def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            if bypass(environ.get("PATH_INFO", "")):
                return app(environ, start_response)
            return self.run(_drained, app, environ, start_response)

        return wrapped

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)


def _drained(app: Callable[..., Iterable[bytes]], environ: Any, start_response: Any) -> list[bytes]:
    """The whole body, read on this thread (and the iterable closed, as WSGI asks)."""
    result = app(environ, start_response)
    try:
        return list(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()


class Keeper:
    """This laptop's home, and its store while unlocked.

    :param idle_s: seconds without a request after which the app locks itself.
    :param clock: monotonic seconds, injected for tests.
    """

    def __init__(
        self,
        home: Path,
        transport_factory: TransportFactory = HttpTransport,
        *,
        idle_s: float = 15 * 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.home = home
        self.transport_factory = transport_factory
        self.idle_s = idle_s
        self._clock = clock
        self._device: FieldDevice | None = None
        self._passphrase: str | None = None
        self._seen = clock()
        #: a form or autosave sent while locked (see draft_views.hold_while_locked): kept
        #: in this process's memory only, and made the form's draft on the next unlock
        self.held_draft: Any = None

    # -- state ----------------------------------------------------------------------------

    @property
    def enrolled(self) -> bool:
        """Whether the home has a store (it may still lack an enrolment: opening says)."""
        return (self.home / STORE_FILE).exists()

    @property
    def needs_passphrase(self) -> bool:
        return is_encrypted(self.home / STORE_FILE)

    @property
    def device(self) -> FieldDevice | None:
        return self._device

    def touch(self) -> None:
        """A request came: the idle time starts again."""
        self._seen = self._clock()

    def idle_for(self) -> float:
        return self._clock() - self._seen

    # -- changes (on the store thread) ----------------------------------------------------

    def unlock(self, passphrase: str) -> FieldDevice:
        """Open the store. :raises WrongPassphrase, NotEnrolled: as FieldDevice.open."""
        self.lock()
        device = FieldDevice.open(self.home, self.transport_factory, passphrase=passphrase)
        self._device, self._passphrase = device, passphrase
        self.touch()
        return device

    def adopt(self, device: FieldDevice, passphrase: str) -> None:
        """Hold a device just enrolled with `passphrase`."""
        self.lock()
        self._device, self._passphrase = device, passphrase
        self.touch()

    def lock(self) -> None:
        """Close the store and forget the passphrase."""
        device, self._device, self._passphrase = self._device, None, None
        if device is not None:
            device.close()

    def lock_if_idle(self) -> bool:
        """Lock when nothing came for `idle_s`. :returns: whether it locked now."""
        if self._device is not None and self.idle_for() >= self.idle_s:
            self.lock()
            return True
        return False

    def held_passphrase(self) -> str:
        """The passphrase the store was unlocked with, for a sync round that opens a second
        device in its own thread (``""``: a plain store). :raises RuntimeError: locked."""
        if self._device is None or self._passphrase is None:
            raise RuntimeError("locked")
        return self._passphrase
