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
     ├── BundleTargetUnusable       `export-bundle`'s file or folder cannot be written
     ├── InvalidHubUrl              an enrolment's hub address is not an http(s) URL
     └── SyncError                  a sync round could not finish; nothing is lost
          ├── HubUnreachable        the hub could not serve the round now: try again later;
          │    │                    this class itself: no connection, or a timeout
          │    ├── LinkDropped      the connection died while a request or its answer ran
          │    ├── HubBusy          429, or a 503 that is not a fault: the hub asked the
          │    │                    laptop to wait, for longer than it was allowed to
          │    └── HubBroken        a 5xx that is a fault on the hub (500, a failed disk);
          │                         `.status` and `.slug` say which
          ├── HubRefused            the hub answered 4xx; `.slug` is its stable error code,
          │                         `.code` the same as a schemas.error_codes.ErrorCode
          │    └── Unauthorized     401: unknown or revoked token
          └── ProtocolError         the hub's answer does not match the protocol
"""

from __future__ import annotations

from typing import Any

from client_sync.spans import span
from schemas.error_codes import ErrorCode

__all__ = [
    "BundleTargetUnusable",
    "ClientError",
    "HubBroken",
    "HubBusy",
    "HubRefused",
    "HubUnreachable",
    "InvalidHubUrl",
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


class BundleTargetUnusable(ClientError, OSError):
    """A USB bundle cannot be written where it was asked for (no such folder, not writable,
    full); the message names that path, never the temporary file, and the laptop's data is
    untouched. An :class:`OSError` too, as a failed write always was."""


class InvalidHubUrl(ClientError):
    """The hub address given to enrol is not an http(s) URL; the message shows the form."""


class SyncError(ClientError):
    """A sync round stopped; every change not confirmed stays in the outbox."""

    #: the hub's `Retry-After`, in seconds, when it asked the laptop to wait (429, 503)
    retry_after: float | None = None


class HubUnreachable(SyncError):
    """The hub cannot serve this round now. This class itself: no answer at all (no link,
    a refused connection, a timeout); its subclasses say what else."""


class LinkDropped(HubUnreachable):
    """The connection died half way through a request or its answer (a 2G link dropping).

    The hub may or may not have acted; a push sent again gets its original receipts.
    """


class HubBusy(HubUnreachable):
    """The hub kept answering that it is busy (429 or 503 with `Retry-After`) for longer than
    the laptop was allowed to wait, or asked for a wait longer than that at once.

    A push refused as busy wrote nothing on the hub; every change is still in the outbox.

    :param retry_after: the hub's last `Retry-After`, in seconds (None: it gave none).
    :param waited_s: how long the laptop waited on it before giving up (0: not at all).
    :param status: the last answer's HTTP status; :param detail: the hub's own message,
        kept for a caller that knows better words (enrolment's lockout), not in the text.
    """

    def __init__(
        self, retry_after: float | None, waited_s: float = 0.0, status: int = 503, detail: str = ""
    ) -> None:
        self.retry_after = retry_after
        self.waited_s = waited_s
        self.status = status
        self.detail = detail
        if waited_s >= 1:
            text = f"Hub tetap sibuk selama {span(waited_s)}"
        elif retry_after:
            text = f"Hub sibuk dan meminta menunggu {span(retry_after)}"
        else:
            text = "Hub sibuk"
        super().__init__(f"{text}; data Anda aman di laptop.")


class HubBroken(HubUnreachable):
    """The hub answered with a fault of its own (a 5xx that is not "busy": a bug, a disk
    that failed a write, a proxy that cannot reach it).

    :param status: the HTTP status; :param slug: the hub's error code (``error`` when the
        answer named none); :param detail: the hub's message, worth showing, or ``""``.
    """

    def __init__(self, status: int, slug: str, detail: str = "") -> None:
        self.status = status
        self.slug = slug
        tail = f": {detail.strip().rstrip('.')}" if detail.strip() else ""
        super().__init__(f"Hub sedang bermasalah (HTTP {status}){tail}.")

    @property
    def code(self) -> ErrorCode | None:
        """The slug as an :class:`ErrorCode`; None for one this laptop does not know."""
        return ErrorCode.lookup(self.slug)


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
