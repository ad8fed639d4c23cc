"""The sync protocol's constants, written once: versions, paths, headers and limits.

The hub registers its routes and checks its inputs with these, and the laptop builds its
requests with them, so a path, a header name or a limit cannot drift between the two sides.
The bodies themselves are the marshmallow schemas of :mod:`schemas.sync`; the pull page's
hand-assembled text is :mod:`schemas.pull_page`, the error slugs :mod:`schemas.error_codes`,
the USB bundle :mod:`schemas.bundle_format`. docs/protocol.md describes all of it in prose.
"""

from __future__ import annotations

__all__ = [
    "API_PREFIX",
    "ATTACHMENTS_PATH",
    "ATTACHMENTS_ROUTE",
    "AUTHOR_ID_MAX",
    "CLIENT_HEADER",
    "CLIENT_VERSION_MAX",
    "CONFLICTS_ROUTE",
    "DEVICE_ID_MAX",
    "DEVICE_NAME_MAX",
    "ENROLL_CODE_MAX",
    "ENROLL_CODE_MIN",
    "ENROLL_PATH",
    "ENROLL_ROUTE",
    "HEALTH_PATH",
    "HEALTH_ROUTE",
    "MAX_SEQ",
    "PROTOCOL_VERSION",
    "PULL_LIMIT_DEFAULT",
    "PULL_LIMIT_MAX",
    "PULL_PATH",
    "PULL_ROUTE",
    "PUSH_PATH",
    "PUSH_ROUTE",
    "QUEUE_HEADER",
    "RECEIPTS_MAX_IDS",
    "RECEIPTS_PATH",
    "RECEIPTS_ROUTE",
    "RETRY_AFTER_HEADER",
    "SCHEMA_VERSION",
    "TUS_EXTENSION_HEADER",
    "TUS_LENGTH_HEADER",
    "TUS_MAX_SIZE_HEADER",
    "TUS_METADATA_HEADER",
    "TUS_OFFSET_HEADER",
    "TUS_PATCH_CONTENT_TYPE",
    "TUS_RESUMABLE_HEADER",
    "TUS_VERSION",
    "TUS_VERSION_HEADER",
]

# -- versions ---------------------------------------------------------------------------------

#: The `protocol` of a push body and of `GET /health`; a hub refuses any other.
PROTOCOL_VERSION = 1
#: The record schemas' version, sent with every push and answered by `GET /health`.
SCHEMA_VERSION = 1

# -- paths ------------------------------------------------------------------------------------

#: Every JSON API route lives under this prefix (the hub's blueprints are registered on it).
API_PREFIX = "/api/v1"
HEALTH_ROUTE = "/health"
ENROLL_ROUTE = "/enroll"
PUSH_ROUTE = "/sync/push"
PULL_ROUTE = "/sync/pull"
RECEIPTS_ROUTE = "/sync/receipts"
CONFLICTS_ROUTE = "/conflicts"
ATTACHMENTS_ROUTE = "/attachments"

#: The same routes as the laptop calls them.
HEALTH_PATH = API_PREFIX + HEALTH_ROUTE
ENROLL_PATH = API_PREFIX + ENROLL_ROUTE
PUSH_PATH = API_PREFIX + PUSH_ROUTE
PULL_PATH = API_PREFIX + PULL_ROUTE
RECEIPTS_PATH = API_PREFIX + RECEIPTS_ROUTE
ATTACHMENTS_PATH = API_PREFIX + ATTACHMENTS_ROUTE

# -- headers ----------------------------------------------------------------------------------

#: The laptop's client version, on every call (server/reports.py keeps it on the device).
CLIENT_HEADER = "Pendamping-Client"
#: How many changes still wait on the laptop, on every call once known.
QUEUE_HEADER = "Pendamping-Queue"
#: Seconds to wait, with a 429 or a 503 (never an HTTP date).
RETRY_AFTER_HEADER = "Retry-After"
#: tus 1.0: every photo upload request and answer names the protocol version.
TUS_RESUMABLE_HEADER = "Tus-Resumable"
TUS_VERSION = "1.0.0"
#: tus 1.0: the versions a hub speaks (`OPTIONS`, and a 412 answer), its extensions and the
#: largest upload it takes (`OPTIONS`).
TUS_VERSION_HEADER = "Tus-Version"
TUS_EXTENSION_HEADER = "Tus-Extension"
TUS_MAX_SIZE_HEADER = "Tus-Max-Size"
#: tus 1.0: an upload's size (`POST`, `HEAD`), the bytes the hub holds (`HEAD`, `PATCH`),
#: and the upload's `key base64(value)` pairs (`POST`).
TUS_LENGTH_HEADER = "Upload-Length"
TUS_OFFSET_HEADER = "Upload-Offset"
TUS_METADATA_HEADER = "Upload-Metadata"
#: tus 1.0: the Content-Type of every `PATCH` body.
TUS_PATCH_CONTENT_TYPE = "application/offset+octet-stream"

# -- limits -----------------------------------------------------------------------------------

#: The largest hub seq (a signed 64-bit SQLite integer): `base_seq`, `since`.
MAX_SEQ = 2**63 - 1
#: A device id's length; it is also the node of every HLC the device makes.
DEVICE_ID_MAX = 64
#: An author id's length.
AUTHOR_ID_MAX = 100
#: A pull page's size when the laptop names none, and the most it may ask for.
PULL_LIMIT_DEFAULT = 500
PULL_LIMIT_MAX = 5000
#: The most change ids one receipts request may ask about.
RECEIPTS_MAX_IDS = 5000
#: An enrolment code's length as typed (dashes and spaces included), and a device name's.
ENROLL_CODE_MIN = 4
ENROLL_CODE_MAX = 64
DEVICE_NAME_MAX = 100
#: What the hub keeps of a `Pendamping-Client` header.
CLIENT_VERSION_MAX = 40
