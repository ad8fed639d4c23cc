"""The client's version, as it reports itself to the hub (`Pendamping-Client`)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["CLIENT_VERSION"]

try:
    CLIENT_VERSION = version("pendamping-sync")
except PackageNotFoundError:  # running from a source tree that was never installed
    CLIENT_VERSION = "0+unknown"
