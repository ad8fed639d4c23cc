"""Every error the hub answers, as JSON with a stable slug; never a stack trace.

Body: ``{"code": 422, "error": "invalid_field", "message": "...", "errors": {field: [...]}}``.
`error` is the stable part a client switches on; `message` is for people (Bahasa Indonesia).
The slugs, their statuses and their meanings are one enumeration,
:class:`schemas.error_codes.ErrorCode`, which docs/protocol.md's table is generated from;
:class:`ApiError` carries one of them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar

from flask import Flask, Response, jsonify
from flask_smorest import Api
from flask_smorest import Blueprint as _SmorestBlueprint
from marshmallow import fields
from werkzeug.exceptions import HTTPException, InternalServerError

from schemas.error_codes import ErrorCode
from schemas.messages import Schema

__all__ = [
    "WIRE_ERRORS",
    "ApiError",
    "ErrorSchema",
    "HubApi",
    "answer",
    "documents",
    "error_responses",
    "init_app",
]

F = TypeVar("F", bound=Callable[..., Any])

log = logging.getLogger(__name__)

#: Messages for the plain HTTP errors (no view chose a message), by their generic code.
_MESSAGES = {
    ErrorCode.BAD_REQUEST: "Permintaan tidak dapat dibaca.",
    ErrorCode.UNAUTHORIZED: "Perangkat belum terdaftar atau token tidak dikenal.",
    ErrorCode.FORBIDDEN: "Tidak diizinkan.",
    ErrorCode.NOT_FOUND: "Tidak ditemukan.",
    ErrorCode.METHOD_NOT_ALLOWED: "Metode tidak diizinkan untuk alamat ini.",
    ErrorCode.TOO_LARGE: "Badan permintaan terlalu besar.",
    ErrorCode.UNSUPPORTED_ENCODING: "Content-Encoding tidak didukung.",
    ErrorCode.INVALID_FIELD: "Ada isian yang tidak valid.",
    ErrorCode.TOO_MANY_REQUESTS: "Terlalu banyak permintaan; tunggu sebentar lalu coba lagi.",
    ErrorCode.SERVER_ERROR: "Terjadi kesalahan di hub. Data Anda aman; coba lagi nanti.",
    ErrorCode.UNAVAILABLE: "Hub sedang tidak dapat melayani; coba lagi nanti.",
}
#: The slug of a plain HTTP error whose status has no generic code.
_UNLISTED = "error"


class ApiError(HTTPException):
    """An error with a stable code, raised by the HTTP layer (views, auth, wire checks).

    ``ApiError(ErrorCode.NOT_FOUND, "Konflik tidak ditemukan.")``: the status is the code's.
    Services raise :mod:`server.exceptions` instead; :mod:`server.error_map` turns
    those into this.

    :param errors: messages by field, header or parameter name.
    :param headers: sent with the error, e.g. ``Retry-After`` on a 429 or 503.
    """

    def __init__(
        self,
        error: ErrorCode,
        message: str,
        errors: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(description=message)
        self.error = error
        self.code = error.status
        self.slug: str = error.value
        self.errors = errors
        #: sent with the error, e.g. ``Retry-After`` on a 429 or 503
        self.extra_headers = dict(headers or {})


class ErrorSchema(Schema):
    """The body of every error, as the OpenAPI description shows it (documentation only)."""

    code = fields.Integer(required=True, metadata={"description": "the HTTP status"})
    error = fields.String(
        required=True, metadata={"description": "stable slug (schemas/error_codes.py)"}
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
    if isinstance(error, ApiError):
        slug, message = error.slug, error.description
    else:
        generic = ErrorCode.generic_for(code)
        slug = generic.value if generic is not None else _UNLISTED
        # never werkzeug's English description: a laptop prints the message
        fallback = f"Permintaan tidak dapat dilayani (HTTP {code})."
        message = _MESSAGES.get(generic, fallback) if generic is not None else fallback
    body: dict[str, Any] = {"code": code, "error": slug, "message": message}
    errors = getattr(error, "errors", None)
    if errors is None:
        # flask-smorest / webargs put validation messages here, keyed by location.
        data = getattr(error, "data", None) or {}
        errors = data.get("messages")
        if isinstance(errors, dict) and len(errors) == 1:
            inner = next(iter(errors.values()))
            if isinstance(inner, dict):
                errors = inner  # {"json": {...}} -> {...}; {"json": [INVALID_JSON]} stays
    if errors:
        body["errors"] = errors
    return body, code


def _handle_http(error: HTTPException) -> Response:
    body, code = _body(error)
    response = jsonify(body)
    response.status_code = code
    for name, value in error.get_headers() if not isinstance(error, ApiError) else []:
        if name.lower() not in ("content-type", "content-length"):
            response.headers[name] = value
    response.headers.update(getattr(error, "extra_headers", {}))
    return response


def _handle_unexpected(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return _handle_http(error)
    log.exception("unhandled error")
    return _handle_http(InternalServerError())


def answer(error: HTTPException) -> Response:
    """The JSON answer to `error`, for handlers registered elsewhere (server/error_map.py)."""
    return _handle_http(error)


def init_app(app: Flask) -> None:
    """Answer every HTTP error and every unexpected exception as JSON."""
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(Exception, _handle_unexpected)
