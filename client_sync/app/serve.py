"""Serving the field app: waitress on 127.0.0.1 only, the browser opened at this start's
secret URL, the idle lock watched in the background.

The default port is :data:`client_sync.app.DEFAULT_PORT`; when another program holds it the
app takes a free one and says so (the URL printed carries the port either way).
"""

from __future__ import annotations

import contextlib
import errno
import html
import os
import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from waitress.server import create_server

from client_sync.app import DEFAULT_IDLE_MINUTES, DEFAULT_PORT, create_app
from client_sync.app.guard import ENTER_PATH
from client_sync.app.state import AppState

__all__ = ["HOST", "OPENER_PAGE", "Served", "bind", "serve"]

HOST = "127.0.0.1"
#: the page in the laptop's home the browser is opened at (see :meth:`Served.opener`)
OPENER_PAGE = "app-buka.html"
#: how often the watchdog looks for an idle app to lock (seconds)
WATCH_S = 15.0


class Served:
    """A bound app, ready to run: its server, port and secret URL."""

    def __init__(self, app: Flask, server: object, port: int, moved: bool) -> None:
        self.app = app
        self.server = server
        self.port = port
        #: whether the asked port was taken and another one is used
        self.moved = moved
        self._opener: Path | None = None

    @property
    def state(self) -> AppState:
        state: AppState = self.app.extensions["pendamping_app"]
        return state

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}{ENTER_PATH}?kunci={self.state.start_secret}"

    def opener(self) -> str:
        """The address to open the browser at: a page in the laptop's home, readable by its
        owner only, that sends the browser on to :attr:`url`. The secret URL itself would
        sit on the browser's command line, which every local user can read (``ps``); the
        page is removed when the app stops."""
        page = self.state.keeper.home / OPENER_PAGE
        page.unlink(missing_ok=True)
        target = html.escape(self.url, quote=True)
        text = (
            '<!doctype html><meta charset="utf-8">'
            f'<meta http-equiv="refresh" content="0;url={target}">'
            f'<title>Pendamping</title><p><a href="{target}">Buka aplikasi pendamping</a></p>'
        )
        fd = os.open(page, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(text.encode("utf-8"))
        self._opener = page
        return page.as_uri()

    def run(self) -> None:
        """Serve until interrupted; then lock the store and stop the store thread."""
        stop = threading.Event()
        watchdog = threading.Thread(target=self._watch, args=(stop,), daemon=True)
        watchdog.start()
        try:
            self.server.run()  # type: ignore[attr-defined]
        finally:
            stop.set()
            self.close()

    def close(self) -> None:
        if self._opener is not None:
            self._opener.unlink(missing_ok=True)
        self.server.close()  # type: ignore[attr-defined]
        state = self.state
        state.sync.join(timeout=5)
        state.store_thread.run(state.keeper.lock)
        state.store_thread.shutdown()

    def _watch(self, stop: threading.Event) -> None:
        """Lock an idle app even when no request comes (on the store thread)."""
        state = self.state
        while not stop.wait(WATCH_S):
            state.store_thread.run(state.keeper.lock_if_idle)


def bind(
    home: Path, port: int = DEFAULT_PORT, idle_minutes: float = DEFAULT_IDLE_MINUTES, **app_kw
) -> Served:
    """Create the app and bind its socket on 127.0.0.1: `port`, or a free one when taken."""
    app = create_app(home, port=port, idle_minutes=idle_minutes, **app_kw)
    moved = False
    try:
        server = create_server(app, host=HOST, port=port, threads=4, ident="pendamping")
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EACCES, getattr(errno, "WSAEADDRINUSE", -1)):
            raise
        server = create_server(app, host=HOST, port=0, threads=4, ident="pendamping")
        moved = True
    bound = int(server.effective_port)  # type: ignore[union-attr]
    app.config.update(APP_PORT=bound, SESSION_COOKIE_NAME=f"pendamping_app_{bound}")
    return Served(app, server, bound, moved)


def serve(
    home: Path,
    port: int = DEFAULT_PORT,
    idle_minutes: float = DEFAULT_IDLE_MINUTES,
    open_browser: bool = True,
    say: Callable[[str], None] = print,
) -> None:
    """`pendamping app`: bind, say where, open the browser, serve until Ctrl-C."""
    served = bind(home, port, idle_minutes)
    if served.moved:
        say(f"Port {port} sedang dipakai program lain; aplikasi memakai port {served.port}.")
    say(f"Aplikasi pendamping berjalan di http://{HOST}:{served.port} (data: {home}).")
    say(f"Buka di peramban: {served.url}")
    say("Tekan Ctrl-C untuk berhenti.")
    if open_browser:
        webbrowser.open(served.opener())
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: the normal way to stop
        served.run()
    say("Aplikasi pendamping berhenti; penyimpanan terkunci.")
