"""`POST /api/v1/enroll`: a laptop trades a one-time code for its device token."""

from __future__ import annotations

from flask import current_app, request

from schemas.error_codes import ErrorCode
from schemas.protocol import ENROLL_ROUTE
from schemas.sync import EnrollRequestSchema, EnrollResponseSchema
from server.enrolment import redeem_code
from server.errors import ApiError, documents
from server.jsonprovider import Blueprint
from server.storage import NotFound

blp = Blueprint("enroll", __name__, description="Pendaftaran perangkat")


@blp.route(ENROLL_ROUTE, methods=["POST"])
@blp.arguments(EnrollRequestSchema)
@blp.response(201, EnrollResponseSchema)
@documents(403, 429)
def enroll(body):
    """Enrol a laptop with a code from `pendamping-hub enroll-code`; the token is shown once."""
    hub = current_app.extensions["pendamping"]
    client = request.remote_addr or "?"
    if hub.enroll_limiter is not None:
        hub.enroll_limiter.check(client)  # 429 after too many failures from this address
    try:
        device, token = redeem_code(hub.storage, body["code"], body["device_name"])
    except NotFound:
        if hub.enroll_limiter is not None:
            hub.enroll_limiter.failed(client)
        raise ApiError(
            ErrorCode.ENROLL_CODE_INVALID,
            "Kode pendaftaran tidak dikenal, sudah dipakai, atau kedaluwarsa.",
            {"code": ["Kode tidak berlaku."]},
        ) from None
    return {
        "device_id": device.device_id,
        "token": token,
        "user": device.user.name,
        "role": device.user.role,
        "wilayah": list(device.user.wilayah),
    }
