"""Hub persistence: the :class:`HubStorage` interface and its backends."""

from __future__ import annotations

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
    "SilentDevice",
    "StorageError",
    "User",
    "WriteSession",
    "WriterBusy",
    "WriterWait",
    "load_from_config",
]


def load_from_config(config: dict[str, Any]) -> HubStorage:
    """The backend named by `STORAGE_BACKEND` (only ``sqlite`` so far)."""
    backend = config.get("STORAGE_BACKEND", "sqlite")
    if backend == "sqlite":
        from server.storage.sqlite import SQLiteStorage

        return SQLiteStorage.load_from_config(config)
    raise ValueError(f"unknown STORAGE_BACKEND {backend!r}")
