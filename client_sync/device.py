"""`FieldDevice`: one laptop's home folder, its store and its way to the hub.

The `pendamping` command is a thin shell over this class, so a script can do the same::

    dev = FieldDevice.open(home)
    bid = dev.store.add("beneficiary", {...})
    result = dev.sync()
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable
from pathlib import Path
from typing import Any

import platformdirs

from client_sync.engine import Progress, SyncResult, sync_once
from client_sync.errors import ClientError, NotEnrolled
from client_sync.hub import HubClient
from client_sync.hub_url import parse_hub_url
from client_sync.store import FieldStore
from client_sync.transport import HttpTransport, Transport

__all__ = ["PASSPHRASE_ENV", "FieldDevice", "default_home", "env_passphrase"]

STORE_FILE = "store.sqlite3"
#: The store's passphrase for scripts and the daemon; unset or empty: none.
PASSPHRASE_ENV = "PENDAMPING_PASSPHRASE"
TransportFactory = Callable[[str], Transport]


def default_home() -> Path:
    """`PENDAMPING_HOME`, else the per-user data folder (e.g. %LOCALAPPDATA%\\pendamping)."""
    env = os.environ.get("PENDAMPING_HOME")
    return Path(env) if env else Path(platformdirs.user_data_dir("pendamping", appauthor=False))


def env_passphrase() -> str | None:
    """`PENDAMPING_PASSPHRASE`, or None when it is unset or empty."""
    return os.environ.get(PASSPHRASE_ENV) or None


def _passphrase(given: str | None) -> str | None:
    """``None``: from the environment; ``""``: explicitly none (a plain store)."""
    return env_passphrase() if given is None else (given or None)


class FieldDevice:
    """A laptop: its store, and a transport to its hub made on demand."""

    def __init__(
        self, home: Path, store: FieldStore, transport_factory: TransportFactory = HttpTransport
    ) -> None:
        self.home = home
        self.store = store
        self._transport_factory = transport_factory

    @classmethod
    def open(
        cls,
        home: str | Path | None = None,
        transport_factory: TransportFactory = HttpTransport,
        passphrase: str | None = None,
    ) -> FieldDevice:
        """Open a home set up by :meth:`enroll`. :raises NotEnrolled: there is none.

        :param passphrase: the store's; ``None`` takes `PENDAMPING_PASSPHRASE`, ``""`` none.
        :raises client_sync.errors.WrongPassphrase: it does not open the store (and the
            other errors of :func:`client_sync.database.connect`).
        """
        home = Path(home) if home is not None else default_home()
        if not (home / STORE_FILE).exists():
            raise NotEnrolled(f"Belum ada data laptop di {home}: jalankan `pendamping enroll`.")
        store = FieldStore(home / STORE_FILE, passphrase=_passphrase(passphrase))
        try:
            store.identity  # noqa: B018 - raises NotEnrolled early, before any work
        except NotEnrolled:
            store.close()
            raise
        return cls(home, store, transport_factory)

    @classmethod
    def enroll(
        cls,
        home: str | Path | None,
        hub_url: str,
        code: str,
        device_name: str | None = None,
        transport_factory: TransportFactory = HttpTransport,
        passphrase: str | None = None,
    ) -> FieldDevice:
        """Trade a one-time code for a device token and set up the home folder.

        :param hub_url: ``http://`` or ``https://`` and the hub's address.
        :param passphrase: encrypts the new store; ``None`` takes `PENDAMPING_PASSPHRASE`,
            ``""`` makes a plain store. A failed enrolment leaves no new store behind.
        :raises InvalidHubUrl: `hub_url` is not such a URL (nothing is written).
        """
        hub_url = parse_hub_url(hub_url, assume_http=False).url
        home = Path(home) if home is not None else default_home()
        fresh = not (home / STORE_FILE).exists()
        store = FieldStore(home / STORE_FILE, passphrase=_passphrase(passphrase))
        try:
            store.identity  # noqa: B018
        except NotEnrolled:
            pass
        else:
            store.close()
            raise ClientError(f"Laptop di {home} sudah terdaftar.")
        transport = transport_factory(hub_url)
        name = device_name or platform.node() or "laptop"
        try:
            store.set_identity(HubClient(transport).enroll(code, name, hub_url))
        except BaseException:
            store.close()
            if fresh:  # so a retry may choose its passphrase afresh
                for suffix in ("", "-wal", "-shm", "-journal"):
                    Path(f"{home / STORE_FILE}{suffix}").unlink(missing_ok=True)
            raise
        finally:
            transport.close()
        return cls(home, store, transport_factory)

    def sync(self, progress: Progress | None = None, **options: Any) -> SyncResult:
        """One round: push the outbox, pull what changed. Records how it ended.

        :param progress: told how a long round goes (see :data:`client_sync.engine.Progress`).
        :raises client_sync.errors.SyncError: the round stopped; nothing is lost.
        """
        identity = self.store.identity
        transport = self._transport_factory(identity.hub_url)
        try:
            result = sync_once(
                self.store, HubClient(transport, identity.token), progress=progress, **options
            )
        except ClientError as exc:
            self.store.note_sync(False, str(exc))
            raise
        finally:
            transport.close()
        self.store.note_sync(True, f"{result.pushed} terkirim, {result.pulled} diterima")
        return result

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> FieldDevice:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
