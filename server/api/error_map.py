"""The one place a service's domain exception becomes an HTTP status and a stable slug.

Services raise :mod:`server.exceptions`; a view lets them through and the handler
registered here answers them with the hub's usual JSON error body (server/errors.py), the
message and the per-field errors as the service gave them.
"""

from __future__ import annotations

from flask import Flask, Response, current_app

from server.errors import ApiError
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

__all__ = ["HTTP_ERRORS", "http_error", "init_app", "status_of"]

#: Status and slug per exception class; a subclass not listed takes its parent's.
HTTP_ERRORS: dict[type[HubError], tuple[int, str]] = {
    HubError: (500, "server_error"),
    Invalid: (422, "invalid_field"),
    TooLarge: (413, "too_large"),
    MediaTypeNotAllowed: (415, "media_type_not_allowed"),
    MediaTypeMismatch: (415, "media_type_mismatch"),
    ChecksumMismatch: (460, "checksum_mismatch"),
    Missing: (404, "not_found"),
    NotAllowed: (403, "forbidden"),
    OutsideScope: (403, "outside_scope"),
    EnrollCodeInvalid: (403, "enroll_code_invalid"),
    StateConflict: (409, "conflict_state"),
    OffsetMismatch: (409, "offset_mismatch"),
    TryLater: (503, "storage_unavailable"),
    TooManyRequests: (429, "too_many_requests"),
    Busy: (503, "hub_busy"),
    Unavailable: (503, "storage_unavailable"),
}


def _status_and_slug(exc: HubError) -> tuple[int, str]:
    return next(HTTP_ERRORS[k] for k in type(exc).__mro__ if k in HTTP_ERRORS)


def status_of(exc: HubError) -> int:
    """The HTTP status that answers `exc` (for pages that render their own error)."""
    return _status_and_slug(exc)[0]


def http_error(exc: HubError) -> ApiError:
    """The HTTP error that answers `exc`: status, slug, its message, errors and headers."""
    code, slug = _status_and_slug(exc)
    headers = {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, TryLater) else None
    return ApiError(code, slug, exc.message, exc.errors, headers)


def _answer(exc: HubError) -> Response:
    return current_app.handle_http_exception(http_error(exc))  # type: ignore[return-value]


def init_app(app: Flask) -> None:
    """Answer every domain exception a view lets through."""
    app.register_error_handler(HubError, _answer)
