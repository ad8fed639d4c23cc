"""What one running app holds: the home's keeper, the store thread, the sync runner, and the
per-start secrets. Kept on ``app.extensions["pendamping_app"]``; :func:`app_state` finds it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

from client_sync.app.keeper import Keeper, StoreThread
from client_sync.app.syncing import SyncRunner
from client_sync.device import TransportFactory

__all__ = ["AppState", "Page", "app_state"]


@dataclass(frozen=True, slots=True)
class Page:
    """A page in the header's menu: its endpoint (``field.NAME``) and its label (a
    :func:`lazy_gettext` string, Indonesian)."""

    endpoint: str
    label: Any


@dataclass
class AppState:
    """:ivar start_secret: the secret of this start's URL, traded for the session cookie.
    :ivar transport_factory: makes the hub transport of a sync round (``None``: the CLI's,
        from the environment, as `pendamping sync` has it)."""

    keeper: Keeper
    store_thread: StoreThread
    sync: SyncRunner
    start_secret: str
    transport_factory: TransportFactory | None = None
    #: the header's menu (``client_sync.app.pages.PAGES``)
    pages: tuple[Page, ...] = ()


def app_state() -> AppState:
    state: AppState = current_app.extensions["pendamping_app"]
    return state
