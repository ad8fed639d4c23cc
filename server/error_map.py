"""The one place a service's domain exception becomes an HTTP status and a stable slug.

Services raise :mod:`server.exceptions`; an API view lets them through and the handler
registered here answers them with the hub's usual JSON error body (server/errors.py), the
message and the per-field errors as the service gave them. A storage failure takes the
same path as :class:`~server.exceptions.Unavailable`. The pages (server/web/) read a
refusal's status here too, so this module sits beside both, not inside the API package.
"""

from __future__ import annotations

import logging

from flask import Flask, Response
from werkzeug.exceptions import InternalServerError

from schemas.error_codes import ErrorCode
from schemas.protocol import RETRY_AFTER_HEADER
from server.errors import ApiError, answer
from server.exceptions import (
    Busy,
    ChecksumMismatch,
    EnrollCodeInvalid,
    HubError,
    Invalid,
    MediaTypeMismatch,
    MediaTypeNotAllowed,
    Missing,
    NotAllowed,
    OffsetMismatch,
    OutsideScope,
    StateConflict,
    TooLarge,
    TooManyRequests,
    TryLater,
    Unavailable,
)
from server.state import hub_state
from server.storage import NotFound, StorageError

__all__ = ["HTTP_ERRORS", "code_of", "http_error", "init_app", "status_of"]

#: The error code (slug and status) per exception class; a subclass not listed takes its parent's.
HTTP_ERRORS: dict[type[HubError], ErrorCode] = {
    HubError: ErrorCode.SERVER_ERROR,
    Invalid: ErrorCode.INVALID_FIELD,
    TooLarge: ErrorCode.TOO_LARGE,
    MediaTypeNotAllowed: ErrorCode.MEDIA_TYPE_NOT_ALLOWED,
    MediaTypeMismatch: ErrorCode.MEDIA_TYPE_MISMATCH,
    ChecksumMismatch: ErrorCode.CHECKSUM_MISMATCH,
    Missing: ErrorCode.NOT_FOUND,
    NotAllowed: ErrorCode.FORBIDDEN,
    OutsideScope: ErrorCode.OUTSIDE_SCOPE,
    EnrollCodeInvalid: ErrorCode.ENROLL_CODE_INVALID,
    StateConflict: ErrorCode.CONFLICT_STATE,
    OffsetMismatch: ErrorCode.OFFSET_MISMATCH,
    TryLater: ErrorCode.STORAGE_UNAVAILABLE,
    TooManyRequests: ErrorCode.TOO_MANY_REQUESTS,
    Busy: ErrorCode.HUB_BUSY,
    Unavailable: ErrorCode.STORAGE_UNAVAILABLE,
}


def code_of(exc: HubError) -> ErrorCode:
    """The error code that answers `exc`: its class's, or the nearest listed parent's."""
    return next(HTTP_ERRORS[k] for k in type(exc).__mro__ if k in HTTP_ERRORS)


def status_of(exc: HubError) -> int:
    """The HTTP status that answers `exc` (for pages that render their own error)."""
    return code_of(exc).status


def http_error(exc: HubError) -> ApiError:
    """The HTTP error that answers `exc`: status, slug, its message, errors and headers."""
    headers = {RETRY_AFTER_HEADER: str(exc.retry_after_s)} if isinstance(exc, TryLater) else None
    return ApiError(code_of(exc), exc.message, exc.errors, headers)


log = logging.getLogger(__name__)


#: what a client hears when the hub's disk fails a write (rolled back whole)
STORAGE_FAILED = "Penyimpanan hub sedang bermasalah; tidak ada yang tersimpan. Coba lagi nanti."


def _answer(exc: HubError) -> Response:
    return answer(http_error(exc))


def _storage_failed(exc: StorageError) -> Response:
    if isinstance(exc, NotFound):  # a service should have turned it into Missing: a bug
        log.error("storage NotFound reached a view", exc_info=exc)
        return answer(InternalServerError())
    # The write was rolled back whole: nothing landed, so the laptop may simply resend.
    log.error("storage failed, request refused with 503: %s", exc)
    # Retry-After as the write gate says it: one setting, BUSY_RETRY_AFTER_S, read once.
    return _answer(Unavailable(STORAGE_FAILED, retry_after_s=hub_state().write_gate.retry_after_s))


def init_app(app: Flask) -> None:
    """Answer every domain exception a view lets through, and a storage failure."""
    app.register_error_handler(HubError, _answer)
    app.register_error_handler(StorageError, _storage_failed)
