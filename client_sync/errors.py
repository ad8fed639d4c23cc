"""The laptop side's exceptions, in one tree so a caller can catch at the level it wants.

::

    ClientError
     ├── StoreError                 the local store cannot be opened or written
     │    ├── NotEnrolled           no `pendamping enroll` has been done in this home
     │    ├── RecordNotFound        no record with that id (and entity)
     │    ├── WrongPassphrase       the passphrase does not open the encrypted store
     │    ├── PassphraseRequired    the store is encrypted and no passphrase was given
     │    ├── NotEncrypted          a passphrase was given for a store that is not encrypted
     │    └── InvalidRecord         a field failed validation; `.errors` names it
     └── SyncError                  a sync round could not finish; nothing is lost
          ├── HubUnreachable        no connection, a timeout, or a 5xx after retries
          │    └── LinkDropped      the connection died while a request or its answer ran
          ├── HubRefused            the hub answered 4xx; `.slug` is its stable error code,
          │                         `.code` the same as a schemas.error_codes.ErrorCode
          │    └── Unauthorized     401: unknown or revoked token
          └── ProtocolError         the hub's answer does not match the protocol
"""

from __future__ import annotations

from typing import Any

from schemas.error_codes import ErrorCode

__all__ = [
    "ClientError",
    "HubRefused",
    "HubUnreachable",
    "InvalidRecord",
    "LinkDropped",
    "NotEncrypted",
    "NotEnrolled",
    "PassphraseRequired",
    "ProtocolError",
    "RecordNotFound",
    "StoreError",
    "SyncError",
    "Unauthorized",
    "WrongPassphrase",
]


class ClientError(Exception):
    """Base of everything the laptop side raises on purpose."""


class StoreError(ClientError):
    """The local store cannot be opened or written."""


class NotEnrolled(StoreError):
    """This home has no enrolment yet."""


class RecordNotFound(StoreError):
    """No record with that id."""


class WrongPassphrase(StoreError):
    """The passphrase does not open the encrypted store ("Kata sandi penyimpanan salah.")."""


class PassphraseRequired(StoreError):
    """The store is encrypted and no passphrase was given."""


class NotEncrypted(StoreError):
    """A passphrase was given for a plain store, which is never left plain silently."""


class InvalidRecord(StoreError):
    """A field failed validation. :attr:`errors` maps field names to messages."""

    def __init__(self, errors: dict[str, Any]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {_first(v)}" for k, v in errors.items()))


def _first(messages: Any) -> str:
    if isinstance(messages, list) and messages:
        return str(messages[0])
    if isinstance(messages, dict):
        return "; ".join(f"{k}: {_first(v)}" for k, v in messages.items())
    return str(messages)


class SyncError(ClientError):
    """A sync round stopped; every change not confirmed stays in the outbox."""

    #: the hub's `Retry-After`, in seconds, when it asked the laptop to wait (429, 503)
    retry_after: float | None = None


class HubUnreachable(SyncError):
    """No answer from the hub: no link, a timeout, or server errors after retries."""


class LinkDropped(HubUnreachable):
    """The connection died half way through a request or its answer (a 2G link dropping).

    The hub may or may not have acted; a push sent again gets its original receipts.
    """


class HubRefused(SyncError):
    """The hub answered with a 4xx error."""

    def __init__(self, status: int, slug: str, message: str) -> None:
        self.status = status
        self.slug = slug
        super().__init__(message)

    @property
    def code(self) -> ErrorCode | None:
        """The slug as an :class:`ErrorCode`; None for one this laptop does not know (a
        newer hub's, or an answer from something that is not the hub)."""
        return ErrorCode.lookup(self.slug)


class Unauthorized(HubRefused):
    """401: the hub does not accept this laptop's token (unknown or revoked)."""


class ProtocolError(SyncError):
    """The hub's answer is not what the protocol says."""
