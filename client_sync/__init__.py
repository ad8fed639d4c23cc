"""The laptop side of pendamping-sync: a local store that works offline, and its sync.

from client_sync import FieldDevice
dev = FieldDevice.open(home)

The names below are imported when first asked for, so importing one module of the package
(the store, the photos, the bundles) does not import the whole of it: the modules depend
on one another one way (store <- photos, bundle <- engine <- device), not in a circle.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from client_sync.device import FieldDevice, default_home
    from client_sync.engine import SyncResult
    from client_sync.store import FieldStore

__all__ = ["FieldDevice", "FieldStore", "SyncResult", "default_home"]

_HOMES = {
    "FieldDevice": "client_sync.device",
    "default_home": "client_sync.device",
    "SyncResult": "client_sync.engine",
    "FieldStore": "client_sync.store",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
