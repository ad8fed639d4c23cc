"""Every error the hub answers, as JSON with a stable slug; never a stack trace.

Body: ``{"code": 422, "error": "invalid_field", "message": "...", "errors": {field: [...]}}``.
`error` is the stable part a client switches on; `message` is for people (Bahasa Indonesia).

===========================  ====  ==============================================
error                        code  meaning
===========================  ====  ==============================================
``bad_request``              400   the body is not JSON, or the query is malformed
``bad_gzip``                 400   a gzip body that does not inflate, or has bytes after it
``bad_length``               400   a Content-Length that is not a number
``unauthorized``             401   no token, or a token the hub does not know
``enroll_code_invalid``      403   the enrolment code is unknown, used or expired
``outside_scope``            403   a resolution would write a record outside the resolver's wilayah
``not_found``                404   no such route or thing
``method_not_allowed``       405   the route exists for another method
``offset_mismatch``          409   a tus PATCH from another offset than the hub holds
``tus_version_unsupported``  412   a tus request without ``Tus-Resumable: 1.0.0``
``too_large``                413   a body (or a photo) over the configured limits
``unsupported_encoding``     415   a Content-Encoding other than gzip
``bad_content_type``         415   a tus PATCH not sent as application/offset+octet-stream
``media_type_not_allowed``   415   a photo type the hub does not take
``media_type_mismatch``      415   a photo whose bytes are not the type it claimed
``invalid_field``            422   a field failed validation; `errors` names it
``too_many_requests``        429   one device calls too often; wait `Retry-After` seconds
``checksum_mismatch``        460   a finished photo whose bytes do not match its sha256
``server_error``             500   a bug; logged on the hub with its trace
``hub_busy``                 503   the write queue is full; wait `Retry-After` seconds
``storage_unavailable``      503   the hub's disk failed a write (rolled back) or a photo
===========================  ====  ==============================================
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar

from flask import Flask, current_app, jsonify
from flask_smorest import Api
from flask_smorest import Blueprint as _SmorestBlueprint
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException, InternalServerError

__all__ = [
    "WIRE_ERRORS",
    "ApiError",
    "ErrorSchema",
    "HubApi",
    "documents",
    "error_responses",
    "init_app",
]

F = TypeVar("F", bound=Callable[..., Any])

log = logging.getLogger(__name__)

_SLUGS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_encoding",
    422: "invalid_field",
    429: "too_many_requests",
    500: "server_error",
    503: "unavailable",
}
_MESSAGES = {
    400: "Permintaan tidak dapat dibaca.",
    401: "Perangkat belum terdaftar atau token tidak dikenal.",
    403: "Tidak diizinkan.",
    404: "Tidak ditemukan.",
    405: "Metode tidak diizinkan untuk alamat ini.",
    413: "Badan permintaan terlalu besar.",
    415: "Content-Encoding tidak didukung.",
    422: "Ada isian yang tidak valid.",
    500: "Terjadi kesalahan di hub. Data Anda aman; coba lagi nanti.",
}


class ApiError(HTTPException):
    """An error with a stable slug, raised by views and services that know the HTTP code."""

    def __init__(
        self,
        code: int,
        slug: str,
        message: str,
        errors: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(description=message)
        self.code = code
        self.slug = slug
        self.errors = errors
        #: sent with the error, e.g. ``Retry-After`` on a 429 or 503
        self.extra_headers = dict(headers or {})


class ErrorSchema(Schema):
    """The body of every error, as the OpenAPI description shows it (documentation only)."""

    code = fields.Integer(required=True, metadata={"description": "the HTTP status"})
    error = fields.String(
        required=True, metadata={"description": "stable slug (table in server/errors.py)"}
    )
    message = fields.String(required=True, metadata={"description": "for people, in Indonesian"})
    errors = fields.Dict(
        keys=fields.String(),
        metadata={"description": "messages by field, header or parameter name"},
    )


#: What any request may be answered: before its view runs, a body that is not gzip or JSON
#: (400), too large (413), or in another Content-Encoding (415), see server/wire.py; and
#: 503 `storage_unavailable` when the hub's disk fails a write (rolled back; try again).
WIRE_ERRORS: tuple[int, ...] = (400, 413, 415, 503)

#: Statuses outside :class:`http.HTTPStatus`, documented by a response of their own.
_OWN_RESPONSES = {460: ("CHECKSUM_MISMATCH", "Checksum Mismatch")}


def error_responses(*codes: int) -> dict[int, str]:
    """OpenAPI responses (by component name) for these error statuses, all :class:`ErrorSchema`."""
    return {
        code: _OWN_RESPONSES[code][0] if code in _OWN_RESPONSES else HTTPStatus(code).name
        for code in codes
    }


def documents(*codes: int) -> Callable[[F], F]:
    """Decorator: the view may answer these error statuses; the OpenAPI description says so."""
    return _SmorestBlueprint.doc(responses=error_responses(*codes))


class HubApi(Api):
    """flask-smorest's Api documenting the hub's error body, and only the errors each
    operation can answer (no catch-all `default`: a status the spec does not list is a bug
    that the schemathesis run in tests/server/test_openapi_fuzz.py reports)."""

    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_responses(self) -> None:
        super()._register_responses()
        for name, description in _OWN_RESPONSES.values():
            self.spec.components.response(
                name,
                {
                    "description": description,
                    "content": {"application/json": {"schema": self.ERROR_SCHEMA}},
                },
                lazy=True,
            )


def _body(error: HTTPException) -> tuple[dict[str, Any], int]:
    code = error.code or 500
    body: dict[str, Any] = {
        "code": code,
        "error": getattr(error, "slug", None) or _SLUGS.get(code, "error"),
        "message": _MESSAGES.get(code, error.description or "")
        if not isinstance(error, ApiError)
        else error.description,
    }
    errors = getattr(error, "errors", None)
    if errors is None:
        # flask-smorest / webargs put validation messages here, keyed by location.
        data = getattr(error, "data", None) or {}
        errors = data.get("messages")
        if isinstance(errors, dict) and len(errors) == 1:
            inner = next(iter(errors.values()))
            if isinstance(inner, dict):
                errors = inner  # {"json": {...}} -> {...}; {"json": ["Invalid JSON body."]} stays
    if errors:
        body["errors"] = errors
    return body, code


def _handle_http(error: HTTPException):
    body, code = _body(error)
    response = jsonify(body)
    response.status_code = code
    for name, value in error.get_headers() if not isinstance(error, ApiError) else []:
        if name.lower() not in ("content-type", "content-length"):
            response.headers[name] = value
    response.headers.update(getattr(error, "extra_headers", {}))
    return response


def _handle_unexpected(error: Exception):
    if isinstance(error, HTTPException):
        return _handle_http(error)
    from server.storage import NotFound, StorageError

    if isinstance(error, StorageError) and not isinstance(error, NotFound):
        # The write was rolled back whole: nothing landed, so the laptop may simply resend.
        log.error("storage failed, request refused with 503: %s", error)
        return _handle_http(
            ApiError(
                503,
                "storage_unavailable",
                "Penyimpanan hub sedang bermasalah; tidak ada yang tersimpan. Coba lagi nanti.",
                headers={"Retry-After": str(current_app.config.get("BUSY_RETRY_AFTER_S", 5))},
            )
        )
    log.exception("unhandled error")
    return _handle_http(InternalServerError())


def init_app(app: Flask) -> None:
    """Answer every HTTP error and every unexpected exception as JSON."""
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(Exception, _handle_unexpected)
