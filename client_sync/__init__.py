"""The laptop side of pendamping-sync: a local store that works offline, and its sync.

from client_sync import FieldDevice
dev = FieldDevice.open(home)
"""

from client_sync.device import FieldDevice, default_home
from client_sync.engine import SyncResult
from client_sync.store import FieldStore

__all__ = ["FieldDevice", "FieldStore", "SyncResult", "default_home"]
