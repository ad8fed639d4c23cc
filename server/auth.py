"""Bearer-token authentication of laptops. The hub stores only a SHA-256 of each token.

Tokens are 256 random bits, so a fast hash is enough: nobody can guess one to test against
the hashes, and every API call can afford to check one.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from flask import g, request

from schemas.error_codes import ErrorCode
from server.errors import ApiError, documents
from server.state import hub_state
from server.storage import Device, NotFound

__all__ = ["current_device", "hash_secret", "new_token", "require_device"]

F = TypeVar("F", bound=Callable[..., Any])


def new_token() -> str:
    """A fresh device token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """The hex SHA-256 of a token or enrolment code, as stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def current_device() -> Device:
    """The device that made the current request (set by :func:`require_device`)."""
    return g.device


def require_device(view: F) -> F:
    """Refuse the request with 401 unless it carries a live device token (429 when the
    device calls too often); the OpenAPI description of the view lists both."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(ErrorCode.UNAUTHORIZED, "Header Authorization: Bearer <token> wajib.")
        hub = hub_state()
        try:
            device = hub.storage.device_by_token(hash_secret(token.strip()))
        except NotFound:
            raise ApiError(ErrorCode.UNAUTHORIZED, "Token perangkat tidak dikenal.") from None
        if device.revoked_at:
            raise ApiError(ErrorCode.DEVICE_REVOKED, "Perangkat ini sudah dicabut oleh kantor.")
        hub.rate_limiter.take(device.device_id)
        g.device = device
        return view(*args, **kwargs)

    return documents(401, 429)(wrapper)  # type: ignore[return-value]
