"""`pendamping app`: the field app, a local web app over this laptop's home.

A thin layer over :mod:`client_sync` (no second store, no SQL, no rule of its own): Flask
pages rendered on the server, served by waitress on 127.0.0.1 only (:mod:`.serve`). What
guards it is :mod:`.guard`; how the store is shared between threads, :mod:`.keeper`; what
every page shares, :mod:`.shell`; the pages, :mod:`.pages`. See docs/field-app.md.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from client_sync.device import TransportFactory
from client_sync.transport import HttpTransport

__all__ = ["DEFAULT_IDLE_MINUTES", "DEFAULT_PORT", "create_app"]

#: the port `pendamping app` tries first (another free one when it is taken)
DEFAULT_PORT = 8765
DEFAULT_IDLE_MINUTES = 15.0


def create_app(
    home: str | Path,
    *,
    port: int = DEFAULT_PORT,
    idle_minutes: float = DEFAULT_IDLE_MINUTES,
    transport_factory: TransportFactory | None = None,
    clock: Callable[[], float] = time.monotonic,
    start_secret: str | None = None,
    test_config: Mapping[str, Any] | None = None,
) -> Flask:
    """The app for the laptop home `home`.

    :param port: the port it is served on (the Host check needs it; :func:`.serve.serve`
        sets it again once the socket is bound).
    :param transport_factory: the hub transport of enrolment and sync rounds; ``None``:
        the CLI's (``PENDAMPING_RETRIES`` / ``PENDAMPING_TIMEOUT`` from the environment).
    :param clock: monotonic seconds for the idle lock, injected for tests.
    :param start_secret: the secret of this start's URL; drawn afresh when not given.
    """
    from client_sync.app import draft_views, guard, i18n, pages, sync_views, unlock  # noqa: F401
    from client_sync.app.keeper import Keeper, StoreThread
    from client_sync.app.shell import bp
    from client_sync.app.state import AppState
    from client_sync.app.syncing import SyncRunner
    from client_sync.app.uploads import MemoryUploads

    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.config.update(
        APP_PORT=port,
        SECRET_KEY=secrets.token_bytes(32),  # per start, never on disk
        SESSION_COOKIE_NAME=f"pendamping_app_{port}",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        MAX_CONTENT_LENGTH=64 * 1024 * 1024,
    )
    app.request_class = MemoryUploads  # an upload never touches the disk unencrypted
    if test_config:
        app.config.update(test_config)
    store_thread = StoreThread()
    keeper = Keeper(
        Path(home),
        transport_factory or HttpTransport,
        idle_s=idle_minutes * 60,
        clock=clock,
    )
    app.extensions["pendamping_app"] = AppState(
        keeper=keeper,
        store_thread=store_thread,
        sync=SyncRunner(),
        start_secret=start_secret or secrets.token_urlsafe(32),
        transport_factory=transport_factory,
        pages=tuple(pages.PAGES),
    )
    i18n.init_app(app)
    guard.init_app(app)
    app.register_blueprint(bp)
    app.wsgi_app = store_thread.wsgi(app.wsgi_app, guard.bypasses_store)  # type: ignore[method-assign]
    return app
