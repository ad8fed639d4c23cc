"""Hub persistence: the :class:`HubStorage` interface and its backends.

`STORAGE_URL` picks the backend (docs/postgresql.md): None or absent is SQLite in
`DATA_DIR/hub.sqlite3` (the default); ``sqlite:///PATH`` is that SQLite file;
``postgresql://...`` (or ``postgres://...``) is a PostgreSQL database.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from server.storage.base import (
    AlreadyExists,
    ChangeRow,
    ConflictRow,
    Device,
    DeviceReport,
    HubStorage,
    JobRun,
    JobStore,
    LastPush,
    LimitStore,
    NotFound,
    PeopleStore,
    PullPage,
    QueuePlace,
    RecordRow,
    ScopeExit,
    SettingError,
    SilentDevice,
    StorageError,
    User,
    WriterBusy,
    WriterWait,
    WriteSession,
)

__all__ = [
    "AlreadyExists",
    "ChangeRow",
    "ConflictRow",
    "Device",
    "DeviceReport",
    "HubStorage",
    "JobRun",
    "JobStore",
    "LastPush",
    "LimitStore",
    "NotFound",
    "PeopleStore",
    "PullPage",
    "QueuePlace",
    "RecordRow",
    "ScopeExit",
    "SettingError",
    "SilentDevice",
    "StorageError",
    "User",
    "WriteSession",
    "WriterBusy",
    "WriterWait",
    "load_from_config",
    "storage_kind",
]


_SQLITE_PREFIX = "sqlite:///"
_POSTGRES_PREFIXES = ("postgresql://", "postgres://")


def storage_kind(config: Mapping[str, Any]) -> str:
    """``"sqlite"`` or ``"postgresql"``: the backend `STORAGE_URL` names, without opening it.

    :raises ValueError: `STORAGE_URL` is neither (the message names the setting).
    """
    url = config.get("STORAGE_URL")
    if url is None or url == "":
        return "sqlite"
    if not isinstance(url, str):
        raise SettingError(f"STORAGE_URL must be text, not {type(url).__name__}")
    if url.startswith(_SQLITE_PREFIX) and len(url) > len(_SQLITE_PREFIX):
        return "sqlite"
    if url.startswith(_POSTGRES_PREFIXES):
        return "postgresql"
    shown = url.split("@")[-1] if "@" in url else url  # never echo a password
    raise SettingError(
        f"STORAGE_URL {shown!r} is not sqlite:///PATH nor postgresql://USER@HOST/DATABASE"
    )


def load_from_config(config: dict[str, Any]) -> HubStorage:
    """The backend `STORAGE_URL` names (:func:`storage_kind`), not yet migrated.

    :raises ValueError: an unknown kind of `STORAGE_URL`.
    :raises StorageError: the PostgreSQL database cannot be reached.
    """
    kind = storage_kind(config)
    url = config.get("STORAGE_URL")
    if kind == "postgresql":
        from server.storage.pg import PostgresStorage

        return PostgresStorage.load_from_config(config)
    from server.storage.sqlite import SQLiteStorage

    if url:  # sqlite:///relative/path or sqlite:////absolute/path (SQLAlchemy's spelling)
        return SQLiteStorage(Path(url[len(_SQLITE_PREFIX) :]))
    return SQLiteStorage.load_from_config(config)
