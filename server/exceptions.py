"""What the hub's services refuse, as domain exceptions that know nothing of HTTP.

Services (conflicts, enrolment, attachments, bundles, users, devices, roles and scope)
raise these; the HTTP layer maps them to a status and a slug in one place,
:mod:`server.error_map`, the CLI maps them to an exit code in :mod:`server.cli.errors`, and
the web pages show their `message`. Every exception carries `message` (Bahasa Indonesia,
for people) and `errors`, the messages by field, header or parameter name (or None)::

    HubError                     a refusal a service makes on purpose
     ├── Invalid                 a value or choice that breaks a rule
     │    ├── TooLarge           a photo (or its bytes) over the hub's limit
     │    ├── MediaTypeNotAllowed  a photo type the hub does not take
     │    ├── MediaTypeMismatch  a photo whose bytes are not the type it claimed
     │    ├── ChecksumMismatch   a finished photo whose bytes do not match its sha256
     │    └── BundleRefused      a USB bundle refused whole; `.slug` (BundleRefusal) says why
     ├── Missing                 no such thing, or none the caller may see
     ├── NotAllowed              the caller's role may not do this
     │    ├── OutsideScope       it would touch data outside the caller's wilayah
     │    └── EnrollCodeInvalid  an enrolment code unknown, used or expired
     ├── StateConflict           the thing is no longer in a state that allows it
     │    ├── NameTaken          a name (a user) that is taken already
     │    └── OffsetMismatch     a photo upload resumed from another offset than the hub's
     └── TryLater                not now; `retry_after_s` says when to try again
          ├── TooManyRequests    one caller (a device, an address) calls too often
          ├── Busy               the write queue is full
          └── Unavailable        the hub's disk cannot keep it now; nothing was lost

Storage failures are a tree of their own in :mod:`server.storage` (``StorageError``,
``NotFound``, ``AlreadyExists``): a service catches ``NotFound`` and raises one of these.
"""

from __future__ import annotations

from typing import Self

from schemas.bundle_format import BundleRefusal

__all__ = [
    "BundleRefused",
    "Busy",
    "ChecksumMismatch",
    "EnrollCodeInvalid",
    "HubError",
    "Invalid",
    "MediaTypeMismatch",
    "MediaTypeNotAllowed",
    "Missing",
    "NameTaken",
    "NotAllowed",
    "OffsetMismatch",
    "OutsideScope",
    "StateConflict",
    "TooLarge",
    "TooManyRequests",
    "TryLater",
    "Unavailable",
]


class HubError(Exception):
    """Base of every refusal a hub service makes on purpose.

    :param message: for people, in Bahasa Indonesia.
    :param errors: messages by field, header or parameter name.
    """

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors

    @classmethod
    def on(cls, field: str, message: str) -> Self:
        """The refusal naming `field`, with `message` as its one error."""
        return cls(message, {field: [message]})


class Invalid(HubError):
    """A value or a choice that breaks a rule; `errors` names the field."""


class TooLarge(Invalid):
    """More bytes than the hub takes."""


class MediaTypeNotAllowed(Invalid):
    """A photo type the hub does not take."""


class MediaTypeMismatch(Invalid):
    """A photo whose first bytes are not the type it claimed."""


class ChecksumMismatch(Invalid):
    """A finished photo whose bytes do not match its sha256."""


class BundleRefused(Invalid):
    """A USB bundle refused before anything was written: the message (Bahasa Indonesia)
    names the problem, `slug` is stable for scripts (docs/bundles.md)."""

    def __init__(self, slug: BundleRefusal, message: str) -> None:
        super().__init__(message)
        self.slug = slug


class Missing(HubError):
    """No such thing, or none the caller may see (the two are not told apart)."""


class NotAllowed(HubError):
    """The caller's role may not do this."""

    def __init__(
        self, message: str = "Tidak diizinkan.", errors: dict[str, list[str]] | None = None
    ) -> None:
        super().__init__(message, errors)


class OutsideScope(NotAllowed):
    """It would read or write data outside the caller's wilayah."""


class EnrollCodeInvalid(NotAllowed):
    """An enrolment code that is unknown, used or expired."""


class StateConflict(HubError):
    """The thing is no longer in a state that allows it (settled already, gone)."""


class NameTaken(StateConflict):
    """A name that is taken already (a user added twice)."""


class OffsetMismatch(StateConflict):
    """A photo upload resumed from another offset than the hub holds."""


class TryLater(HubError):
    """Not now: the caller may try again after `retry_after_s` seconds."""

    def __init__(
        self,
        message: str,
        errors: dict[str, list[str]] | None = None,
        *,
        retry_after_s: int,
    ) -> None:
        super().__init__(message, errors)
        self.retry_after_s = retry_after_s


class TooManyRequests(TryLater):
    """One caller (a device, a client address) calls too often."""


class Busy(TryLater):
    """The write queue is full; the hub keeps its threads free for reads."""


class Unavailable(TryLater):
    """The hub cannot keep it now (its disk failed); nothing is lost."""
